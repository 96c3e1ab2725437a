import Foundation
import SLMModels

/// How `slm cost` measures: a `prompt`-token prefill, decode of `generate` tokens after a context of `prompt`
/// tokens (a request's reply follows its prompt), batched decode at each concurrency, and a prefix-cache restore of
/// the same prompt; each repeated `repetitions` times after an untimed warm-up.
public struct CostMeasurementPlan: Sendable {
    public var prompt = 512
    public var generate = 64
    public var concurrency = [1, 4, 8]
    public var repetitions = 3

    public init() {}
}

extension Engine {
    /// Measures this machine's throughput for pricing. `progress` gets one line per test. The prompt and the
    /// generated tokens must fit the model's trained context (`.unsupported` before any work).
    public func measureThroughput(_ plan: CostMeasurementPlan,
                                  progress: (String) -> Void = { _ in }) throws(EngineError) -> MeasuredThroughput {
        guard plan.prompt + plan.generate <= config.trainedContextLength else {
            throw .unsupported("-p \(plan.prompt) + -n \(plan.generate) exceed the model's context of \(config.trainedContextLength)")
        }
        let pp = try benchmark(prompt: plan.prompt, generate: 0, depth: 0, repetitions: plan.repetitions)
        progress("prefill \(plan.prompt) tokens: \(String(format: "%.1f", pp.medianTs)) tok/s")
        let tg = try benchmark(prompt: 0, generate: plan.generate, depth: plan.prompt, repetitions: plan.repetitions)
        progress("decode \(plan.generate) tokens after \(plan.prompt): \(String(format: "%.1f", tg.medianTs)) tok/s")
        var batched: [Int: Double] = [:]
        for n in plan.concurrency {
            let r = try benchmarkBatchedDecode(sequences: n, generate: plan.generate, depth: plan.prompt, repetitions: plan.repetitions)
            batched[n] = r.medianTs
            progress("decode x\(n) (batched): \(String(format: "%.1f", r.medianTs)) tok/s in all")
        }
        let restore = try measureCacheRestore(prompt: plan.prompt, repetitions: plan.repetitions)
        progress("prefix-cache restore of \(plan.prompt) tokens: \(String(format: "%.1f", restore)) tok/s")
        return MeasuredThroughput(prefillTokS: pp.medianTs, decodeTokS: tg.medianTs, decodeBatched: batched,
                                  cacheRestoreTokS: restore)
    }

    /// Prompt tokens per second of a prefill served from the prefix cache (memory tier): the prompt is computed
    /// once and stored, then prefilled again into fresh caches. Its time includes the last token, which is always
    /// computed (its logits are needed), so the rate is slightly conservative. Median over the repetitions.
    public func measureCacheRestore(prompt: Int, repetitions: Int) throws(EngineError) -> Double {
        let layout = KVLayout(engine: self)
        let bt = layout.blockTokens
        let n = max(prompt / bt, 1) * bt + 1
        var rng = SeededGenerator(seed: 7)
        let vocab = UInt64(min(config.vocabularySize, tokenizer.vocabularySize))
        let tokens = (0..<n).map { _ in Int32(rng.next() % vocab) }
        let pc = PrefixCache(layout: layout, options: PrefixCacheOptions())
        var logits: [Float] = []
        let first = try prefill(tokens, cache: try makeCache(capacity: n), prefixCache: pc, into: &logits)
        pc.store(first.blocks)
        let clock = ContinuousClock()
        var rates: [Double] = []
        for rep in 0...max(repetitions, 1) {
            let cache = try makeCache(capacity: n)
            let t0 = clock.now
            let r = try prefill(tokens, cache: cache, prefixCache: pc, into: &logits)
            let (s, atto) = (clock.now - t0).components
            let seconds = Double(s) + Double(atto) / 1e18
            if rep > 0, seconds > 0 { rates.append(Double(r.cachedTokens) / seconds) }
        }
        rates.sort()
        return rates.isEmpty ? 0 : rates[rates.count / 2]
    }

    /// Characters per token of `text` in this model's tokenizer (no special tokens added).
    public func charactersPerToken(_ text: String) -> Double {
        let n = tokenize(text, addSpecial: false, parseSpecial: false).count
        return n > 0 ? Double(text.count) / Double(n) : 0
    }
}
