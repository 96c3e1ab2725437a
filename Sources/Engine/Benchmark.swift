import Foundation
import SLMModels

/// llama-bench's tests: `pp<n>` processes n prompt tokens in one batch; `tg<n>` generates n tokens one at a time.
/// Both start after `depth` tokens already in the KV cache (llama-bench's `-d`). Tokens are pseudo-random ids (the
/// speed of a forward pass does not depend on which tokens), seeded for repeatability.
public struct BenchmarkResult: Sendable {
    public var name: String
    public var promptTokens: Int
    public var generatedTokens: Int
    public var depth: Int
    public var samplesNs: [Double]
    /// Sequences decoded together (batched decode); 1 for llama-bench's tests.
    public var sequences = 1

    public var tokens: Int { promptTokens + generatedTokens }
    public var samplesTs: [Double] { samplesNs.map { Double(tokens) / ($0 / 1e9) } }
    public var avgNs: Double { samplesNs.reduce(0, +) / Double(max(samplesNs.count, 1)) }
    public var stddevNs: Double { Self.stddev(samplesNs) }
    public var avgTs: Double { samplesTs.reduce(0, +) / Double(max(samplesTs.count, 1)) }
    public var stddevTs: Double { Self.stddev(samplesTs) }
    public var medianTs: Double { let s = samplesTs.sorted(); return s.isEmpty ? 0 : s[s.count / 2] }

    static func stddev(_ x: [Double]) -> Double {
        guard x.count > 1 else { return 0 }
        let m = x.reduce(0, +) / Double(x.count)
        return (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count - 1)).squareRoot()
    }
}

extension Engine {
    /// Runs one llama-bench test `repetitions` times after one untimed warm-up run.
    public func benchmark(prompt: Int, generate: Int, depth: Int, repetitions: Int) throws(EngineError) -> BenchmarkResult {
        var rng = SeededGenerator(seed: 42)
        let vocab = Int32(min(config.vocabularySize, tokenizer.vocabularySize))
        func randomTokens(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(rng.next() % UInt64(vocab)) } }
        let capacity = depth + prompt + generate
        guard capacity > 0 else { throw .invalidArgument("nothing to benchmark: -p and -n are both 0") }
        var logits: [Float] = []
        let depthTokens = randomTokens(depth)
        let promptTokens = randomTokens(prompt)
        var samples: [Double] = []
        let clock = ContinuousClock()
        for rep in 0...repetitions {
            // A fresh cache per repetition: with -d past a sliding window, those layers cannot rewind to 0.
            let cache = try makeCache(capacity: capacity)
            if depth > 0 { try evaluate(depthTokens, cache: cache, outputs: .last, into: &logits) }
            let t0 = clock.now
            if prompt > 0 { try evaluate(promptTokens, cache: cache, outputs: .last, into: &logits) }
            var token: [Int32] = [Int32(rng.next() % UInt64(vocab))]
            for _ in 0..<generate {
                try evaluate(token, cache: cache, outputs: .last, into: &logits)
                token[0] = logits.withUnsafeBufferPointer { Sampler.argmax(UnsafeBufferPointer(rebasing: $0[0..<config.vocabularySize])) }
            }
            let ns = (clock.now - t0).milliseconds * 1e6
            if rep > 0 { samples.append(ns) }  // rep 0 warms caches and page tables
        }
        return BenchmarkResult(name: prompt > 0 ? "pp\(prompt)" : "tg\(generate)", promptTokens: prompt,
                               generatedTokens: generate, depth: depth, samplesNs: samples)
    }
}
