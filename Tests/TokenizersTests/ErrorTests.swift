import Foundation
import GGUF
import XCTest
@testable import Tokenizers

final class ErrorTests: XCTestCase {
    private let bpeTokens = ["a", "b", "ab", "<|endoftext|>"]

    private func expect(_ data: TokenizerData, _ expected: TokenizerError, line: UInt = #line) {
        do {
            _ = try makeTokenizer(from: data)
            XCTFail("expected \(expected)", line: line)
        } catch {
            XCTAssertEqual(error, expected, line: line)
            XCTAssertFalse(error.description.isEmpty)
            XCTAssertFalse(error.description.contains("\n"), "descriptions are one line", line: line)
        }
    }

    func testValidSmallBPEWorks() throws {
        let tok = try makeTokenizer(from: TokenizerData(model: "gpt2", pre: "smollm", tokens: bpeTokens,
                                                        merges: ["a b"], eosID: 3))
        XCTAssertEqual(tok.encode("abab", addSpecial: false, parseSpecial: false), [2, 2])
        XCTAssertEqual(tok.eogTokens, [3])
    }

    func testUnknownModelAndPreTokenizer() {
        expect(TokenizerData(model: "rwkv", tokens: bpeTokens), .unsupportedModel("rwkv"))
        expect(TokenizerData(model: "gpt2", pre: "chatglm-bpe", tokens: bpeTokens, merges: []),
               .unsupportedPreTokenizer("chatglm-bpe"))
        expect(TokenizerData(model: "gpt2", tokens: bpeTokens, merges: []), .unsupportedPreTokenizer("(missing)"))
    }

    func testBadMerges() {
        expect(TokenizerData(model: "gpt2", pre: "smollm", tokens: bpeTokens, merges: ["a b", "a c"]),
               .unknownMergeToken(index: 1, text: "a c"))
        expect(TokenizerData(model: "gpt2", pre: "smollm", tokens: bpeTokens, merges: ["ab"]),
               .malformedMerge(index: 0, text: "ab"))
        expect(TokenizerData(model: "gpt2", pre: "smollm", tokens: bpeTokens),
               .metadata(key: "tokenizer.ggml.merges", detail: "required for a gpt2 tokenizer but missing"))
    }

    func testLengthMismatches() {
        expect(TokenizerData(model: "llama", tokens: ["<unk>", "<s>", "</s>"], scores: [0, 0]),
               .lengthMismatch(key: "tokenizer.ggml.scores", count: 2, tokenCount: 3))
        expect(TokenizerData(model: "llama", tokens: ["<unk>", "<s>", "</s>"], tokenTypes: [2, 3, 3, 1]),
               .lengthMismatch(key: "tokenizer.ggml.token_type", count: 4, tokenCount: 3))
    }

    func testSpecialIDsOutOfRange() {
        expect(TokenizerData(model: "llama", tokens: ["<unk>", "<s>", "</s>"], bosID: 3),
               .tokenIDOutOfRange(key: "tokenizer.ggml.bos_token_id", id: 3, tokenCount: 3))
        expect(TokenizerData(model: "llama", tokens: ["<unk>", "<s>", "</s>"], eosID: -1),
               .tokenIDOutOfRange(key: "tokenizer.ggml.eos_token_id", id: -1, tokenCount: 3))
        // SentencePiece adds BOS by default; with no BOS in range that is an error, as in llama.cpp.
        expect(TokenizerData(model: "llama", tokens: ["<unk>"]),
               .missingSpecialToken(flagKey: "tokenizer.ggml.add_bos_token", idKey: "tokenizer.ggml.bos_token_id"))
    }

    func testVocabularyProblems() {
        expect(TokenizerData(model: "llama", tokens: []), .emptyVocabulary)
        expect(TokenizerData(model: "llama", tokens: ["<unk>", "<s>", "</s>", "<s>"]),
               .duplicateToken(text: "<s>", firstID: 1, secondID: 3))
        // Canonically equivalent but different bytes: two tokens, not a duplicate.
        XCTAssertNoThrow(try makeTokenizer(from: TokenizerData(model: "llama", tokens: ["<unk>", "<s>", "</s>", "\u{E9}", "e\u{301}"])))
    }

    // A GGUF file with the given metadata and no tensors.
    private func writeGGUF(_ kvs: [(String, UInt32, [UInt8])]) throws -> String {
        var out: [UInt8] = Array("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        u32(3)
        u64(0)
        u64(UInt64(kvs.count))
        for (key, type, value) in kvs {
            u64(UInt64(key.utf8.count))
            out.append(contentsOf: key.utf8)
            u32(type)
            out.append(contentsOf: value)
        }
        while out.count % 32 != 0 { out.append(0) }
        let path = NSTemporaryDirectory() + "slm-tokenizer-\(UUID().uuidString).gguf"
        try Data(out).write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    private func stringValue(_ s: String) -> [UInt8] {
        withUnsafeBytes(of: UInt64(s.utf8.count).littleEndian) { Array($0) } + Array(s.utf8)
    }

    func testMissingAndMistypedKeysInAFile() throws {
        let missing = try GGUFFile(path: writeGGUF([("tokenizer.ggml.model", 8, stringValue("llama"))]))
        XCTAssertThrowsError(try makeTokenizer(from: missing)) { error in
            guard case .metadata(let key, _) = error as? TokenizerError else { return XCTFail("\(error)") }
            XCTAssertEqual(key, "tokenizer.ggml.tokens")
        }
        let mistyped = try GGUFFile(path: writeGGUF([
            ("tokenizer.ggml.model", 8, stringValue("llama")),
            ("tokenizer.ggml.tokens", 4, withUnsafeBytes(of: UInt32(7).littleEndian) { Array($0) }),
        ]))
        XCTAssertThrowsError(try makeTokenizer(from: mistyped)) { error in
            guard case .metadata(let key, let detail) = error as? TokenizerError else { return XCTFail("\(error)") }
            XCTAssertEqual(key, "tokenizer.ggml.tokens")
            XCTAssertTrue(detail.contains("u32"), detail)
        }
        let noModel = try GGUFFile(path: writeGGUF([]))
        XCTAssertThrowsError(try makeTokenizer(from: noModel)) { error in
            XCTAssertEqual((error as? TokenizerError).map { "\($0)" }?.contains("tokenizer.ggml.model"), true)
        }
    }
}
