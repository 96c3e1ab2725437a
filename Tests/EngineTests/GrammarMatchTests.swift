import XCTest
@testable import SLMEngine

/// Tables of strings each grammar must accept (a complete match) and reject. No model involved.
final class GrammarMatchTests: XCTestCase {
    struct Case {
        var grammar: String
        var accept: [String]
        var reject: [String]
    }

    static let cases: [Case] = [
        Case(grammar: #"root ::= "yes" | "no""#, accept: ["yes", "no"], reject: ["", "y", "yesno", "No", "yes "]),
        Case(grammar: #"root ::= [a-c]+ "!""#, accept: ["a!", "abcabc!"], reject: ["!", "ad!", "abc", "abc!!"]),
        Case(grammar: #"root ::= [^0-9]*"#, accept: ["", "abc", "é中😀"], reject: ["a1", "9"]),
        Case(grammar: #"root ::= "a"{2} "b"{1,3} "c"{2,}"#, accept: ["aabcc", "aabbbccccc"], reject: ["abcc", "aabbbbcc", "aabc"]),
        Case(grammar: #"root ::= "x"{,2}"#, accept: ["", "x", "xx"], reject: ["xxx"]),
        Case(grammar: "root ::= (\"a\" | \"b\")? \"c\"", accept: ["c", "ac", "bc"], reject: ["abc", "a"]),
        Case(grammar: "root ::= item (\",\" item)*\nitem ::= [0-9]+", accept: ["1", "12,3,456"], reject: ["", "1,", ",1", "1,,2"]),
        Case(grammar: #"root ::= "\x41\u00e9\n\t\\\"""#, accept: ["Aé\n\t\\\""], reject: ["Ae\n\t\\\""]),
        Case(grammar: #"root ::= [\x30-\x32\]\-]*"#, accept: ["012]-", ""], reject: ["3", "["]),
        Case(grammar: #"root ::= . . ."#, accept: ["abc", "日本語", "a😀b"], reject: ["ab", "abcd"]),
        Case(grammar: "# a comment\nroot ::= a # trailing comment\na ::= \"(\" a \")\" | \"\"", accept: ["", "()", "((()))"], reject: ["(", "())", ")("]),
        Case(grammar: "root ::= (\n  \"a\"\n  | \"b\"\n)+", accept: ["abba"], reject: ["abc"]),
        Case(grammar: "root ::=\n  \"x\" |\n  \"y\"\n", accept: ["x", "y"], reject: ["xy"]),
        Case(grammar: #"root ::= [日-月] "é""#, accept: ["日é", "月é", "昨é"], reject: ["ae", "日e"]),
        Case(grammar: #"root ::= ("ab"?)? "c""#, accept: ["c", "abc"], reject: ["ac"]),
        Case(grammar: #"root ::= [a-z]{2,4} ("-" [a-z]{2,4})*"#, accept: ["ab", "abcd-xy-efg"], reject: ["a", "abcde", "ab-"]),
    ]

    func testAcceptRejectTables() throws {
        for c in Self.cases {
            let g = try Grammar(gbnf: c.grammar)
            for s in c.accept { XCTAssertTrue(g.matches(s), "\(c.grammar) should accept \(s.debugDescription)") }
            for s in c.reject { XCTAssertFalse(g.matches(s), "\(c.grammar) should reject \(s.debugDescription)") }
        }
    }

    /// Byte-at-a-time: a multi-byte character split anywhere is held as a partial code point and pruned early.
    func testPartialUTF8() throws {
        let g = try Grammar(gbnf: #"root ::= "é" | [Ā-ſ]"#)   // é = C3 A9; Ā-ſ = U+0100-017F (C4 80 - C5 BF)
        let s0 = g.initialState
        XCTAssertNotNil(g.advance(s0, byte: 0xC3))
        XCTAssertNotNil(g.advance(s0, byte: 0xC4))
        XCTAssertNil(g.advance(s0, byte: 0xC6), "no allowed code point starts with C6")
        XCTAssertNil(g.advance(s0, byte: 0xE3), "no allowed code point has three bytes")
        let mid = g.advance(s0, byte: 0xC3)!
        XCTAssertFalse(g.canEnd(mid), "half a character is never a complete match")
        XCTAssertNil(g.advance(mid, byte: 0xA8), "è (C3 A8) is not allowed")
        XCTAssertTrue(g.canEnd(g.advance(mid, byte: 0xA9)!))
        XCTAssertNil(g.advance(s0, byte: 0xFF), "invalid UTF-8 lead byte")
        let any = try Grammar(gbnf: "root ::= .")
        XCTAssertNil(any.advance(any.initialState, bytes: [0xE0, 0x80, 0x80]), "overlong form of U+0000")
        XCTAssertNil(any.advance(any.initialState, bytes: [0xED, 0xA0, 0x80]), "a surrogate is not a scalar")
    }

    func testMustEndAfterCompleteFixedString() throws {
        let g = try Grammar(gbnf: #"root ::= "ab" [0-9]?"#)
        let s = g.advance(g.initialState, bytes: Array("ab".utf8))!
        XCTAssertTrue(g.canEnd(s))
        XCTAssertFalse(g.mustEnd(s))
        XCTAssertTrue(g.mustEnd(g.advance(s, byte: 0x37)!))
    }

    func testRightRecursionDoesNotGrowTheStack() throws {
        let g = try Grammar(gbnf: #"root ::= "a"*"#)
        var s = g.initialState
        for _ in 0..<10_000 { s = g.advance(s, byte: 0x61)! }
        XCTAssertTrue(s.stacks.allSatisfy { $0.count <= 2 }, "x* is a tail call: stack depth stays constant")
    }
}
