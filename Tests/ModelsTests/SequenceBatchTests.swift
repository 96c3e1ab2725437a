import SLMModels
import TestSupport
import XCTest

/// Metamorphic: N sequences evaluated together in batched steps (prefill chunks of varied sizes beside single-token
/// decodes, sequences joining and leaving at different steps) give bit-identical logits to each sequence run alone,
/// token by token after its prefill. This is what lets a server promise that a seeded request returns the same text
/// under load.
final class SequenceBatchTests: XCTestCase {
    /// A sequence's script: its prompt, how many tokens it decodes (greedy), and the step at which it joins.
    struct Script {
        var prompt: [Int32]
        var decode: Int
        var start: Int
    }

    /// Logits rows each sequence produces: after its prompt, then after each decoded token.
    func alone(_ model: any LanguageModel, _ s: Script, chunk: Int) throws -> [[Float]] {
        let runner = try model.makeRunner(threads: 2, maxBatch: 64)
        let cache = try KVCache(config: model.config, capacity: s.prompt.count + s.decode + 1, maxBatch: 64)
        let v = model.config.vocabularySize
        var logits = [Float](repeating: .nan, count: v)
        var rows: [[Float]] = []
        var start = 0
        while start < s.prompt.count {
            let end = min(start + chunk, s.prompt.count)
            try s.prompt[start..<end].withUnsafeBufferPointer { t in
                try logits.withUnsafeMutableBufferPointer { l in
                    try runner.forward(tokens: t, cache: cache, outputs: end == s.prompt.count ? .last : .noRows,
                                       logits: l.baseAddress!)
                }
            }
            start = end
        }
        rows.append(logits)
        for _ in 0..<s.decode {
            let next = [argmax(logits)]
            try next.withUnsafeBufferPointer { t in
                try logits.withUnsafeMutableBufferPointer { l in
                    try runner.forward(tokens: t, cache: cache, outputs: .last, logits: l.baseAddress!)
                }
            }
            rows.append(logits)
        }
        return rows
    }

    /// The same scripts stepped together: each step, every decoding sequence brings one token and prefilling ones a
    /// chunk whose size cycles through `chunks` (bounded so the step stays within the runner's batch).
    func batched(_ model: any LanguageModel, _ scripts: [Script], chunks: [Int], maxBatch: Int) throws -> [[[Float]]] {
        let runner = try model.makeRunner(threads: 2, maxBatch: maxBatch)
        let v = model.config.vocabularySize
        let caches = try scripts.map { try KVCache(config: model.config, capacity: $0.prompt.count + $0.decode + 1, maxBatch: maxBatch) }
        var rows = [[[Float]]](repeating: [], count: scripts.count)
        var fed = [Int](repeating: 0, count: scripts.count)       // prompt tokens evaluated
        var last = [Int32](repeating: 0, count: scripts.count)    // the token to feed next while decoding
        var logits = [Float](repeating: .nan, count: maxBatch * v)
        var step = 0
        while zip(scripts, rows).contains(where: { $0.decode + 1 > $1.count }) {
            var entries: [BatchEntry] = []
            var owners: [Int] = []
            var room = maxBatch
            // Decoding sequences first (one row each), then prefill chunks in the room that is left.
            for (i, s) in scripts.enumerated() where step >= s.start && fed[i] == s.prompt.count && rows[i].count <= s.decode {
                entries.append(BatchEntry(cache: caches[i], tokens: [last[i]], outputs: .last))
                owners.append(i)
                room -= 1
            }
            for (i, s) in scripts.enumerated() where step >= s.start && fed[i] < s.prompt.count && room > 0 {
                let n = min(chunks[(step + i) % chunks.count], s.prompt.count - fed[i], room)
                let done = fed[i] + n == s.prompt.count
                entries.append(BatchEntry(cache: caches[i], tokens: Array(s.prompt[fed[i]..<(fed[i] + n)]),
                                          outputs: done ? .last : .noRows))
                owners.append(done ? i : -1)
                fed[i] += n
                room -= n
            }
            // Shuffle the entries' order: a sequence's rows must not depend on where in the batch they sit.
            let order = entries.indices.sorted { ($0 * 7 + step) % entries.count < ($1 * 7 + step) % entries.count }
            let shuffled = order.map { entries[$0] }
            let shuffledOwners = order.map { owners[$0] }
            try logits.withUnsafeMutableBufferPointer { l in
                try runner.forward(batch: shuffled, logits: l.baseAddress!)
            }
            var r = 0
            for (e, owner) in zip(shuffled, shuffledOwners) where !e.outputs.isNoRows {
                let row = Array(logits[(r * v)..<((r + 1) * v)])
                rows[owner].append(row)
                last[owner] = argmax(row)
                r += 1
            }
            step += 1
        }
        return rows
    }

    func check(_ file: String, _ scripts: [Script], chunks: [Int], maxBatch: Int) throws {
        let model = try ModelFixture.load(file)
        let together = try batched(model, scripts, chunks: chunks, maxBatch: maxBatch)
        for (i, s) in scripts.enumerated() {
            let single = try alone(model, s, chunk: 64)
            XCTAssertEqual(single.count, together[i].count)
            for (j, (a, b)) in zip(single, together[i]).enumerated() {
                // Bit equality (NaN-safe): compare the raw bits of every logit.
                XCTAssertTrue(a.map(\.bitPattern) == b.map(\.bitPattern), "sequence \(i), row \(j) differs")
            }
        }
    }

    func tokens(_ n: Int, seed: Int, vocab: Int) -> [Int32] {
        (0..<n).map { Int32((seed * 7919 + $0 * 104_729) % (vocab - 1) + 1) }
    }

    func testSmolLM2SequencesBatchedEqualAlone() throws {
        let v = 49_152
        try check(TestPaths.smollmFile, [
            Script(prompt: tokens(45, seed: 1, vocab: v), decode: 6, start: 0),
            Script(prompt: tokens(130, seed: 2, vocab: v), decode: 5, start: 0),
            Script(prompt: tokens(9, seed: 3, vocab: v), decode: 8, start: 2),
            Script(prompt: tokens(70, seed: 4, vocab: v), decode: 3, start: 4),
        ], chunks: [32, 7, 19, 1], maxBatch: 48)
    }

    /// One sequence crosses gemma-3's 512-token sliding window while others decode beside it.
    func testGemma3SequencesBatchedEqualAloneAcrossWindow() throws {
        let v = 262_144
        try check(TestPaths.gemmaFile, [
            Script(prompt: tokens(560, seed: 5, vocab: v), decode: 4, start: 0),
            Script(prompt: tokens(20, seed: 6, vocab: v), decode: 9, start: 0),
            Script(prompt: tokens(33, seed: 7, vocab: v), decode: 5, start: 3),
        ], chunks: [61, 13, 40], maxBatch: 64)
    }

    /// The architecture test models: qwen2's biases, qwen3's Q/K norms, Llama 3's RoPE factors, phi3's fused
    /// matrices and gemma2's soft-capped attention, with a gemma2 sequence crossing its 256-token window.
    func testArchitecturesSequencesBatchedEqualAlone() throws {
        let v = 49_152
        for arch in TestPaths.testArchitectures {
            try check(TestPaths.archFile(arch), [
                Script(prompt: tokens(arch == "gemma2" ? 300 : 45, seed: 8, vocab: v), decode: 4, start: 0),
                Script(prompt: tokens(20, seed: 9, vocab: v), decode: 6, start: 0),
                Script(prompt: tokens(9, seed: 10, vocab: v), decode: 5, start: 2),
            ], chunks: [29, 7, 1], maxBatch: 48)
        }
    }

    func testBatchRejectsSharedCacheAndOversizedSteps() throws {
        let model = try ModelFixture.load(TestPaths.smollmFile)
        let runner = try model.makeRunner(threads: 1, maxBatch: 8)
        let cache = try KVCache(config: model.config, capacity: 32, maxBatch: 8)
        var logits = [Float](repeating: 0, count: 8 * model.config.vocabularySize)
        try logits.withUnsafeMutableBufferPointer { l in
            XCTAssertThrowsError(try runner.forward(batch: [BatchEntry(cache: cache, tokens: [1], outputs: .last),
                                                            BatchEntry(cache: cache, tokens: [2], outputs: .last)],
                                                    logits: l.baseAddress!))
            let other = try KVCache(config: model.config, capacity: 32, maxBatch: 8)
            XCTAssertThrowsError(try runner.forward(batch: [BatchEntry(cache: other, tokens: Array(repeating: 1, count: 9), outputs: .last)],
                                                    logits: l.baseAddress!))
            XCTAssertThrowsError(try runner.forward(batch: [BatchEntry(cache: other, tokens: [-1], outputs: .last)],
                                                    logits: l.baseAddress!))
        }
        XCTAssertEqual(cache.count, 0, "a refused batch must not touch any cache")
    }

    private func argmax(_ row: [Float]) -> Int32 {
        var best = 0
        for i in row.indices where row[i] > row[best] { best = i }
        return Int32(best)
    }
}

extension OutputRows {
    var isNoRows: Bool { self == .noRows }
}
