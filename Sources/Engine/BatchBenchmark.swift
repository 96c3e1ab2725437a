import Foundation
import SLMModels

extension Engine {
    /// Aggregate decode throughput of `sequences` sequences stepped together (one batched forward per step, every
    /// sequence bringing one token), each generating `generate` tokens after `depth` tokens of its own context.
    /// Runs the test `repetitions` times after one untimed warm-up; samples count all sequences' tokens.
    public func benchmarkBatchedDecode(sequences: Int, generate: Int, depth: Int,
                                       repetitions: Int) throws(EngineError) -> BenchmarkResult {
        guard sequences >= 1, sequences <= maxBatch else {
            throw .invalidArgument("batched decode of \(sequences) sequences needs 1...\(maxBatch) (the engine's batch)")
        }
        guard generate > 0 else { throw .invalidArgument("nothing to benchmark: -n is 0") }
        var rng = SeededGenerator(seed: 42)
        let vocab = Int32(min(config.vocabularySize, tokenizer.vocabularySize))
        let v = config.vocabularySize
        func randomTokens(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(rng.next() % UInt64(vocab)) } }
        let contexts = (0..<sequences).map { _ in randomTokens(max(depth, 1)) }
        var logits = [Float](repeating: 0, count: sequences * v)
        var samples: [Double] = []
        let clock = ContinuousClock()
        for rep in 0...repetitions {
            let caches = try (0..<sequences).map { _ throws(EngineError) in try makeCache(capacity: max(depth, 1) + generate) }
            for (c, ctx) in zip(caches, contexts) { try evaluate(ctx, cache: c, outputs: .last, into: &logits) }
            var entries = caches.map { BatchEntry(cache: $0, tokens: [Int32(rng.next() % UInt64(vocab))], outputs: .last) }
            let t0 = clock.now
            for _ in 0..<generate {
                do {
                    try logits.withUnsafeMutableBufferPointer { (l) throws(ModelError) in
                        try runner.forward(batch: entries, logits: l.baseAddress!)
                    }
                } catch { throw .model(error) }
                logits.withUnsafeBufferPointer { l in
                    for i in entries.indices {
                        entries[i].tokens[0] = Sampler.argmax(UnsafeBufferPointer(rebasing: l[(i * v)..<((i + 1) * v)]))
                    }
                }
            }
            let ns = (clock.now - t0).milliseconds * 1e6
            if rep > 0 { samples.append(ns) }
        }
        var result = BenchmarkResult(name: "tg\(generate) x\(sequences)", promptTokens: 0,
                                     generatedTokens: generate * sequences, depth: depth, samplesNs: samples)
        result.sequences = sequences
        return result
    }
}
