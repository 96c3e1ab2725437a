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

    public init(prompt: [Int32], contextLength: Int) {
        self.prompt = prompt
        self.contextLength = contextLength
    }
}

extension Engine {
    /// Prefills the prompt, then decodes one token at a time, streaming text through `emit` (never half a UTF-8
    /// character, never stop-string text). Fails before any work if prompt + maxTokens exceed the context.
    public func generate(_ request: GenerationRequest, emit: (String) -> Void) throws(EngineError) -> GenerationStats {
        var decoder = try SequenceDecoder(request: request, engine: self)
        let cache = try makeCache(capacity: request.contextLength)
        var logits: [Float] = []
        let clock = ContinuousClock()
        let t0 = clock.now
        let prefilled = try prefill(decoder.input, cache: cache, prefixCache: request.prefixCache, into: &logits)
        let prefillMs = (clock.now - t0).milliseconds
        try logits.withUnsafeBufferPointer { (l) throws(EngineError) in
            try SequenceDecoder.check(UnsafeBufferPointer(rebasing: l[0..<config.vocabularySize]), full: true,
                                      position: cache.count - 1)
        }
        defer { request.prefixCache?.store(prefilled.blocks) }
        func text(_ piece: String, _: TextChannel) { emit(piece) }
        let t1 = clock.now
        if decoder.begin(emit: text) {
            var next = try logits.withUnsafeBufferPointer { (row) throws(EngineError) in
                try decoder.advance(row, position: cache.count - 1, emit: text)
            }
            while case .evaluate(let tokens) = next {
                try evaluate(tokens, cache: cache, outputs: .last, into: &logits)
                next = try logits.withUnsafeBufferPointer { (row) throws(EngineError) in
                    try decoder.advance(row, position: cache.count - 1, emit: text)
                }
            }
        }
        let decodeMs = (clock.now - t1).milliseconds
        var stats = decoder.finish(emit: text)
        stats.prefillMs = prefillMs
        stats.cachedTokens = prefilled.cachedTokens
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
