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

        var c = Candidates(logits: logits)
        let split = (processors.firstIndex { $0 is RepeatPenalty } ?? -1) + 1
        for i in 0..<split { processors[i].apply(&c) }
        let k = parameters.temperature <= 0 ? 1 : max(parameters.topK, 0)
        var masked = false
        if k > 0 && c.count > 0 {
            let scan = min(max(4 * k, 256), c.count)
            var top = c
            top.keepTop(scan)
            var ids: [Int32] = [], values: [Float] = []
            for i in 0..<top.count where grammar.allows(top.ids[i]) {
                ids.append(top.ids[i]); values.append(top.logits[i])
                if ids.count == k { break }
            }
            if ids.count == k || scan == c.count {
                c.ids = ids; c.logits = values; c.sorted = true
                masked = true
            }
        }
        if !masked { grammar.apply(&c) }
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
