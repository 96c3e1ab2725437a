import XCTest
@testable import SLMEngine

/// JSON Schema to grammar without a model: accept/reject tables, integer ranges checked exhaustively against
/// arithmetic, and errors for what is not supported.
final class JSONSchemaConversionTests: XCTestCase {
    func grammar(_ schema: String) throws -> Grammar { try JSONSchemaGrammar.grammar(schema: schema) }

    func check(_ schema: String, accept: [String], reject: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let g = try grammar(schema)
        for s in accept { XCTAssertTrue(g.matches(s), "\(schema) should accept \(s)", file: file, line: line) }
        for s in reject { XCTAssertFalse(g.matches(s), "\(schema) should reject \(s)", file: file, line: line) }
    }

    func testObjects() throws {
        try check(#"{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["a"]}"#,
                  accept: [#"{"a":1}"#, #"{ "a": -3, "b":"x\"y" }"#, "{\n  \"a\": 0,\n  \"b\": \"\"\n}"],
                  reject: [#"{}"#, #"{"b":"x"}"#, #"{"a":1,"c":2}"#, #"{"a":01}"#, #"{"a":1,}"#, #"{"b":"x","a":1}"#,
                           #"{ "a" : -3 , "b":"x\"y" }"#])
        try check(#"{"properties":{"a":{"type":"boolean"},"b":{"type":"null"},"c":{"const":3}}}"#,
                  accept: ["{}", #"{"a":true}"#, #"{"b":null}"#, #"{"a":false,"c":3}"#, #"{"a":true,"b":null,"c":3}"#],
                  reject: [#"{,"b":null}"#, #"{"c":3,"a":true}"#, #"{"c":4}"#])
        try check(#"{"type":"object","properties":{"id":{"type":"integer"}},"additionalProperties":{"type":"integer"}}"#,
                  accept: [#"{"x":1}"#, #"{"id":1,"x":2,"ida":3}"#, "{}", #"{"i":1}"#],
                  reject: [#"{"id":"s"}"#, #"{"x":"s"}"#, #"{"x":1,"id":2}"#])
    }

    func testArraysAndCombinators() throws {
        try check(#"{"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":3}"#,
                  accept: ["[1,2]", "[1, 2, 3]"], reject: ["[]", "[1]", "[1,2,3,4]", "[1,]"])
        try check(#"{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":false}"#,
                  accept: [#"["a",1]"#], reject: [#"["a"]"#, #"["a",1,2]"#, #"[1,"a"]"#])
        try check(#"{"anyOf":[{"type":"integer"},{"type":"string","maxLength":2}]}"#,
                  accept: ["5", #""ab""#], reject: [#""abc""#, "true"])
        try check(#"{"type":["string","null"],"minLength":1,"maxLength":3}"#,
                  accept: ["null", #""a""#, #""abc""#], reject: [#""""#, #""abcd""#])
        // An enum inside a property: its alternatives must not swallow the key (a grouping bug once let {"blue"} through).
        try check(#"{"type":"object","properties":{"c":{"enum":["red","blue"]},"d":{"type":"integer","nullable":true}},"required":["c","d"]}"#,
                  accept: [#"{"c":"red","d":null}"#, #"{"c":"blue","d":3}"#],
                  reject: [#"{"blue"}"#, #"{"c":"red"}"#, #"{"c":"blue",null}"#, #"{"c":"red","d":}"#])
        try check(#"{"enum":["red",2,null,{"k":[1]}]}"#, accept: [#""red""#, "2", "null", #"{"k":[1]}"#], reject: [#""blue""#, "3"])
        try check(#"{"allOf":[{"properties":{"a":{"type":"integer"}},"required":["a"]},{"properties":{"b":{"type":"boolean"}},"required":["b"]}]}"#,
                  accept: [#"{"a":1,"b":true}"#], reject: [#"{"a":1}"#, #"{"b":true}"#])
    }

    func testRefsFormatsPatterns() throws {
        try check(##"{"$defs":{"p":{"type":"object","properties":{"x":{"type":"integer"},"n":{"$ref":"#/$defs/p"}},"required":["x"]}},"$ref":"#/$defs/p"}"##,
                  accept: [#"{"x":1}"#, #"{"x":1,"n":{"x":2,"n":{"x":3}}}"#], reject: [#"{"x":1,"n":{}}"#])
        try check(#"{"type":"string","format":"date"}"#, accept: [#""2024-01-31""#, #""1999-02-28""#],
                  reject: [#""2024-02-30""#, #""2024-13-01""#, #""2024-04-31""#, #""0999-01-01""#])
        try check(#"{"type":"string","format":"uuid"}"#, accept: [#""123e4567-e89b-12d3-a456-426614174000""#], reject: [#""123e4567""#])
        try check(#"{"type":"string","format":"date-time"}"#, accept: [#""2024-05-06T07:08:09Z""#, #""2024-05-06T23:59:59.123+02:00""#],
                  reject: [#""2024-05-06 07:08:09Z""#, #""2024-05-06T24:00:00Z""#])
        try check(#"{"type":"string","pattern":"^[A-Z]{3}-\\d{2,3}$"}"#, accept: [#""ABC-12""#, #""XYZ-123""#],
                  reject: [#""AB-12""#, #""ABC-1""#, #""abc-12""#, #""ABC-1234""#])
        try check(#"{"type":"string","pattern":"ab|cd"}"#, accept: [#""xxabyy""#, #""cd""#], reject: [#""ac""#])
        try check(#"{"type":"string","pattern":"^(?:a\\.b)+\"?$"}"#, accept: [#""a.ba.b""#, #""a.b\"""#], reject: [#""a-b""#])
    }

    /// Every integer in a window checked against the bounds: the digit-range construction has many edge cases.
    func testIntegerRangesExhaustively() throws {
        let bounds: [(Int?, Int?)] = [(0, 120), (-50, -10), (-7, 13), (1, nil), (nil, -3), (95, 1005), (-1005, 95), (10, 10), (0, 0)]
        for (lo, hi) in bounds {
            var schema = #"{"type":"integer""#
            if let lo { schema += #","minimum":\#(lo)"# }
            if let hi { schema += #","maximum":\#(hi)"# }
            let g = try grammar(schema + "}")
            for v in -1200...1200 {
                let ok = (lo.map { v >= $0 } ?? true) && (hi.map { v <= $0 } ?? true)
                XCTAssertEqual(g.matches(String(v)), ok, "\(schema) on \(v)")
            }
            XCTAssertFalse(g.matches("-0"))
            XCTAssertFalse(g.matches("007"))
        }
        let ex = try grammar(#"{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":10}"#)
        XCTAssertEqual((-5...15).filter { ex.matches(String($0)) }, Array(1...9))
    }

    func testAnyJSONAndBoundedWhitespace() throws {
        let g = try Grammar(gbnf: JSONSchemaGrammar.anyValueGBNF)
        for s in ["1", "-0.5e+10", #""x""#, "[]", #"{"a":[1,{"b":null}],"c":true}"#, "[ 1,\n 2 ]"] { XCTAssertTrue(g.matches(s), s) }
        for s in ["", "01", "[1,]", "{'a':1}", "nul", "1.", #""\x""#, "[ 1 ,\n 2 ]", "[  1]"] { XCTAssertFalse(g.matches(s), s) }
        XCTAssertTrue(g.matches("[\n" + String(repeating: " ", count: 20) + "1]"))
        XCTAssertFalse(g.matches("[\n" + String(repeating: " ", count: 21) + "1]"), "indents are capped at 20")
        XCTAssertFalse(g.matches("1" + String(repeating: "0", count: 16)), "integers are capped at 16 digits")
    }

    func testUnsupportedAndInvalidSchemasNameTheProblem() {
        func expect(_ schema: String, _ check: (GrammarError) -> Bool, line: UInt = #line) {
            XCTAssertThrowsError(try grammar(schema), line: line) { e in
                XCTAssertTrue(check(e as! GrammarError), "\(e)", line: line)
            }
        }
        expect(#"{"type":"object","minProperties":1}"#) { $0 == .unsupportedKeyword(keyword: "minProperties", path: "") }
        expect(#"{"properties":{"a":{"type":"integer","multipleOf":2}}}"#) { $0 == .unsupportedKeyword(keyword: "multipleOf", path: "/properties/a") }
        expect(#"{"type":"string","format":"email"}"#) { "\($0)".contains("email") }
        expect(#"{"type":"number","minimum":0}"#) { "\($0)".contains("minimum") }
        expect(#"{"type":"string","pattern":"(?=a)"}"#) { "\($0)".contains("look-around") }
        expect(#"{"type":"string","pattern":"\\bx"}"#) { "\($0)".contains("boundaries") }
        expect(##"{"$ref":"#/$defs/missing"}"##) { "\($0)".contains("points nowhere") }
        expect(#"{"$ref":"http://example.com/s.json"}"#) { "\($0)".contains("local") }
        expect(#"{"type":"integer","minimum":5,"maximum":4}"#) { "\($0)".contains("no integer") }
        expect(#"{"type":"array","minItems":3,"maxItems":2}"#) { "\($0)".contains("maxItems") }
        expect(#"{"type":"object""#) { "\($0)".contains("invalid JSON") }
        expect(String(repeating: "[", count: 10_000)) { "\($0)".contains("deeper") }
        expect("false") { "\($0)".contains("matches nothing") }
    }
}
