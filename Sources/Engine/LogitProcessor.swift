/// The tokens still in play at one sampling step, with their scores. Processors narrow and reshape it in order;
/// sampling and grammar code knows nothing of tensors, only of this list.
public struct Candidates {
    public var ids: [Int32]
    public var logits: [Float]
    /// True once `ids`/`logits` are sorted by logit, highest first.
    public var sorted = false

    public init(logits: UnsafeBufferPointer<Float>) {
        ids = Array(0..<Int32(logits.count))
        self.logits = Array(logits)
    }

    public var count: Int { ids.count }

    /// Keeps the `k` highest (ties broken by lower id), sorted. O(n + k log k) via a threshold partition.
    public mutating func keepTop(_ k: Int) {
        let k = max(1, min(k, count))
        if sorted {
            let drop = count - k   // computed once: `count` follows `ids`
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
