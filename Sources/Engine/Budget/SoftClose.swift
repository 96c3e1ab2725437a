import Foundation

/// The soft reasoning budget (`--think-soft FRACTION`): from `start` reasoning tokens on, the tokens that close the
/// section (end-of-generation, which the engine turns into a close, and the first token of the close marker) get
/// together at least the probability `(k - start + 1) / (limit - start + 1)` at reasoning token k, rising step by
/// step towards the hard limit, so that the model tends to close on its own before the engine must. The raise is a
/// logit shift on those tokens alone (the ratios among the others stay as they were).
struct SoftClose {
    let start: Int
    let limit: Int
    let closing: [Int32]
    /// A copy of the logits row to shift, sized once.
    private var row: [Float] = []

    init(fraction: Double, limit: Int, closing: Set<Int32>) {
        self.limit = limit
        start = min(max(Int((fraction * Double(limit)).rounded(.up)), 0), limit)
        self.closing = closing.sorted()
    }

    /// The probability floor at reasoning token `k`, nil before the soft stretch.
    func floor(at k: Int) -> Double? {
        guard k >= start, k < limit else { return nil }
        return Double(k - start + 1) / Double(limit - start + 1)
    }

    /// Calls `body` with the logits to sample reasoning token `k` from: `logits` itself before the soft stretch or
    /// when the closing tokens already have the floor, else a copy with them shifted up to it.
    mutating func withLogits<R>(_ logits: UnsafeBufferPointer<Float>, at k: Int, _ body: (UnsafeBufferPointer<Float>) -> R) -> R {
        guard let want = floor(at: k) else { return body(logits) }
        var m = -Float.infinity
        for x in logits where x > m { m = x }
        guard m.isFinite else { return body(logits) }
        var total = 0.0, close = 0.0
        for x in logits where x.isFinite { total += exp(Double(x - m)) }
        for t in closing where Int(t) < logits.count && logits[Int(t)].isFinite { close += exp(Double(logits[Int(t)] - m)) }
        let p = close / total
        guard p > 0, p < want else { return body(logits) }
        // p' = p e^d / (p e^d + 1 - p) = want.
        let shift = Float(log(want * (1 - p) / (p * (1 - want))))
        if row.count != logits.count { row = [Float](repeating: 0, count: logits.count) }
        return row.withUnsafeMutableBufferPointer { r in
            _ = r.initialize(from: logits)
            for t in closing where Int(t) < r.count { r[Int(t)] += shift }
            return body(UnsafeBufferPointer(r))
        }
    }
}
