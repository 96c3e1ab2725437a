/// Sampling under a grammar without paying for a mask each step. First the ordinary chain picks a token; when the
/// grammar allows it (the usual case) that is the answer. Otherwise the step is redone on the allowed tokens only,
/// which is exactly "mask, then the chain": penalties first, then the mask, then top-k/top-p/min-p/temperature.
/// With top-k = K (greedy: K = 1) the masked top-K are the first K allowed tokens in logit order, so a scan of the
/// best few hundred candidates usually finds them without a full-vocabulary mask.
extension Sampler {
    /// The next token under `grammar`, or nil when the grammar allows no token at all.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>, grammar: inout GrammarProcessor) -> Int32? {
        if grammar.mustEnd { return grammar.vocab.eog.min() }
        let first = sample(logits)
        if grammar.allows(first) { return first }
        var (c, split) = penalized(logits)
        if !keepAllowed(&c, final: false, { grammar.allows($0) }) { grammar.apply(&c) }
        return draw(&c, from: split)
    }

    /// The next token among the best-ranked candidates (a scan of a few hundred, no full-vocabulary pass) that
    /// `admit` accepts, drawn by the rest of the chain; nil when none of them is admitted. For steering, where a
    /// predicate costs too much to ask of every token.
    mutating func sample(_ logits: UnsafeBufferPointer<Float>, admitting admit: (Int32) -> Bool) -> Int32? {
        var (c, split) = penalized(logits)
        _ = keepAllowed(&c, final: true, admit)
        return draw(&c, from: split)
    }

    /// The candidates after the chain's penalties (processors before `split`), which a mask must not precede.
    private mutating func penalized(_ logits: UnsafeBufferPointer<Float>) -> (Candidates, Int) {
        var c = Candidates(logits: logits)
        let split = (processors.firstIndex { $0 is RepeatPenalty } ?? -1) + 1
        for i in 0..<split { processors[i].apply(&c) }
        return (c, split)
    }

    /// Narrows `c` to the first top-k allowed tokens of a scan of the best-ranked; true when that settles it (k
    /// found, or the scan covered every candidate, or `final`: the scan's finds are all there will be).
    private func keepAllowed(_ c: inout Candidates, final: Bool, _ allowed: (Int32) -> Bool) -> Bool {
        let k = parameters.temperature <= 0 ? 1 : max(parameters.topK, 0)
        guard c.count > 0 else { return true }
        let scan = min(max(4 * k, 256), c.count)
        var top = c
        top.keepTop(scan)
        var ids: [Int32] = [], values: [Float] = []
        for i in 0..<top.count where allowed(top.ids[i]) {
            ids.append(top.ids[i]); values.append(top.logits[i])
            if ids.count == k { break }
        }
        guard k > 0 || final, ids.count == k || scan == c.count || final else { return false }
        c.ids = ids; c.logits = values; c.sorted = true
        return true
    }

    /// The rest of the chain from `split`, then the draw (greedy: the best logit, ties to the lower id).
    private mutating func draw(_ c: inout Candidates, from split: Int) -> Int32? {
        guard c.count > 0 else { return nil }
        for i in split..<processors.count { processors[i].apply(&c) }
        guard c.count > 0 else { return nil }
        if parameters.temperature <= 0 {
            var best = 0
            for i in 1..<c.count where c.logits[i] > c.logits[best] || (c.logits[i] == c.logits[best] && c.ids[i] < c.ids[best]) {
                best = i
            }
            return c.ids[best]
        }
        let probs = c.probabilities()
        let r = rng.nextUnitFloat()
        var acc: Float = 0
        for i in 0..<probs.count {
            acc += probs[i]
            if r < acc { return c.ids[i] }
        }
        return c.ids[c.count - 1]
    }
}
