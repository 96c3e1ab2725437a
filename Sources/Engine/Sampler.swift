/// Sampling settings, as the CLI and (later) the server take them.
public struct SamplingParameters: Sendable, Equatable {
    public var temperature: Float = 0.7
    public var topK: Int = 40
    public var topP: Float = 0.95
    public var minP: Float = 0.05
    public var repeatPenalty: Float = 1.0
    public var repeatWindow: Int = 64
    public var seed: UInt64 = 0xC0FFEE

    public init() {}
}

/// The processor chain for one sequence: penalties, then top-k, top-p, min-p, temperature, then a draw
/// (llama.cpp's order). Temperature 0 is greedy: the highest logit after penalties, ties to the lowest id.
public struct Sampler {
    public internal(set) var processors: [any LogitProcessor]
    var rng: SeededGenerator
    public let parameters: SamplingParameters
    /// Reusable copy of a logits row for in-place penalties (the fast path); sized once.
    private var penalized: [Float] = []

    public init(_ p: SamplingParameters, history: [Int32] = [], extra: [any LogitProcessor] = []) {
        parameters = p
        rng = SeededGenerator(seed: p.seed)
        var chain: [any LogitProcessor] = extra
        chain.append(RepeatPenalty(penalty: p.repeatPenalty, window: p.repeatWindow, history: history))
        if p.temperature > 0 {
            chain.append(TopK(p.topK))
            chain.append(TopP(p.topP))
            chain.append(MinP(p.minP))
            chain.append(Temperature(p.temperature))
        }
        processors = chain
    }

    /// Chooses the next token from a row of logits.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        if parameters.temperature <= 0 && processors.count == 1 && parameters.repeatPenalty == 1 {
            return Self.argmax(logits)
        }
        var c: Candidates
        if let fast = fastTop(logits) {
            // The default chain [penalty, top-k, ...]: penalties on the recent ids only, top-k by a heap over the row;
            // the remaining processors see exactly the candidates the generic path would give them.
            c = fast
            for i in 2..<processors.count { processors[i].apply(&c) }
        } else {
            c = Candidates(logits: logits)
            for i in processors.indices { processors[i].apply(&c) }
        }
        if parameters.temperature <= 0 {
            var best = 0
            for i in 1..<max(c.count, 1) where c.logits[i] > c.logits[best] || (c.logits[i] == c.logits[best] && c.ids[i] < c.ids[best]) {
                best = i
            }
            return c.ids[best]
        }
        let probs = c.probabilities()
        let r = rng.nextUnitFloat()
        var acc: Float = 0
        var last = 0  // when rounding leaves the sum below r: the last token that had any probability
        for i in 0..<probs.count where probs[i] > 0 {
            acc += probs[i]
            last = i
            if r < acc { return c.ids[i] }
        }
        return c.ids[last]
    }

    /// Steps 1-2 of the default chain without vocabulary-sized work, or nil when the chain is not the default one.
    private mutating func fastTop(_ logits: UnsafeBufferPointer<Float>) -> Candidates? {
        guard processors.count >= 2, let penalty = processors[0] as? RepeatPenalty,
              let topK = processors[1] as? TopK, topK.k > 0 else { return nil }
        guard penalty.penalty != 1 else { return Candidates.top(topK.k, of: logits) }
        if penalized.count != logits.count { penalized = [Float](repeating: 0, count: logits.count) }
        return penalized.withUnsafeMutableBufferPointer { row in
            _ = row.initialize(from: logits)
            penalty.penalize(row)
            return Candidates.top(topK.k, of: UnsafeBufferPointer(row))
        }
    }

    public mutating func accept(_ token: Int32) {
        for i in processors.indices { processors[i].accept(token) }
    }

    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        var bestValue = -Float.infinity
        for i in 0..<logits.count where logits[i] > bestValue { best = i; bestValue = logits[i] }
        return Int32(best)
    }
}
