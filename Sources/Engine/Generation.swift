import Foundation
import SLMModels
import Tokenizers

/// What to generate: the prompt tokens and when to stop.
public struct GenerationRequest: Sendable {
    public var prompt: [Int32]
    public var maxTokens = 256
    public var sampling = SamplingParameters()
    public var stops: [String] = []
    /// End-of-generation tokens are never sampled (their logits masked, as llama.cpp's ignore_eos), so the text runs
    /// to maxTokens; only a grammar that must end still ends it.
    public var ignoreEOS = false
    public var contextLength: Int
    /// Restore the prompt's longest cached prefix from here and store its new blocks after the request; nil: no cache.
    public var prefixCache: PrefixCache?
    /// Constrained decoding: the answer must match this grammar (GBNF, JSON Schema or any-JSON, compiled).
    public var grammar: Grammar? = nil
    /// Reasoning budget: nil = no reasoning section; 0 = none; N = at most N tokens, then the engine closes it.
    public var thinkBudget: Int? = nil
    public var hideReasoning = false
    /// Polled between prefill batches and decode steps: once set, generation ends with stop reason `interrupted`,
    /// keeping what it produced (text emitted, prefix blocks computed).
    public var cancellation: CancellationFlag? = nil
    /// Text the engine inserts before it closes the reasoning (nil or empty: none); `--think-soft`: from this
    /// fraction of the reasoning limit on, the close's probability is raised step by step (nil: off).
    public var thinkMessage: String? = GenerationRequest.defaultThinkMessage
    public var thinkSoft: Double? = nil
    /// Prompt-lookup speculation for `Engine.generate` (the scheduler decodes without it): same output, fewer
    /// forward passes where the text copies earlier text. Off when the kernels are not batch-invariant
    /// (SLM_MATMUL=blas), since a verified draft would then differ from sequential decoding.
    public var speculation = Speculation()
    /// A model sharing the tokenizer that drafts where prompt lookup finds nothing (`--draft-model`); used only
    /// while speculation is on.
    public var draftModel: DraftModel? = nil
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
        var decoder = try SequenceDecoder(request: request, engine: self)
        let cache = try makeCache(capacity: request.contextLength)
        var logits: [Float] = []
        let clock = ContinuousClock()
        let t0 = clock.now
        let prefilled = try prefill(decoder.input, cache: cache, prefixCache: request.prefixCache, into: &logits,
                                    cancellation: request.cancellation)
        let prefillMs = (clock.now - t0).milliseconds
        func finished(_ s: GenerationStats) -> GenerationStats {
            var s = s
            s.seed = request.sampling.seed
            s.prefillMs = prefillMs
            s.cachedTokens = prefilled.cachedTokens
            s.computedTokens = prefilled.interruptedAfter ?? decoder.input.count - prefilled.cachedTokens
            return s
        }
        if prefilled.interruptedAfter != nil {
            request.prefixCache?.store(prefilled.blocks)
            var stats = finished(decoder.stats)
            stats.stopReason = .interrupted
            return stats
        }
        try logits.withUnsafeBufferPointer { (l) throws(EngineError) in
            try SequenceDecoder.check(UnsafeBufferPointer(rebasing: l[0..<config.vocabularySize]), full: true,
                                      position: cache.count - 1)
        }
        defer { request.prefixCache?.store(prefilled.blocks) }
        func text(_ piece: String, _: TextChannel) { emit(piece) }
        let t1 = clock.now
        var interrupted = false
        var drafts = DraftCounts()
        let started = decoder.begin(emit: text)
        if started && request.speculation.enabled && KernelNumerics.batchInvariant {
            interrupted = try decodeWithDrafts(&decoder, cache: cache, logits: &logits, request: request,
                                               counts: &drafts, emit: text)
        } else if started {
            // Polled before each step: the first samples from the prompt's logits, the others evaluate first.
            var pending: [Int32]? = nil
            while true {
                if request.cancellation?.isCancelled == true { interrupted = true; break }
                if let tokens = pending { try evaluate(tokens, cache: cache, outputs: .last, into: &logits) }
                let next = try logits.withUnsafeMutableBufferPointer { (row) throws(EngineError) in
                    try decoder.advance(row, position: cache.count - 1, emit: text)
                }
                guard case .evaluate(let tokens) = next else { break }
                pending = tokens
            }
        }
        let decodeMs = (clock.now - t1).milliseconds
        var stats = finished(decoder.finish(emit: text))
        if interrupted { stats.stopReason = .interrupted }
        stats.draftedTokens = drafts.drafted
        stats.acceptedTokens = drafts.accepted
        stats.decodeMs = request.maxTokens > 0 ? decodeMs : 0
        return stats
    }
}

extension Duration {
    var milliseconds: Double {
        let (s, atto) = components
        return Double(s) * 1000 + Double(atto) / 1e15
    }
}
