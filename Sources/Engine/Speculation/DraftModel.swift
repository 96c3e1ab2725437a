import SLMModels

/// A smaller model with the same tokenizer as the model it drafts for (`--draft-model`): it proposes the next tokens
/// greedily, one cheap decode step each, and the target verifies them in one pass. Drafts only change how many
/// forward passes the target runs, never the output.
///
/// Used by one generation at a time (its runner and cache are not shared), as an `Engine` is.
public final class DraftModel: @unchecked Sendable {
    public let engine: Engine

    /// Checks that `engine` tokenizes exactly as `target` does (same vocabulary, same text for every id); a draft in
    /// another tokenizer's ids would be meaningless to the target.
    public init(_ engine: Engine, for target: Engine) throws(EngineError) {
        let a = engine.tokenizer, b = target.tokenizer
        guard a.vocabularySize == b.vocabularySize else {
            throw .invalidArgument("draft model has \(a.vocabularySize) tokens but the model has \(b.vocabularySize): they must share a tokenizer")
        }
        for id in 0 ..< Int32(a.vocabularySize) where a.tokenBytes(id, renderSpecial: true) != b.tokenBytes(id, renderSpecial: true) {
            throw .invalidArgument("draft model's token \(id) differs from the model's: they must share a tokenizer")
        }
        self.engine = engine
    }
}

/// One generation's drafting state on a `DraftModel`: its own KV cache, holding `fed` (a prefix of the sequence's
/// tokens, then the drafts of the last call).
struct ModelDrafter {
    let model: DraftModel
    let cache: KVCache
    private var fed: [Int32] = []
    private var input: [Int32] = []
    private var logits: [Float] = []

    init(_ model: DraftModel, capacity: Int) throws(EngineError) {
        self.model = model
        cache = try model.engine.makeCache(capacity: capacity)
        fed.reserveCapacity(capacity)
        input.reserveCapacity(capacity)
    }

    /// Appends up to `limit` greedy draft tokens continuing `history` (every token of the sequence so far, the
    /// pending ones included) and returns how many. The cache keeps what it shares with `history` and computes the rest.
    mutating func draft(_ limit: Int, after history: [Int32], into out: inout [Int32]) throws(EngineError) -> Int {
        guard limit > 0, !history.isEmpty, history.count + limit <= cache.capacity else { return 0 }
        var common = 0
        let n = min(fed.count, history.count)
        while common < n && fed[common] == history[common] { common += 1 }
        common = min(common, history.count - 1)   // at least one token to run, for the logits after the last
        do { try cache.rewind(to: common) } catch {
            // A sliding-window layer no longer holds what that position needs: start over.
            cache.reset()
            common = 0
        }
        fed.removeSubrange(common...)
        let engine = model.engine
        input.removeAll(keepingCapacity: true)
        input.append(contentsOf: history[common...])
        var produced = 0
        while true {
            try engine.evaluate(input, cache: cache, outputs: .last, into: &logits)
            fed.append(contentsOf: input)
            let next = Self.argmax(logits, engine.config.vocabularySize)
            out.append(next)
            produced += 1
            if produced == limit { return produced }
            input.removeAll(keepingCapacity: true)
            input.append(next)
        }
    }

    /// The lowest id among the highest logits.
    static func argmax(_ logits: [Float], _ v: Int) -> Int32 {
        logits.withUnsafeBufferPointer { p in
            var best = 0
            for i in 1 ..< v where p[i] > p[best] { best = i }
            return Int32(best)
        }
    }
}
