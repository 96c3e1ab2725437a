import SLMModels

/// Draft counts of one generation, for the stats.
struct DraftCounts {
    var drafted = 0
    var accepted = 0
}

extension Engine {
    /// The decode loop with drafts from prompt lookup (and, given one, a draft model where lookup finds nothing). Each step feeds the pending token plus up to k draft tokens in one
    /// forward pass with logits for every row ([k + 1, vocabularySize]); the decoder then steps through the rows in
    /// order exactly as sequential decoding would (row j holds the logits sequential decoding computes after draft
    /// j: the kernels are batch-invariant), and the drafts are accepted while the token it chooses equals the next
    /// draft. The first row where it chooses something else (or ends, or inserts tokens) gives the next pending
    /// step; the KV positions of the rejected drafts are dropped. The sampler sees the same rows in the same order
    /// and draws from its generator once per row it steps, so the text is byte-identical to sequential decoding.
    ///
    /// `logits` holds the prompt's last row on entry. Returns true when cancelled.
    func decodeWithDrafts(_ decoder: inout SequenceDecoder, cache: KVCache, logits: inout [Float],
                          request: GenerationRequest, counts: inout DraftCounts,
                          emit: (String, TextChannel) -> Void) throws(EngineError) -> Bool {
        let v = config.vocabularySize
        let spec = request.speculation
        var lookup = PromptLookup(prompt: decoder.input, capacity: cache.capacity, shortest: spec.minMatch,
                                  longest: max(spec.minMatch, 4))
        var drafter = try request.draftModel.map { (m) throws(EngineError) in try ModelDrafter(m, capacity: cache.capacity) }
        var policy = DraftPolicy(maxLength: min(spec.draftMax, maxBatch - 1))
        var batch: [Int32] = []
        batch.reserveCapacity(spec.draftMax + 8)
        var next = try logits.withUnsafeMutableBufferPointer { (row) throws(EngineError) in
            try decoder.advance(row, position: cache.count - 1, emit: emit)
        }
        while case .evaluate(let tokens) = next {
            if request.cancellation?.isCancelled == true { return true }
            lookup.append(tokens)
            batch.removeAll(keepingCapacity: true)
            batch.append(contentsOf: tokens)
            var drafted = 0
            if tokens.count == 1 {
                // Drafts past the context or past the tokens still allowed would never be used.
                let room = min(policy.length, cache.capacity - cache.count - 1, decoder.tokensLeft - 1)
                if room > 0 { drafted = lookup.draft(room, into: &batch) }
                // Prompt lookup costs nothing; the draft model runs where it finds no match.
                if room > 0 && drafted == 0 && drafter != nil {
                    drafted = try drafter!.draft(room, after: lookup.history, into: &batch)
                }
            }
            let start = cache.count
            try evaluate(batch, cache: cache, outputs: drafted > 0 ? .all : .last, into: &logits)
            // Row r of `logits` follows batch[first + r]: the pending token, then the drafts.
            let first = batch.count - 1 - drafted
            var r = 0
            while true {
                next = try logits.withUnsafeMutableBufferPointer { (l) throws(EngineError) in
                    try decoder.advance(UnsafeMutableBufferPointer(rebasing: l[(r * v)..<((r + 1) * v)]),
                                        position: start + first + r, emit: emit)
                }
                guard r < drafted, case .evaluate(let chosen) = next, chosen.count == 1,
                      chosen[0] == batch[first + r + 1] else { break }
                lookup.append(chosen[0])
                r += 1
            }
            if drafted > 0 {
                counts.drafted += drafted
                counts.accepted += r
                policy.record(drafted: drafted, accepted: r)
                do { try cache.rewind(to: start + first + r + 1) } catch { throw .model(error) }
            }
        }
        return false
    }
}
