@testable import SLMEngine
import XCTest

/// The workload parser: every line checked before anything runs, faults reported by line number.
final class CostWorkloadTests: XCTestCase {
    func error(_ text: String) -> CostError? {
        do { _ = try Workload.parse(text); return nil } catch { return error }
    }

    func testParsesEveryFormAndCountsLinesAsAnEditorDoes() throws {
        let text = """
            {"system": "S", "user": "U1", "max_tokens": 16}

            {"messages": [{"role": "developer", "content": "S"}, {"role": "user", "content": "U2"}], "max_tokens": 8, "think_budget": 4, "id": 7}
            {"user": "U3", "max_tokens": 32, "json_schema": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}}\r
            """
        let r = try Workload.parse(text)
        XCTAssertEqual(r.map(\.line), [1, 3, 4])
        XCTAssertEqual(r[0].messages, [.system("S"), .user("U1")])
        XCTAssertEqual(r[1].messages, [.system("S"), .user("U2")])
        XCTAssertEqual(r[1].thinkBudget, 4)
        XCTAssertEqual(r[1].id, "7")
        XCTAssertNotNil(r[2].grammar)
        XCTAssertEqual(r[2].maxTokens, 32)
        XCTAssertEqual(r[0].characters, 3)
    }

    func testMalformedLineIsReportedByNumberAndNothingIsReturned() {
        let text = """
            {"user": "a", "max_tokens": 4}
            {"user": "b", "max_tokens": 4}

            {"user": "c", "max_tokens": 4
            {"user": "d", "max_tokens": 4}
            """
        guard case .workloadLine(let line, let problem)? = error(text) else { return XCTFail("accepted") }
        XCTAssertEqual(line, 4)
        XCTAssertTrue(problem.hasPrefix("not JSON"), problem)
    }

    func testFieldFaults() {
        XCTAssertEqual(error(#"{"user": "a"}"#), .workloadLine(line: 1, problem: "missing 'max_tokens'"))
        XCTAssertEqual(error(#"{"user": "a", "max_tokens": 0}"#), .workloadLine(line: 1, problem: "'max_tokens' must be a whole number in 1...1000000"))
        XCTAssertEqual(error(#"{"user": "a", "max_tokens": 1e300}"#), .workloadLine(line: 1, problem: "'max_tokens' must be a whole number in 1...1000000"))
        XCTAssertEqual(error(#"{"user": "a", "max_tokens": 2.5}"#), .workloadLine(line: 1, problem: "'max_tokens' must be a whole number in 1...1000000"))
        XCTAssertEqual(error(#"{"system": "s", "max_tokens": 2}"#), .workloadLine(line: 1, problem: "missing 'user' (or 'messages')"))
        XCTAssertEqual(error(#"{"user": 5, "max_tokens": 2}"#), .workloadLine(line: 1, problem: "'user' must be a string"))
        XCTAssertEqual(error(#"{"user": "a", "max_tokens": 2, "think_budget": -1}"#),
                       .workloadLine(line: 1, problem: "'think_budget' must be a whole number in 0...1000000"))
        XCTAssertEqual(error(#"{"user": "a", "messages": [{"role": "user", "content": "x"}], "max_tokens": 2}"#),
                       .workloadLine(line: 1, problem: "give 'messages', or 'system' and 'user', not both"))
        XCTAssertEqual(error(#"{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}], "max_tokens": 2}"#),
                       .workloadLine(line: 1, problem: "the last message must be the user's"))
        guard case .workloadLine(1, let unknown)? = error(#"{"user": "a", "max_token": 2}"#) else { return XCTFail() }
        XCTAssertTrue(unknown.hasPrefix("unknown field 'max_token'"), unknown)
        guard case .workloadLine(2, let schema)? = error("{\"user\": \"a\", \"max_tokens\": 2}\n{\"user\": \"a\", \"max_tokens\": 2, \"json_schema\": {\"type\": \"nonsense\"}}") else {
            return XCTFail("a schema that does not compile must be refused")
        }
        XCTAssertTrue(schema.hasPrefix("json_schema: "), schema)
        XCTAssertEqual(error("\n  \n"), .workload("no requests (one JSON object per line)"))
    }
}
