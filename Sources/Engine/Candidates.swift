import Foundation

/// The tokens still in play at one sampling step, with their scores. Processors narrow and reshape it in order;
/// sampling and grammar code knows nothing of tensors, only of this list. A sampler keeps one and refills it each
/// step, so its arrays (and the softmax buffer) are allocated once.
public struct Candidates {
    public var ids: [Int32]
    public var logits: [Float]
    /// True once `ids`/`logits` are sorted by logit, highest first.
    public var sorted = false
    /// The softmax of `logits` after `computeProbabilities()`, index for index.
    private(set) var probs: [Float] = []

    /// A NaN logit becomes -infinity: it is never chosen and never compares unordered in the filters.
    public init(logits: UnsafeBufferPointer<Float>) {
        ids = []
        self.logits = []
        refill(from: logits)
    }

    init(ids: [Int32] = [], logits: [Float] = [], sorted: Bool = true) {
        self.ids = ids
        self.logits = logits
        self.sorted = sorted
    }

    public var count: Int { ids.count }

    /// Every token of `row`, in id order, as `init(logits:)` makes them, reusing the arrays' storage.
    mutating func refill(from row: UnsafeBufferPointer<Float>) {
        ids.removeAll(keepingCapacity: true)
        logits.removeAll(keepingCapacity: true)
        ids.append(contentsOf: 0..<Int32(row.count))
        for x in row { logits.append(x.isNaN ? -.infinity : x) }
        sorted = false
    }

    /// The `k` best of a full row of logits (ties to the lower id), sorted, as `keepTop(k)` would leave them, without
    /// vocabulary-sized arrays. NaN counts as -infinity.
    public static func top(_ k: Int, of row: UnsafeBufferPointer<Float>) -> Candidates {
        var c = Candidates()
        var selection = TopSelection()
        c.refillTop(k, of: row, using: &selection)
        return c
    }

    /// `top(k, of: row)` into these arrays' storage.
    mutating func refillTop(_ k: Int, of row: UnsafeBufferPointer<Float>, using selection: inout TopSelection) {
        ids.removeAll(keepingCapacity: true)
        logits.removeAll(keepingCapacity: true)
        selection.select(max(1, k), of: row) { id, x in
            ids.append(id)
            logits.append(x)
        }
        sorted = true
    }

    /// Keeps the `k` highest (ties broken by the earlier position, which is the lower id until a sort), sorted.
    public mutating func keepTop(_ k: Int) {
        let k = max(1, min(k, count))
        if sorted {
            let drop = count - k  // computed once: `count` shrinks as soon as ids is trimmed
            ids.removeLast(drop)
            logits.removeLast(drop)
            return
        }
        var keptIds: [Int32] = [], keptLogits: [Float] = []
        keptIds.reserveCapacity(k)
        keptLogits.reserveCapacity(k)
        var selection = TopSelection()
        logits.withUnsafeBufferPointer { row in
            selection.select(k, of: row) { i, x in
                keptIds.append(ids[Int(i)])
                keptLogits.append(x)
            }
        }
        ids = keptIds
        logits = keptLogits
        sorted = true
    }

    public mutating func sortDescending() { keepTop(count) }

    /// Drops the candidates whose logit is below `threshold`, keeping the order (and so `sorted`).
    mutating func keep(atLeast threshold: Float) {
        var n = 0
        for i in 0..<count where logits[i] >= threshold {
            ids[n] = ids[i]
            logits[n] = logits[i]
            n += 1
        }
        let drop = count - n
        ids.removeLast(drop)
        logits.removeLast(drop)
    }

    /// Softmax probabilities of the current logits (temperature already applied).
    public func probabilities() -> [Float] {
        var c = self
        c.computeProbabilities()
        return c.probs
    }

    /// Fills `probs` with the softmax of the current logits: exp in double from the maximum, summed in order as floats.
    /// Without a finite maximum (all -infinity, or an infinite logit) every candidate gets the same share.
    mutating func computeProbabilities() {
        probs.removeAll(keepingCapacity: true)
        guard let m = logits.max(), m.isFinite else {
            probs.append(contentsOf: repeatElement(1 / Float(max(count, 1)), count: count))
            return
        }
        for x in logits { probs.append(x == -.infinity ? 0 : Float(Foundation.exp(Double(x - m)))) }
        let s = probs.reduce(0, +)
        for i in probs.indices { probs[i] /= s }
    }
}
