import SLMModels

/// What a prefill did with the prefix cache.
public struct PrefillResult {
    /// Prompt positions whose KV was restored instead of computed.
    public var cachedTokens = 0
    /// The prompt's complete blocks, restored then newly computed, in order: hand them to `PrefixCache.store` once
    /// the request is done (it writes the new ones and refreshes the others).
    public var blocks: [KVBlock] = []
    /// Set when a cancellation stopped the prefill early: the prompt positions computed (restored ones excluded)
    /// before it stopped. The logits are then not the last position's.
    public var interruptedAfter: Int? = nil
}

extension Engine {
    /// Evaluates `prompt` into the empty `cache`, leaving the last position's logits in `logits`. With a prefix cache:
    /// restores the longest cached prefix (never the last prompt token, whose logits are needed), computes the rest in
    /// block-aligned batches and captures each newly completed block while every layer still holds its rows.
    ///
    /// The logits equal a cold prefill's bit for bit: each position's K/V and attention do not depend on how the
    /// positions were batched (BatchInvarianceTests), and restored rows are the f16 values a cold run stores.
    /// `cancellation` is polled before each batch; when set, the blocks completed so far are returned (so they can
    /// still be saved) with `interruptedAfter` set.
    public func prefill(_ prompt: [Int32], cache: KVCache, prefixCache: PrefixCache?,
                        into logits: inout [Float], cancellation: CancellationFlag? = nil) throws(EngineError) -> PrefillResult {
        if cancellation?.isCancelled == true { return PrefillResult(interruptedAfter: 0) }
        guard let pc = prefixCache, pc.layout.layerCount == config.layerCount, pc.layout.kvDim == config.kvDim,
              cache.count == 0, !prompt.isEmpty else {
            guard let cancellation else {
                try evaluate(prompt, cache: cache, outputs: .last, into: &logits)
                return PrefillResult()
            }
            // Batch by batch (the results do not depend on the split), so that a cancellation is seen between them.
            var start = 0
            while start < prompt.count {
                if start > 0, cancellation.isCancelled { return PrefillResult(interruptedAfter: start) }
                let end = min(prompt.count, start + maxBatch)
                try evaluate(Array(prompt[start..<end]), cache: cache, outputs: end == prompt.count ? .last : .from(end - start),
                             into: &logits)
                start = end
            }
            return PrefillResult()
        }
        let bt = pc.layout.blockTokens
        let hashes = pc.layout.blockHashes(prompt)
        let found = pc.lookup(prompt)
        var result = PrefillResult()
        result.blocks = found
        result.cachedTokens = min(found.count * bt, prompt.count - 1)
        if result.cachedTokens > 0 {
            do { try cache.restore(count: result.cachedTokens, from: found) } catch { throw .model(error) }
        }
        // Batches end on block boundaries so that a block is captured right after the batch that completes it.
        let batch = maxBatch >= bt ? maxBatch / bt * bt : maxBatch
        var nextBlock = found.count
        var start = result.cachedTokens
        while start < prompt.count {
            if start > result.cachedTokens, cancellation?.isCancelled == true {
                result.interruptedAfter = start - result.cachedTokens
                break
            }
            let end = min(prompt.count, (start / batch + 1) * batch)
            let chunk = Array(prompt[start..<end])
            try evaluate(chunk, cache: cache, outputs: end == prompt.count ? .last : .from(chunk.count), into: &logits)
            while nextBlock < hashes.count, (nextBlock + 1) * bt <= end {
                let i = nextBlock
                if let b = KVBlock.capture(from: cache, layout: pc.layout, index: i, hash: hashes[i],
                                           parent: i == 0 ? pc.layout.root : hashes[i - 1],
                                           tokens: Array(prompt[(i * bt)..<((i + 1) * bt)])) {
                    result.blocks.append(b)
                }
                nextBlock += 1
            }
            start = end
        }
        return result
    }
}
