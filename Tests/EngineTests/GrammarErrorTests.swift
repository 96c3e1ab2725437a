import XCTest
@testable import SLMEngine

/// Malformed and hostile grammars: each gives its error (with line and column where there is one), never a crash.
final class GrammarErrorTests: XCTestCase {
    func expect(_ source: String, _ check: (GrammarError) -> Bool, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try Grammar(gbnf: source)
            XCTFail("accepted: \(source.prefix(80).debugDescription)", file: file, line: line)
        } catch {
            XCTAssertTrue(check(error), "wrong error \(error) for \(source.prefix(80).debugDescription)", file: file, line: line)
        }
    }

    func testSyntaxErrorsCarryLineAndColumn() {
        expect("root ::= \"abc") { if case .syntax(1, 10, let m) = $0 { return m.contains("unterminated") } else { return false } }
        expect("root ::= x\nx ::= [a-") { if case .syntax(2, 7, _) = $0 { return true } else { return false } }
        expect("root ::= \"a\"\n  bad rule") { if case .syntax(2, 7, _) = $0 { return true } else { return false } }
        expect("root := \"a\"") { if case .syntax(1, 6, let m) = $0 { return m.contains("::=") } else { return false } }
        expect("root ::= (\"a\"") { if case .syntax(1, 14, let m) = $0 { return m.contains(")") } else { return false } }
        expect("root ::= \"\\q\"") { if case .syntax(1, 11, let m) = $0 { return m.contains("escape") } else { return false } }
        expect("root ::= \"a\"{3,1}") { if case .syntax(1, 13, _) = $0 { return true } else { return false } }
        expect("root ::= [z-a]") { if case .syntax(1, 13, _) = $0 { return true } else { return false } }
        expect("root ::= \"\\xZZ\"") { if case .syntax(1, 13, _) = $0 { return true } else { return false } }
    }

    func testUndefinedDuplicateAndMissingRoot() {
        expect("root ::= a b\na ::= \"x\"") { $0 == .undefinedRule(name: "b", line: 1, column: 12) }
        expect("root ::= \"a\"\nroot ::= \"b\"") { $0 == .duplicateRule(name: "root", line: 2, column: 1) }
        expect("start ::= \"a\"") { $0 == .missingRoot }
        expect("") { $0 == .missingRoot }
    }

    func testLeftRecursion() {
        expect("root ::= root \"a\" | \"b\"") { $0 == .leftRecursion(rule: "root") }
        expect("root ::= a\na ::= b \"x\"\nb ::= e a\ne ::= \"\" | \"y\"") {
            if case .leftRecursion = $0 { return true } else { return false }
        }
        expect("root ::= (\"a\"?)*") { if case .leftRecursion = $0 { return true } else { return false } }
    }

    func testMatchesNothing() {
        expect("root ::= a\na ::= \"x\" a") { $0 == .matchesNothing(rule: "root") }
        expect("root ::= [^\\x00-\\U0010FFFF]") { $0 == .matchesNothing(rule: "root") }
    }

    func testHostileNestingAndSize() {
        let deep = "root ::= " + String(repeating: "(", count: 100_000) + "\"a\"" + String(repeating: ")", count: 100_000)
        expect(deep) { if case .syntax(_, _, let m) = $0 { return m.contains("nested") } else { return false } }
        expect("root ::= \"a\"{10001}") { if case .syntax = $0 { return true } else { return false } }
        // Nested repetition stays small (a repeated group is one rule, copies are references); sheer size does not.
        XCTAssertNoThrow(try Grammar(gbnf: "root ::= ((\"a\"{1000}){1000}){1000}"))
        expect("root ::= \"" + String(repeating: "a", count: 1_050_000) + "\"") { if case .tooLarge = $0 { return true } else { return false } }
        expect("root ::= \"a\"" + String(repeating: "?", count: 50)) { if case .syntax = $0 { return true } else { return false } }
    }
}
