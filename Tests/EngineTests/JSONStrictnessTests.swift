import Foundation
import XCTest
@testable import SLMEngine

/// Every string rule of every JSON grammar (`--json`, schema strings with and without bounds, patterns, formats,
/// enums, free keys of additionalProperties) refuses raw U+0000-U+001F and lone surrogate escapes and keeps the
/// escapes RFC 8259 allows; whitespace between tokens is bounded.
final class JSONStrictnessTests: XCTestCase {
    /// (grammar, a wrapper putting string content where the grammar reads a string).
    func stringSites() throws -> [(String, Grammar, (String) -> String)] {
        [
            ("--json", try Grammar(gbnf: JSONSchemaGrammar.anyValueGBNF), { "\"" + $0 + "\"" }),
            ("--json key", try Grammar(gbnf: JSONSchemaGrammar.anyValueGBNF), { "{\"" + $0 + "\":1}" }),
            ("string", try JSONSchemaGrammar.grammar(schema: #"{"type":"string"}"#), { "\"" + $0 + "\"" }),
            ("maxLength", try JSONSchemaGrammar.grammar(schema: #"{"type":"string","minLength":1,"maxLength":12}"#), { "\"" + $0 + "\"" }),
            ("pattern", try JSONSchemaGrammar.grammar(schema: #"{"type":"string","pattern":"^a.*b$"}"#), { "\"" + $0 + "\"" }),
            ("extra key", try JSONSchemaGrammar.grammar(schema: #"{"type":"object","properties":{"k":{"type":"integer"}},"additionalProperties":{"type":"integer"}}"#), { "{\"" + $0 + "\":1}" }),
        ]
    }

    func testRawControlCharactersAreRefusedEverywhere() throws {
        for (name, g, wrap) in try stringSites() {
            XCTAssertTrue(g.matches(wrap("ab")), name)
            for cp in UInt32(0)...0x1F {
                let text = wrap("a" + String(Character(Unicode.Scalar(cp)!)) + "b")
                XCTAssertFalse(g.matches(text), "\(name): raw U+\(String(cp, radix: 16)) accepted")
                // The state inside the string refuses the byte itself (so no token can carry it).
                let marked = Array(wrap("a\u{E000}").utf8)
                let inside = marked[0..<marked.firstIndex(of: 0xEE)!]   // up to "a": U+E000 is EE 80 80
                let s = try XCTUnwrap(g.advance(g.initialState, bytes: inside), name)
                XCTAssertNil(g.advance(s, byte: UInt8(cp)), "\(name): U+\(String(cp, radix: 16))")
            }
        }
    }

    func testEscapes() throws {
        let g = try Grammar(gbnf: JSONSchemaGrammar.anyValueGBNF)
        let schema = try JSONSchemaGrammar.grammar(schema: #"{"type":"string","maxLength":3}"#)
        for ok in [#""a\"b""#, #""\\""#, #""\/\b\f\n\r\t""#, #""\u0001\u001F\u00e9""#, #""\ud83d\ude00""#, #""\uD83D\uDE00x""#, #""\uFFFF\uE000""#] {
            XCTAssertTrue(g.matches(ok), ok)
            let strict = try? JSONSerialization.jsonObject(with: Data(ok.utf8), options: .fragmentsAllowed)
            XCTAssertNotNil(strict, "Foundation rejects \(ok)")
        }
        for bad in [#""\x41""#, #""\a""#, #""\u12""#, #""\ud83d""#, #""\ude00""#, #""\ud83dx""#, #""\ud83d\u0041""#, #""\""#, #""\U0001F600""#] {
            XCTAssertFalse(g.matches(bad), bad)
        }
        // A surrogate pair is one character against maxLength, as a JSON Schema validator counts code points.
        XCTAssertTrue(schema.matches(#""\ud83d\ude00ab""#))
        XCTAssertFalse(schema.matches(#""\ud83d\ude00abc""#))
    }

    func testWhitespaceIsBounded() throws {
        let any = try Grammar(gbnf: JSONSchemaGrammar.anyValueGBNF)
        let schema = try JSONSchemaGrammar.grammar(schema: #"{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"array","items":{"type":"integer"}}},"required":["a"]}"#)
        for g in [any, schema] {
            for ok in [#"{"a":1}"#, #"{"a": 1, "b": [1, 2]}"#, "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    2\n  ]\n}", #"{ "a": 1 }"#, "{\"a\":1,\"b\":[]}", "{\"a\":1,\"b\":[ ]}",
                       "{\n\t\"a\":1}", "{" + "\n" + String(repeating: " ", count: 20) + "\"a\":1}"] {
                XCTAssertTrue(g.matches(ok), ok)
            }
            for bad in ["{\n\n\"a\":1}", "{\"a\":1\n,\"b\":[]}", "{\"a\" :1}", "{\"a\":  1}", "{\"a\":1,\"b\":[1 ,2]}", "{\"a\":1,\"b\":[1,\n\n2]}",
                        "{  \"a\":1}", "{" + "\n" + String(repeating: " ", count: 21) + "\"a\":1}", " {\"a\":1}", "{\"a\":1} ", "{\"a\":1,\"b\":[\n\n]}"] {
                XCTAssertFalse(g.matches(bad), bad.debugDescription)
            }
        }
    }

    func testNumbersAreFiniteDoubles() throws {
        let g = try Grammar(gbnf: JSONSchemaGrammar.anyValueGBNF)
        let biggest = "-9999999999999999.9999999999999999e+99"
        for ok in ["1e99", "0.5E-99", biggest] {
            XCTAssertTrue(g.matches(ok), ok)
            let v = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(ok.utf8), options: .fragmentsAllowed) as? NSNumber, ok)
            XCTAssertTrue(v.doubleValue.isFinite, ok)
        }
        for bad in ["1e100", "1e+308", "1e"] { XCTAssertFalse(g.matches(bad), bad) }
    }
}
