import Foundation
import TestSupport
import XCTest

/// `slm tokenize` / `slm detokenize` on vocab-only GGUF files (no tensors): llama.cpp's models/ggml-vocab-*.gguf,
/// fetched by tools/fetch-vocabs, with ids from their own .out files.
final class VocabOnlyTokenizeTests: EndToEndTestCase {
    private func vocab(_ name: String) throws -> String {
        let path = TestPaths.testData.appendingPathComponent("ggml-vocab-\(name).gguf").path
        guard FileManager.default.fileExists(atPath: path) else {
            if TestPaths.isCI { XCTFail("\(path) missing under CI (tools/test runs tools/fetch-vocabs)") }
            throw XCTSkip("\(path) missing: run tools/fetch-vocabs")
        }
        return path
    }

    func testTokenizeAndDetokenizeVocabOnlyFiles() throws {
        // (vocab, text, ids as llama.cpp's test-tokenizer-0 expects them: no BOS, special text not parsed)
        let cases: [(String, String, [Int32])] = [
            ("llama-bpe", "Hello world", [9906, 1917]),
            ("qwen2", "Hello world", [9707, 1879]),
            ("phi-3", "Hello world", [15043, 3186]),
        ]
        for (name, text, ids) in cases {
            let path = try vocab(name)
            let r = try SLM.succeed(["tokenize", "-m", path, "--no-add-special", "--no-parse-special", text])
            XCTAssertEqual(parseIDs(r), ids, name)
            let back = try SLM.succeed(["detokenize", "-m", path] + ids.map(String.init))
            XCTAssertEqual(back.out, text + "\n", name)
        }
    }

    func testUnsupportedVocabIsARuntimeError() throws {
        let path = try vocab("bert-bge")
        let r = try SLM.run(["tokenize", "-m", path, "x"])
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertTrue(r.err.contains("unsupported tokenizer.ggml.model 'bert'"), r.err)
    }
}
