import XCTest
@testable import Tokenizers

final class SpecialTokenTests: XCTestCase {
    func testImStartParsedOnlyWhenAsked() throws {
        let smol = try ReferenceModels.get(ReferenceModels.smollm).tokenizer
        let text = "<|im_start|>user\nHi<|im_end|>"
        let parsed = smol.encode(text, addSpecial: false, parseSpecial: true)
        XCTAssertEqual(parsed.first, 1)
        XCTAssertEqual(parsed.last, 2)
        XCTAssertEqual(parsed.filter { smol.isControl($0) }.count, 2)
        let literal = smol.encode(text, addSpecial: false, parseSpecial: false)
        XCTAssertFalse(literal.contains { smol.isControl($0) }, "control texts must be tokenized as plain text")
        XCTAssertGreaterThan(literal.count, parsed.count)
        XCTAssertEqual(smol.decode(literal, renderSpecial: false), text)
        // Rendering: control tokens vanish unless asked for.
        XCTAssertEqual(smol.decode(parsed, renderSpecial: false), "user\nHi")
        XCTAssertEqual(smol.decode(parsed, renderSpecial: true), text)
    }

    func testGemmaUserDefinedTokensSplitEvenWithoutParseSpecial() throws {
        let gemma = try ReferenceModels.get(ReferenceModels.gemma).tokenizer
        // "\t", runs of spaces and of newlines are user-defined tokens: always taken out whole.
        let ids = gemma.encode("a\tb   c\n\nd", addSpecial: false, parseSpecial: false)
        XCTAssertTrue(ids.contains(255_968))
        XCTAssertTrue(ids.contains(try XCTUnwrap(gemma.id(forTokenText: "   "))))
        XCTAssertTrue(ids.contains(try XCTUnwrap(gemma.id(forTokenText: "\n\n"))))
        // <start_of_turn> is a control token: split out only with parse_special.
        XCTAssertEqual(gemma.encode("<start_of_turn>", addSpecial: false, parseSpecial: true), [105])
        XCTAssertFalse(gemma.encode("<start_of_turn>", addSpecial: false, parseSpecial: false).contains(105))
    }

    func testAddSpecialFollowsTheModel() throws {
        let smol = try ReferenceModels.get(ReferenceModels.smollm).tokenizer
        XCTAssertEqual(smol.encode("Hello", addSpecial: true, parseSpecial: true),
                       smol.encode("Hello", addSpecial: false, parseSpecial: true))
        let gemma = try ReferenceModels.get(ReferenceModels.gemma).tokenizer
        XCTAssertEqual(gemma.encode("Hello", addSpecial: true, parseSpecial: true),
                       [2] + gemma.encode("Hello", addSpecial: false, parseSpecial: true))
        XCTAssertEqual(gemma.encode("", addSpecial: true, parseSpecial: true), [2])
        XCTAssertEqual(gemma.encode("", addSpecial: false, parseSpecial: true), [])
    }
}
