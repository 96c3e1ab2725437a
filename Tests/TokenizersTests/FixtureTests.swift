import XCTest
@testable import Tokenizers

/// Every fixture case must give exactly llama.cpp's ids (the bar set by Tests/Fixtures/PROVENANCE.md).
final class FixtureTests: XCTestCase {
    private func check(_ model: String, _ loaded: ReferenceModels.Loaded) throws {
        let cases = try FixtureCase.load(model)
        XCTAssertEqual(cases.count, 172)
        var passed = 0
        for c in cases {
            let ids = loaded.tokenizer.encode(c.text, addSpecial: c.add_special, parseSpecial: c.parse_special)
            if ids == c.ids {
                passed += 1
            } else {
                XCTFail("\(model) \(c.text.debugDescription) add_special=\(c.add_special) parse_special=\(c.parse_special)\n"
                        + "want \(c.ids)\n got \(ids)")
            }
        }
        print("\(model): \(passed)/\(cases.count) fixture cases identical; tokenizer built in "
              + String(format: "%.3f s", loaded.buildSeconds))
    }

    func testSmolLM2MatchesLlamaCpp() throws {
        try check("smollm2-135m", ReferenceModels.get(ReferenceModels.smollm))
    }

    func testGemma3MatchesLlamaCpp() throws {
        try check("gemma3-270m", ReferenceModels.get(ReferenceModels.gemma))
    }

    /// decode(encode(text)) == text: without special parsing every fixture text must come back byte for byte; with
    /// it, too, when control tokens are rendered.
    private func checkRoundTrip(_ model: String, _ tokenizer: any Tokenizer) throws {
        var checked = 0
        for c in try FixtureCase.load(model) where !c.add_special {
            let plain = tokenizer.encode(c.text, addSpecial: false, parseSpecial: false)
            XCTAssertEqual(tokenizer.decode(plain, renderSpecial: false), c.text, "\(model) \(c.text.debugDescription)")
            let special = tokenizer.encode(c.text, addSpecial: false, parseSpecial: true)
            XCTAssertEqual(tokenizer.decode(special, renderSpecial: true), c.text, "\(model) \(c.text.debugDescription)")
            checked += 1
        }
        XCTAssertEqual(checked, 86)
    }

    func testSmolLM2RoundTrip() throws {
        try checkRoundTrip("smollm2-135m", ReferenceModels.get(ReferenceModels.smollm).tokenizer)
    }

    func testGemma3RoundTrip() throws {
        try checkRoundTrip("gemma3-270m", ReferenceModels.get(ReferenceModels.gemma).tokenizer)
    }

    func testModelProperties() throws {
        let smol = try ReferenceModels.get(ReferenceModels.smollm).tokenizer
        XCTAssertEqual(smol.vocabularySize, 49152)
        XCTAssertFalse(smol.addBOS)
        XCTAssertEqual(smol.bosToken, 1)
        XCTAssertEqual(smol.eosToken, 2)
        // <|endoftext|>, <|im_end|> by text, and <reponame> which llama.cpp takes for a FIM repo token.
        XCTAssertEqual(smol.eogTokens, [0, 2, 4])
        XCTAssertTrue(smol.isControl(1))
        XCTAssertFalse(smol.isControl(81))
        XCTAssertEqual(smol.tokenText(81), "a")
        XCTAssertNil(smol.tokenText(49152))
        XCTAssertNil(smol.tokenText(-1))
        XCTAssertEqual(smol.id(forTokenText: "<|im_start|>"), 1)
        XCTAssertEqual(smol.tokenBytes(38699, renderSpecial: false), Array(" Hello".utf8))

        let gemma = try ReferenceModels.get(ReferenceModels.gemma).tokenizer
        XCTAssertEqual(gemma.vocabularySize, 262_144)
        XCTAssertTrue(gemma.addBOS)
        XCTAssertEqual(gemma.bosToken, 2)
        XCTAssertEqual(gemma.eosToken, 1)
        XCTAssertTrue(gemma.eogTokens.isSuperset(of: [1, 106]))   // <eos>, <end_of_turn>
        XCTAssertEqual(gemma.id(forTokenText: "\t"), 255_968)
        XCTAssertEqual(gemma.tokenBytes(2, renderSpecial: false), [])
        XCTAssertEqual(gemma.tokenBytes(2, renderSpecial: true), Array("<bos>".utf8))
        XCTAssertEqual(gemma.tokenBytes(238 + 0x41, renderSpecial: false), [0x41])   // <0x41>
    }
}
