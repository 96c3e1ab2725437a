import XCTest
@testable import SLMEngine

/// Shortest completions: `minBytes` against a breadth-first search over every byte (the slow, obviously right twin),
/// and `shortestCompletion` finishing every prefix of sample texts in exactly that many bytes.
final class GrammarLengthTests: XCTestCase {
    /// Fewest bytes from `s` to a complete match, by trying every byte at every depth (states deduplicated).
    func bruteForce(_ g: Grammar, _ s: GrammarState, limit: Int) -> Int? {
        var frontier: Set<GrammarState> = [s]
        var seen = frontier
        for depth in 0...limit {
            if frontier.contains(where: g.canEnd) { return depth }
            var next = Set<GrammarState>()
            for st in frontier {
                for b in 0...255 {
                    if let n = g.advance(st, byte: UInt8(b)), seen.insert(n).inserted { next.insert(n) }
                }
            }
            frontier = next
        }
        return nil
    }

    func testMinBytesOfSmallGrammars() throws {
        let cases: [(String, Int)] = [
            (#"root ::= "abc" | "de""#, 2),
            (#"root ::= [a-z]+ "!""#, 2),
            (#"root ::= "(" root ")" | "x""#, 1),
            ("root ::= [\u{E9}]", 2),
            ("root ::= a b\na ::= \"x\"*\nb ::= \"yy\" | c\nc ::= \"z\"", 1),
            (#"root ::= "[" (root ("," root)*)? "]""#, 2),
            (#"root ::= "q" [0-9]{3,5} ("." [0-9]+)?"#, 4),
            ("root ::= x x x\nx ::= \"ab\" | y\ny ::= \"c\" y | \"d\"", 3),
        ]
        for (source, want) in cases {
            let g = try Grammar(gbnf: source)
            XCTAssertEqual(g.minBytes, want, source)
            XCTAssertEqual(bruteForce(g, g.initialState, limit: want + 1), want, source)
            let c = try XCTUnwrap(g.shortestCompletion(g.initialState), source)
            XCTAssertEqual(c.count, want, source)
            XCTAssertTrue(g.canEnd(try XCTUnwrap(g.advance(g.initialState, bytes: c))), source)
        }
    }

    /// Every prefix of each sample (every byte boundary, inside UTF-8 characters too): the completion is minBytes
    /// long, makes the text complete, and no shorter completion exists (brute force where it is cheap).
    func testShortestCompletionOfEveryPrefix() throws {
        let json = try Grammar(gbnf: JSONSchemaGrammar.anyValueGBNF)
        let schema = try JSONSchemaGrammar.grammar(schema: #"{"type":"object","properties":{"name":{"type":"string","minLength":2,"maxLength":8},"tags":{"type":"array","items":{"enum":["red","green"]},"minItems":2},"n":{"type":"integer","minimum":-40,"maximum":1200}},"required":["name","tags","n"]}"#)
        let samples: [(Grammar, String)] = [
            (json, #"{"a": [1, 2.5e3, "x\u00e9y\n"], "b": {"c": null, "d": true}}"#),
            (json, "[\n  \"h\u{E9}\u{1F600}\",\n  -0.25\n]"),
            (schema, #"{"name":"Zo\u00e9","tags":["green","red","red"],"n":-7}"#),
            (schema, "{ \"name\": \"\u{E9}t\u{E9}\", \"tags\": [\"red\", \"red\"], \"n\": 1199 }"),
        ]
        for (g, text) in samples {
            let bytes = Array(text.utf8)
            XCTAssertTrue(g.matches(text), text)
            for k in 0...bytes.count {
                let s = try XCTUnwrap(g.advance(g.initialState, bytes: bytes[0..<k]), "\(text) prefix \(k)")
                let c = try XCTUnwrap(g.shortestCompletion(s), "\(text) prefix \(k)")
                XCTAssertEqual(c.count, g.minBytes(s), "\(text) prefix \(k)")
                let end = try XCTUnwrap(g.advance(s, bytes: c), "\(text) prefix \(k): completion refused")
                XCTAssertTrue(g.canEnd(end), "\(text) prefix \(k)")
                if c.count <= 3 { XCTAssertEqual(bruteForce(g, s, limit: 4), c.count, "\(text) prefix \(k)") }
            }
        }
    }

    func testUnproductiveAlternativesAreNeverChosen() throws {
        // 'dead' can never finish (it needs itself); the shortest completion must take the other way.
        let g = try Grammar(gbnf: "root ::= dead | \"long\"\ndead ::= \"d\" dead")
        XCTAssertEqual(g.minBytes, 4)
        XCTAssertEqual(g.shortestCompletion(g.initialState), Array("long".utf8))
        let s = try XCTUnwrap(g.advance(g.initialState, bytes: Array("d".utf8)))
        XCTAssertEqual(g.minBytes(s), GrammarLengths.unreachable)
        XCTAssertNil(g.shortestCompletion(s))
    }
}
