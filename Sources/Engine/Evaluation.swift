import Foundation
import SLMModels

extension Engine {
    /// Teacher-forced evaluation: for each prompt position, the `top` highest (id, logit) pairs, highest first, and
    /// the log of the sum of exp(logit) over the whole vocabulary, so that a pair's probability is
    /// exp(logit - logSumExp). A row holding NaN is an error naming its position.
    public func topLogitsWithLogSumExp(_ tokens: [Int32], top: Int) throws(EngineError) -> [(top: [(Int32, Float)], logSumExp: Double)] {
        guard !tokens.isEmpty else { throw .emptyPrompt }
        let cache = try makeCache(capacity: tokens.count)
        var rows: [(top: [(Int32, Float)], logSumExp: Double)] = []
        var nanAt: Int?
        var selection = TopSelection()
        try evaluateRows(tokens, cache: cache) { pos, row in
            let lse = Self.logSumExp(row)
            if lse.isNaN && nanAt == nil { nanAt = pos }
            var best: [(Int32, Float)] = []
            selection.select(top, of: row) { best.append(($0, $1)) }
            rows.append((best, lse))
        }
        if let p = nanAt { throw .nanLogits(position: p) }
        return rows
    }

    /// llama.cpp's perplexity (tools/perplexity): whole chunks of `context` tokens (remainder dropped); where the model
    /// adds BOS, each chunk's first token is replaced by BOS; with first = context/2, the logits at positions
    /// first ..< context-1 score the tokens at first+1 ..< context, each from all positions before it in its chunk.
    /// Returns exp(mean NLL) and the number of chunks.
    /// The smallest context scores one token (position 1 predicting position 2), so `context` must be at least
    /// `minimumPerplexityContext`; a result that is not finite (NaN logits) is an error, never a figure.
    public func perplexity(_ tokens: [Int32], context: Int,
                           progress: (Int, Int, Double) -> Void = { _, _, _ in }) throws(EngineError) -> (ppl: Double, chunks: Int) {
        guard context >= Self.minimumPerplexityContext else {
            throw .invalidArgument("--ctx must be at least \(Self.minimumPerplexityContext) for perplexity (a chunk of \(context) tokens scores none)")
        }
        let chunks = tokens.count / context
        guard chunks > 0 else {
            throw .invalidArgument("the file has \(tokens.count) tokens, fewer than one chunk of --ctx \(context)")
        }
        let first = context / 2
        var nll = 0.0
        var count = 0
        for c in 0..<chunks {
            var chunk = Array(tokens[(c * context)..<((c + 1) * context)])
            if tokenizer.addBOS, let bos = tokenizer.bosToken { chunk[0] = bos }
            let cache = try makeCache(capacity: context)
            // The row of position p predicts the token at p + 1.
            var nanAt: Int?
            try evaluateRows(chunk, cache: cache, from: first) { pos, row in
                guard pos + 1 < context else { return }
                let lp = Self.logSoftmax(row, Int(chunk[pos + 1]))
                if lp.isNaN && nanAt == nil { nanAt = c * context + pos }
                nll -= lp
                count += 1
            }
            if let p = nanAt { throw .nanLogits(position: p) }
            progress(c + 1, chunks, exp(nll / Double(count)))
        }
        let ppl = exp(nll / Double(count))
        guard ppl.isFinite else { throw .invalidArgument("perplexity is not finite (\(ppl)) over \(count) scored tokens") }
        return (ppl, chunks)
    }

    /// first = context / 2 and scoring stops one before the end: context 3 is the first to score a token.
    public static let minimumPerplexityContext = 3

    static func logSumExp(_ row: UnsafeBufferPointer<Float>) -> Double {
        var m = -Float.infinity
        for x in row where x > m || x.isNaN { m = x }
        if m.isNaN { return .nan }
        var s = 0.0
        for x in row { s += exp(Double(x - m)) }
        return Double(m) + log(s)
    }

    static func logSoftmax(_ row: UnsafeBufferPointer<Float>, _ target: Int) -> Double {
        var m = -Float.infinity
        for x in row where x > m { m = x }
        var s = 0.0
        for x in row { s += exp(Double(x - m)) }
        return Double(row[target] - m) - log(s)
    }
}
