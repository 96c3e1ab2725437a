/// The processor chain for one sequence: any extra processors, the repeat penalty, then top-k, top-p, min-p and
/// temperature, then a draw (llama.cpp's order). Temperature 0 is greedy: the highest logit after the penalties,
/// ties to the lowest id. Without extra processors a step never builds a vocabulary-sized list: the penalty touches
/// the recent ids of a copy of the row and top-k picks its candidates in one pass (greedy is top-1); the arrays a
/// step needs are kept between steps.
public struct Sampler {
    public let parameters: SamplingParameters
    var rng: SeededGenerator
    /// Processors put before the penalty; with any, each step starts from the full row.
    private var extra: [any LogitProcessor]
    private var penalty: RepeatPenalty
    /// nil when greedy.
    private var filters: SamplingFilters?
    /// Kept between steps: the candidates, the penalized copy of the row, the top-k heap.
    private var work = Candidates()
    private var penalized: [Float] = []
    private var selection = TopSelection()

    public init(_ p: SamplingParameters, history: [Int32] = [], extra: [any LogitProcessor] = []) {
        parameters = p
        rng = SeededGenerator(seed: p.seed)
        self.extra = extra
        penalty = RepeatPenalty(penalty: p.repeatPenalty, window: p.repeatWindow, history: history)
        filters = p.temperature > 0 ? SamplingFilters(p) : nil
    }

    /// Chooses the next token from a row of logits.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        if filters == nil && extra.isEmpty && penalty.penalty == 1 { return Self.argmax(logits) }
        var c = Candidates()
        swap(&c, &work)
        defer { swap(&c, &work) }
        if extra.isEmpty, topK > 0 {
            top(topK, of: logits, into: &c)
        } else {
            c.refill(from: logits)
            applyPenalties(&c)
        }
        guard let token = draw(&c) else { preconditionFailure("the sampling chain left no candidate") }
        return token
    }

    public mutating func accept(_ token: Int32) {
        for i in extra.indices { extra[i].accept(token) }
        penalty.accept(token)
    }

    /// The candidates top-k keeps: the parameter (0: all), and 1 when greedy.
    var topK: Int { filters.map { $0.topK.k } ?? 1 }

    /// The `k` best of the row after the penalty, as the full chain's penalty and top-k would leave them.
    private mutating func top(_ k: Int, of logits: UnsafeBufferPointer<Float>, into c: inout Candidates) {
        guard penalty.penalty != 1 else { return c.refillTop(k, of: logits, using: &selection) }
        var row: [Float] = []
        swap(&row, &penalized)
        defer { swap(&row, &penalized) }
        if row.count != logits.count { row = [Float](repeating: 0, count: logits.count) }
        row.withUnsafeMutableBufferPointer { r in
            _ = r.initialize(from: logits)
            penalty.penalize(r)
            c.refillTop(k, of: UnsafeBufferPointer(r), using: &selection)
        }
    }

    /// The stages a grammar's mask must not precede: the extra processors and the penalty.
    mutating func applyPenalties(_ c: inout Candidates) {
        for i in extra.indices { extra[i].apply(&c) }
        penalty.apply(&c)
    }

    /// The rest of the chain (top-k, top-p, min-p, temperature) and the draw, for unconstrained and constrained
    /// steps alike: greedy takes the best logit (ties to the lower id); otherwise one uniform from the seeded stream
    /// picks from the softmax of what is left, never a token of probability 0. nil when no candidate is left.
    mutating func draw(_ c: inout Candidates) -> Int32? {
        guard c.count > 0 else { return nil }
        filters?.apply(&c)
        guard c.count > 0 else { return nil }
        guard filters != nil else {
            var best = 0
            for i in 1..<c.count where c.logits[i] > c.logits[best] || (c.logits[i] == c.logits[best] && c.ids[i] < c.ids[best]) {
                best = i
            }
            return c.ids[best]
        }
        c.computeProbabilities()
        let r = rng.nextUnitFloat()
        var acc: Float = 0
        var last = 0  // when rounding leaves the sum below r: the last token that had any probability
        for i in 0..<c.count where c.probs[i] > 0 {
            acc += c.probs[i]
            last = i
            if r < acc { return c.ids[i] }
        }
        return c.ids[last]
    }

    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        var bestValue = -Float.infinity
        for i in 0..<logits.count where logits[i] > bestValue { best = i; bestValue = logits[i] }
        return Int32(best)
    }
}
