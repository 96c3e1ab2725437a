/// Why generation ended: `eos` the model ended (or the grammar completed), `length` max_tokens ran out (a grammar
/// answer is still complete: see `answerShortened`), `stop` a stop string appeared.
public enum StopReason: String, Sendable, Codable {
    case eos, length, stop
    /// Stopped by a cancellation (Ctrl-C) before any other reason.
    case interrupted
}

/// Who ended a reasoning section: the model itself, the engine at the think budget, or the engine earlier so that
/// the close marker and the shortest answer fit in max_tokens.
public enum ReasoningEnd: String, Sendable, Codable {
    case model, thinkBudget = "think_budget", maxTokens = "max_tokens"
}

/// The `--stats-file` object (docs/INTERFACE.md).
public struct GenerationStats: Sendable, Codable, Equatable {
    public var promptTokens = 0
    public var cachedTokens = 0
    public var generatedTokens = 0
    public var reasoningTokens = 0
    public var prefillMs = 0.0
    public var decodeMs = 0.0
    public var stopReason: StopReason = .length
    /// Prompt positions the prefill computed (the prompt, plus any tokens the engine appended to it, minus those
    /// restored from the prefix cache; fewer when interrupted).
    public var computedTokens = 0
    /// The sampler's seed: the same seed and options repeat the run.
    public var seed: UInt64 = 0
    /// Model load and the whole command (load, tokenization, generation), measured by the caller; 0 when not set.
    public var loadMs = 0.0
    public var totalMs = 0.0
    /// The engine finished a grammar answer early (steering to a shortest completion) to fit max_tokens.
    public var answerShortened = false
    /// Budget figures: the request's think budget, the reasoning limit it came to under max_tokens, who ended the
    /// reasoning ("model", "think_budget", "max_tokens"), the fewest tokens of a valid answer, and the tokens the
    /// engine inserted (budget message and close marker, counted in generated_tokens).
    public var thinkBudget: Int? = nil
    public var reasoningLimit: Int? = nil
    public var reasoningEnd: ReasoningEnd? = nil
    public var answerMinTokens = 0
    public var insertedTokens = 0
    /// The request's share of the machine's time when it ran beside others (each batched step's time split by the
    /// rows each sequence brought); nil when it ran alone (prefill + decode time is its own). Not in the stats file.
    public var machineMs: Double? = nil
    /// Speculative decoding (single-sequence `generate`): draft tokens verified, and those the sampler accepted
    /// (each accepted one is a token produced without a forward pass of its own).
    public var draftedTokens = 0
    public var acceptedTokens = 0

    /// Over the positions actually computed, not those restored from the cache.
    public var prefillTokensPerSecond: Double {
        prefillMs > 0 ? Double(computedTokens) / (prefillMs / 1000) : 0
    }
    /// Decode rate over the tokens produced by single-token steps (the first token comes from prefill).
    public var decodeTokensPerSecond: Double {
        decodeMs > 0 ? Double(max(generatedTokens - 1, 0)) / (decodeMs / 1000) : 0
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", cachedTokens = "cached_tokens", generatedTokens = "generated_tokens"
        case reasoningTokens = "reasoning_tokens", prefillMs = "prefill_ms", decodeMs = "decode_ms"
        case prefillTokensPerSecond = "prefill_tokens_per_s", decodeTokensPerSecond = "decode_tokens_per_s"
        case stopReason = "stop_reason", answerShortened = "answer_shortened", thinkBudget = "think_budget"
        case reasoningLimit = "reasoning_limit", reasoningEnd = "reasoning_end", answerMinTokens = "answer_min_tokens"
        case insertedTokens = "inserted_tokens"
        case draftedTokens = "drafted_tokens", acceptedTokens = "accepted_tokens"
        case computedTokens = "computed_tokens", seed, loadMs = "load_ms", totalMs = "total_ms"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptTokens, forKey: .promptTokens)
        try c.encode(cachedTokens, forKey: .cachedTokens)
        try c.encode(generatedTokens, forKey: .generatedTokens)
        try c.encode(reasoningTokens, forKey: .reasoningTokens)
        try c.encode(prefillMs, forKey: .prefillMs)
        try c.encode(decodeMs, forKey: .decodeMs)
        try c.encode(prefillTokensPerSecond, forKey: .prefillTokensPerSecond)
        try c.encode(decodeTokensPerSecond, forKey: .decodeTokensPerSecond)
        try c.encode(stopReason, forKey: .stopReason)
        try c.encode(computedTokens, forKey: .computedTokens)
        try c.encode(seed, forKey: .seed)
        try c.encode(loadMs, forKey: .loadMs)
        try c.encode(totalMs, forKey: .totalMs)
        try c.encode(answerShortened, forKey: .answerShortened)
        try c.encode(thinkBudget, forKey: .thinkBudget)
        try c.encode(reasoningLimit, forKey: .reasoningLimit)
        try c.encode(reasoningEnd, forKey: .reasoningEnd)
        try c.encode(answerMinTokens, forKey: .answerMinTokens)
        try c.encode(insertedTokens, forKey: .insertedTokens)
        try c.encode(draftedTokens, forKey: .draftedTokens)
        try c.encode(acceptedTokens, forKey: .acceptedTokens)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        promptTokens = try c.decode(Int.self, forKey: .promptTokens)
        cachedTokens = try c.decode(Int.self, forKey: .cachedTokens)
        generatedTokens = try c.decode(Int.self, forKey: .generatedTokens)
        reasoningTokens = try c.decode(Int.self, forKey: .reasoningTokens)
        prefillMs = try c.decode(Double.self, forKey: .prefillMs)
        decodeMs = try c.decode(Double.self, forKey: .decodeMs)
        stopReason = try c.decode(StopReason.self, forKey: .stopReason)
        computedTokens = try c.decodeIfPresent(Int.self, forKey: .computedTokens) ?? 0
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        loadMs = try c.decodeIfPresent(Double.self, forKey: .loadMs) ?? 0
        totalMs = try c.decodeIfPresent(Double.self, forKey: .totalMs) ?? 0
        answerShortened = try c.decodeIfPresent(Bool.self, forKey: .answerShortened) ?? false
        thinkBudget = try c.decodeIfPresent(Int.self, forKey: .thinkBudget)
        reasoningLimit = try c.decodeIfPresent(Int.self, forKey: .reasoningLimit)
        reasoningEnd = try c.decodeIfPresent(ReasoningEnd.self, forKey: .reasoningEnd)
        answerMinTokens = try c.decodeIfPresent(Int.self, forKey: .answerMinTokens) ?? 0
        insertedTokens = try c.decodeIfPresent(Int.self, forKey: .insertedTokens) ?? 0
        draftedTokens = try c.decodeIfPresent(Int.self, forKey: .draftedTokens) ?? 0
        acceptedTokens = try c.decodeIfPresent(Int.self, forKey: .acceptedTokens) ?? 0
    }
}
