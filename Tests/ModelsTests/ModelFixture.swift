import GGUF
import SLMModels
import TestSupport
import XCTest

/// Loads a reference model once per test process (mapping is cheap, but tests share it).
enum ModelFixture {
    static func load(_ file: String) throws -> any LanguageModel {
        guard let path = TestPaths.model(file) else {
            if TestPaths.isCI { XCTFail("model \(file) missing; the test command fetches it first"); throw XCTSkip("missing") }
            throw XCTSkip("model \(file) not in the store; run tools/fetch-models")
        }
        return try ModelRegistry.load(try GGUFFile(path: path))
    }

    /// Teacher-forced logits of all positions of `tokens`, in batches of `maxBatch`.
    static func allLogits(_ model: any LanguageModel, _ tokens: [Int32], maxBatch: Int = 256,
                          threads: Int = 2) throws -> [Float] {
        let runner = try model.makeRunner(threads: threads, maxBatch: maxBatch)
        let cache = try KVCache(config: model.config, capacity: tokens.count, maxBatch: maxBatch)
        var logits = [Float](repeating: 0, count: tokens.count * model.config.vocabularySize)
        try tokens.withUnsafeBufferPointer { t in
            try logits.withUnsafeMutableBufferPointer { l in
                try runner.forward(tokens: t, cache: cache, outputs: .all, logits: l.baseAddress!)
            }
        }
        return logits
    }
}
