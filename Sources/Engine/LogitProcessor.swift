/// The tokens still in play at one sampling step, with their scores. Processors narrow and reshape it in order;
/// sampling and grammar code knows nothing of tensors, only of this list.
public struct Candidates {
    public var ids: [Int32]
    public var logits: [Float]
    /// True once `ids`/`logits` are sorted by logit, highest first.
    public var sorted = false

    /// A NaN logit becomes -infinity: it is never chosen and never compares unordered in the filters.
    public init(logits: UnsafeBufferPointer<Float>) {
        ids = Array(0..<Int32(logits.count))
        self.logits = logits.map { $0.isNaN ? -.infinity : $0 }
    }

    public var count: Int { ids.count }

    /// The `k` best of a full row of logits (ties to the lower id), sorted, as `keepTop(k)` would leave them, but in
    /// one pass with a k-entry heap: no vocabulary-sized arrays per token. NaN counts as -infinity.
    public static func top(_ k: Int, of row: UnsafeBufferPointer<Float>) -> Candidates {
        let k = max(1, min(k, row.count))
        var heapIds = [Int32](), heapLogits = [Float]()  // min-heap on (logit, -id): the worst kept entry at the root
        heapIds.reserveCapacity(k); heapLogits.reserveCapacity(k)
        @inline(__always) func worse(_ a: Int, _ b: Int) -> Bool {
            heapLogits[a] < heapLogits[b] || (heapLogits[a] == heapLogits[b] && heapIds[a] > heapIds[b])
        }
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heapIds.count && worse(l, m) { m = l }
                if r < heapIds.count && worse(r, m) { m = r }
                if m == i { return }
                heapIds.swapAt(i, m); heapLogits.swapAt(i, m); i = m
            }
        }
        for i in 0..<row.count {
            let x = row[i].isNaN ? -Float.infinity : row[i]
            if heapIds.count < k {
                heapIds.append(Int32(i)); heapLogits.append(x)
                var j = heapIds.count - 1  // sift up
                while j > 0 {
                    let p = (j - 1) / 2
                    if !worse(j, p) { break }
                    heapIds.swapAt(j, p); heapLogits.swapAt(j, p); j = p
                }
            } else if x > heapLogits[0] {  // equal logits: the earlier (lower) id already held wins
                heapIds[0] = Int32(i); heapLogits[0] = x
                siftDown(0)
            }
        }
        let order = (0..<heapIds.count).sorted {
            heapLogits[$0] > heapLogits[$1] || (heapLogits[$0] == heapLogits[$1] && heapIds[$0] < heapIds[$1])
        }
        return Candidates(ids: order.map { heapIds[$0] }, logits: order.map { heapLogits[$0] }, sorted: true)
    }

    init(ids: [Int32], logits: [Float], sorted: Bool) {
        self.ids = ids
        self.logits = logits
        self.sorted = sorted
    }

    /// Keeps the `k` highest (ties broken by lower id), sorted. O(n + k log k) via a threshold partition.
    public mutating func keepTop(_ k: Int) {
        let k = max(1, min(k, count))
        if sorted {
            let drop = count - k  // computed once: `count` shrinks as soon as ids is trimmed
            ids.removeLast(drop)
            logits.removeLast(drop)
            return
        }
        var order = Array(0..<count)
        if k < count {
            // Partial selection: nth_element-style quickselect on indices.
            var lo = 0, hi = count - 1
            let l = logits
            func better(_ a: Int, _ b: Int) -> Bool { l[a] > l[b] || (l[a] == l[b] && a < b) }
            while lo < hi {
                let pivot = order[(lo + hi) / 2]
                var i = lo, j = hi
                while i <= j {
                    while better(order[i], pivot) { i += 1 }
                    while better(pivot, order[j]) { j -= 1 }
                    if i <= j { order.swapAt(i, j); i += 1; j -= 1 }
                }
                if k - 1 <= j { hi = j } else if k - 1 >= i { lo = i } else { break }
            }
            order.removeLast(count - k)
        }
        let l = logits
        order.sort { l[$0] > l[$1] || (l[$0] == l[$1] && $0 < $1) }
        ids = order.map { ids[$0] }
        logits = order.map { l[$0] }
        sorted = true
    }

    public mutating func sortDescending() { keepTop(count) }

    /// Softmax probabilities of the current logits (temperature already applied).
    public func probabilities() -> [Float] {
        guard let m = logits.max(), m.isFinite else {
            return Array(repeating: 1 / Float(max(count, 1)), count: count)
        }
        var p = logits.map { $0 == -.infinity ? 0 : Float(Foundation.exp(Double($0 - m))) }
        let s = p.reduce(0, +)
        for i in p.indices { p[i] /= s }
        return p
    }
}

import Foundation

/// One step of the sampling chain. `apply` reshapes the candidates; `accept` tells it which token was chosen
/// (for processors with per-sequence state: repeat penalty, grammar).
public protocol LogitProcessor {
    mutating func apply(_ candidates: inout Candidates)
    mutating func accept(_ token: Int32)
}

extension LogitProcessor {
    public mutating func accept(_ token: Int32) {}
}
