import Foundation
import SLMModels
import Tokenizers

/// What to generate: the prompt tokens and when to stop.
public struct GenerationRequest: Sendable {
    public var prompt: [Int32]
    public var maxTokens = 256
    public var sampling = SamplingParameters()
    public var stops: [String] = []
    public var ignoreEOS = false
    public var contextLength: Int
    /// Restore the prompt's longest cached prefix from here and store its new blocks after the request; nil: no cache.
    public var prefixCache: PrefixCache?
    /// Constrained decoding: the answer must match this grammar (GBNF, JSON Schema or any-JSON, compiled).
    public var grammar: Grammar? = nil
    /// Reasoning budget: nil = no reasoning section; 0 = none; N = at most N tokens, then the engine closes it.
    public var thinkBudget: Int? = nil
    public var hideReasoning = false
    /// Text the engine inserts before it closes the reasoning (nil or empty: none); `--think-soft`: from this
    /// fraction of the reasoning limit on, the close's probability is raised step by step (nil: off).
    public var thinkMessage: String? = GenerationRequest.defaultThinkMessage
    public var thinkSoft: Double? = nil
    /// The budget message `slm` uses unless told otherwise (chosen by measurement: Benchmarks/README.md).
    public static let defaultThinkMessage: String? = nil

    public init(prompt: [Int32], contextLength: Int) {
        self.prompt = prompt
        self.contextLength = contextLength
    }
}

extension Engine {
    /// Prefills the prompt, then decodes one token at a time, streaming text through `emit` (never half a UTF-8
    /// character, never stop-string text). Fails before any work if prompt + maxTokens exceed the context or the
    /// budgets cannot end in a valid answer (`budgetPlan(for:)`).
    public func generate(_ request: GenerationRequest, emit: (String) -> Void) throws(EngineError) -> GenerationStats {
        var stats = GenerationStats()
        let prompt = request.prompt
        guard !prompt.isEmpty else { throw .emptyPrompt }
        stats.promptTokens = prompt.count
        let plan = try budgetPlan(for: request)
        let vocab = request.grammar == nil ? nil : TokenVocabulary.shared(for: tokenizer, key: file.path)
        var control = DecodeControl(request: request, plan: plan, tokenizer: tokenizer, vocab: vocab)
        let input = prompt + control.promptSuffix
        let (total, overflow) = input.count.addingReportingOverflow(max(request.maxTokens, 0))
        guard !overflow, total <= request.contextLength else {
            throw .invalidArgument("prompt (\(prompt.count) tokens) + --max-tokens (\(request.maxTokens)) exceeds the context of \(request.contextLength) tokens; raise --ctx or lower --max-tokens")
        }
        let cache = try makeCache(capacity: request.contextLength)
        var sampler = Sampler(request.sampling, history: prompt)
        var detok = StreamingDetokenizer(tokenizer: tokenizer, renderSpecial: false)
        var stopper = StopMatcher(stops: request.stops)
        var logits: [Float] = []
        let clock = ContinuousClock()

        // A model whose weights hold NaN yields NaN logits; sampling from them would emit garbage (or worse). A NaN
        // inside the network reaches every logit, so per decode step the ends of the row suffice (an isolated NaN
        // logit from one bad output row is treated as -inf by the sampler); the prompt's row is checked in full.
        func checkLogits(_ position: Int, full: Bool = false) throws(EngineError) {
            let v = config.vocabularySize
            let bad = full ? logits[0..<v].contains(where: { $0.isNaN }) : (logits[0].isNaN || logits[v - 1].isNaN)
            if bad { throw .nanLogits(position: position) }
        }

        let t0 = clock.now
        let prefilled = try prefill(input, cache: cache, prefixCache: request.prefixCache, into: &logits)
        try checkLogits(input.count - 1, full: true)
        stats.prefillMs = (clock.now - t0).milliseconds
        stats.cachedTokens = prefilled.cachedTokens
        defer { request.prefixCache?.store(prefilled.blocks) }
        stats.stopReason = .length
        guard request.maxTokens > 0 else { return stats }

        let t1 = clock.now
        if !control.openingText.isEmpty { emit(control.openingText) }
        var token: Int32 = 0
        var step: [Int32] = [0]
        decode: while true {
            let next = logits.withUnsafeBufferPointer {
                control.next(UnsafeBufferPointer(rebasing: $0[0..<config.vocabularySize]), sampler: &sampler,
                             left: request.maxTokens - stats.generatedTokens)
            }
            var visible = true
            switch next {
            case .end(let reason): stats.stopReason = reason; break decode
            case .insert(let tokens, let text):
                let (out, stopped) = stopper.feed(detok.flush() + text)
                if !out.isEmpty { emit(out) }
                if stopped { stats.stopReason = .stop; break decode }
                stats.generatedTokens += tokens.count
                if stats.generatedTokens >= request.maxTokens { break decode }
                try evaluate(tokens, cache: cache, outputs: .last, into: &logits)
                continue decode
            case .token(let t, let reasoning):
                token = t
                visible = !reasoning || control.printsReasoning
            }
            sampler.accept(token)
            if !request.ignoreEOS && tokenizer.eogTokens.contains(token) { stats.stopReason = .eos; break }
            stats.generatedTokens += 1
            if visible {
                let piece = detok.append(token)
                let (out, stopped) = stopper.feed(piece)
                if !out.isEmpty { emit(out) }
                if stopped { stats.stopReason = .stop; break }
            }
            if stats.generatedTokens >= request.maxTokens { stats.stopReason = control.stopReasonAtLimit; break }
            step[0] = token
            try evaluate(step, cache: cache, outputs: .last, into: &logits)
            try checkLogits(input.count + stats.generatedTokens - 1)
        }
        control.report(into: &stats)
        stats.decodeMs = (clock.now - t1).milliseconds
        if stats.stopReason != .stop {
            let rest = stopper.feed(detok.flush())
            emit(rest.emit + (rest.stopped ? "" : stopper.finish()))
        }
        return stats
    }
}

extension Duration {
    var milliseconds: Double {
        let (s, atto) = components
        return Double(s) * 1000 + Double(atto) / 1e15
    }
}
