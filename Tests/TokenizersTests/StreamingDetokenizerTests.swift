import XCTest
@testable import Tokenizers

final class StreamingDetokenizerTests: XCTestCase {
    /// A SentencePiece vocabulary of only the 256 byte tokens plus "a": every non-ASCII character reaches the
    /// detokenizer one byte per token.
    private func byteTokenizer() throws -> any Tokenizer {
        var tokens = ["<unk>", "<s>", "</s>"]
        var types = [2, 3, 3]
        for b in 0..<256 {
            tokens.append(String(format: "<0x%02X>", b))
            types.append(6)
        }
        tokens.append("a")
        types.append(1)
        return try makeTokenizer(from: TokenizerData(model: "llama", tokens: tokens, tokenTypes: types,
                                                     addSpacePrefix: false))
    }

    private func stream(_ ids: [Int32], _ tokenizer: any Tokenizer) -> (pieces: [String], flushed: String) {
        var detok = StreamingDetokenizer(tokenizer: tokenizer, renderSpecial: false)
        let pieces = ids.map { detok.append($0) }
        return (pieces, detok.flush())
    }

    func testByteTokensNeverSplitACharacter() throws {
        let tokenizer = try byteTokenizer()
        let text = "a日本😀a👨‍👩‍👧"
        let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        XCTAssertEqual(ids.count, 1 + 3 + 3 + 4 + 1 + (4 + 3 + 4 + 3 + 4), "one token per byte, 'a' whole")
        let (pieces, flushed) = stream(ids, tokenizer)
        XCTAssertEqual(pieces.joined() + flushed, text)
        XCTAssertEqual(flushed, "")
        XCTAssertFalse(pieces.joined().contains("\u{FFFD}"))
        // "日" arrives as 3 tokens: nothing, nothing, then the whole character.
        XCTAssertEqual(Array(pieces[1...3]), ["", "", "日"])
        XCTAssertEqual(Array(pieces[7...10]), ["", "", "", "😀"])
    }

    func testFlushReplacesAnIncompleteTail() throws {
        let tokenizer = try byteTokenizer()
        var detok = StreamingDetokenizer(tokenizer: tokenizer, renderSpecial: false)
        let e6 = try XCTUnwrap(tokenizer.id(forTokenText: "<0xE6>"))
        let a = try XCTUnwrap(tokenizer.id(forTokenText: "a"))
        XCTAssertEqual(detok.append(e6), "")
        // A lead byte followed by ASCII can never complete: it is emitted replaced, with the "a".
        XCTAssertEqual(detok.append(a), "\u{FFFD}a")
        XCTAssertEqual(detok.append(e6), "")
        XCTAssertEqual(detok.flush(), "\u{FFFD}")
        XCTAssertEqual(detok.flush(), "")
    }

    func testRealModelsStreamEmojiAndCJK() throws {
        // Byte-level BPE splits the emoji and CJK; gemma3 has them whole but falls back to byte tokens for
        // the rarer "𠜎" (CJK extension B) and "𓀀" (hieroglyph).
        let text = "emoji 😀🎉👍🏽 and 日本語のテキスト 한국어 𠜎𓀀"
        for loaded in [try ReferenceModels.get(ReferenceModels.smollm), try ReferenceModels.get(ReferenceModels.gemma)] {
            let tokenizer = loaded.tokenizer
            let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
            let (pieces, flushed) = stream(ids, tokenizer)
            XCTAssertEqual(pieces.joined() + flushed, text)
            XCTAssertFalse(pieces.joined().contains("\u{FFFD}"))
            // Some token carried only part of a character: the streamer held it back.
            let partial = ids.contains { id in String(validating: tokenizer.tokenBytes(id, renderSpecial: false), as: UTF8.self) == nil }
            XCTAssertTrue(partial, "expected the text to split a character across tokens")
            XCTAssertTrue(pieces.contains(""))
        }
    }
}
