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

    func testInfoOnAVocabOnlyFile() throws {
        let path = try vocab("qwen2")
        let r = try SLM.succeed(["info", "-m", path, "--json"])
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        XCTAssertEqual(o["vocab_only"] as? Bool, true)
        XCTAssertEqual(o["architecture"] as? String, "qwen2")
        XCTAssertEqual(o["tensor_count"] as? Int, 0)
        let tokenizer = try XCTUnwrap(o["tokenizer"] as? [String: Any])
        XCTAssertEqual(tokenizer["pre"] as? String, "qwen2")
        XCTAssertEqual(tokenizer["vocabulary_size"] as? Int, 151_936)
        for key in ["layers", "context_length", "kernels"] { XCTAssertNil(o[key], key) }
        let text = try SLM.succeed(["info", "-m", path]).out
        XCTAssertTrue(text.contains("vocab only"), text)
        XCTAssertTrue(text.contains("tokenizer             gpt2 (pre: qwen2)"), text)
        // A model file still reports its hyperparameters and says it is not vocab-only.
        _ = try requireSmolLM()
        let model = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(SLM.succeed(["info", "--json"]).out.utf8)) as? [String: Any])
        XCTAssertEqual(model["vocab_only"] as? Bool, false)
        XCTAssertEqual(model["layers"] as? Int, 30)
    }

    func testUnsupportedVocabIsARuntimeError() throws {
        let path = try vocab("bert-bge")
        let r = try SLM.run(["tokenize", "-m", path, "x"])
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertTrue(r.err.contains("unsupported tokenizer.ggml.model 'bert'"), r.err)
    }
}
