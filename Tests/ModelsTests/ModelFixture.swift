import GGUF
import SLMModels
import TestSupport
import XCTest

enum ModelFixture {
    static func load(_ file: String) throws -> any LanguageModel {
        guard let path = TestPaths.model(file) else {
            if TestPaths.isCI { XCTFail("model \(file) missing; the test command fetches it first") }
            throw XCTSkip("model \(file) not in the store; run tools/fetch-models")
        }
        return try ModelRegistry.load(try GGUFFile(path: path))
    }

    /// Teacher-forced evaluation of `tokens` in batches of `maxBatch`; `body(position, logits row)` sees every row.
    static func forEachRow(_ model: any LanguageModel, _ tokens: [Int32], maxBatch: Int = 128, threads: Int = 2,
                           from: Int = 0, _ body: (Int, UnsafeBufferPointer<Float>) -> Void) throws {
        let runner = try model.makeRunner(threads: threads, maxBatch: maxBatch)
        let cache = try KVCache(config: model.config, capacity: tokens.count, maxBatch: maxBatch)
        let v = model.config.vocabularySize
        var logits = [Float](repeating: 0, count: maxBatch * v)
        var start = 0
        while start < tokens.count {
            let end = min(start + maxBatch, tokens.count)
            let first = min(max(from - start, 0), end - start)
            try tokens[start..<end].withUnsafeBufferPointer { t in
                try logits.withUnsafeMutableBufferPointer { l in
                    try runner.forward(tokens: t, cache: cache, outputs: .from(first), logits: l.baseAddress!)
                }
            }
            logits.withUnsafeBufferPointer { l in
                for i in first..<(end - start) {
                    let r = i - first
                    body(start + i, UnsafeBufferPointer(rebasing: l[(r * v)..<((r + 1) * v)]))
                }
            }
            start = end
        }
    }

    /// All rows, concatenated (small vocabularies or short prompts only).
    static func allLogits(_ model: any LanguageModel, _ tokens: [Int32], maxBatch: Int) throws -> [Float] {
        var all: [Float] = []
        try forEachRow(model, tokens, maxBatch: maxBatch) { _, row in all.append(contentsOf: row) }
        return all
    }
}
