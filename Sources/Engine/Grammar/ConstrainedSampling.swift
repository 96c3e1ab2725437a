/// Sampling under a grammar without paying for a mask each step. First the ordinary chain picks a token; when the
/// grammar allows it (the usual case) that is the answer. Otherwise the step is redone on the allowed tokens only,
/// which is exactly "mask, then the chain": penalties first, then the mask, then top-k/top-p/min-p/temperature and
/// the sampler's one draw. With top-k = K (greedy: K = 1) the masked top-K are the first K allowed tokens in logit
/// order, so a scan of the best few hundred candidates usually finds them without a full-vocabulary mask.
extension Sampler {
    /// The next token under `grammar`, or nil when the grammar allows no token at all.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>, grammar: inout GrammarProcessor) -> Int32? {
        if grammar.mustEnd { return grammar.vocab.eog.min() }
        let first = sample(logits)
        if grammar.allows(first) { return first }
        var c = penalized(logits)
        if !keepAllowed(&c, final: false, { grammar.allows($0) }) { grammar.apply(&c) }
        return draw(&c)
    }

    /// The next token among the best-ranked candidates (a scan of a few hundred, no full-vocabulary pass) that
    /// `admit` accepts, drawn by the rest of the chain; nil when none of them is admitted. For steering, where a
    /// predicate costs too much to ask of every token.
    mutating func sample(_ logits: UnsafeBufferPointer<Float>, admitting admit: (Int32) -> Bool) -> Int32? {
        var c = penalized(logits)
        _ = keepAllowed(&c, final: true, admit)
        return draw(&c)
    }

    /// Every token of the row after the stages a mask must not precede.
    private mutating func penalized(_ logits: UnsafeBufferPointer<Float>) -> Candidates {
        var c = Candidates(logits: logits)
        applyPenalties(&c)
        return c
    }

    /// Narrows `c` to the first top-k allowed tokens of a scan of the best-ranked; true when that settles it (k
    /// found, or the scan covered every candidate, or `final`: the scan's finds are all there will be).
    private func keepAllowed(_ c: inout Candidates, final: Bool, _ allowed: (Int32) -> Bool) -> Bool {
        let k = max(topK, 0)
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
}
