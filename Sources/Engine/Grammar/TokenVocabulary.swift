import Foundation
import Tokenizers

/// Every token's output bytes, computed once per tokenizer, and the tokens sorted by those bytes with the length of
/// the prefix each shares with the one before it: an implicit trie. Walking it in order with a grammar state reuses
/// the state of the shared prefix, and a byte the grammar refuses skips every token that starts the same way.
public final class TokenVocabulary: Sendable {
    public let size: Int
    /// Bytes of token t: data[offsets[t] ..< offsets[t + 1]].
    let offsets: [Int32]
    let data: [UInt8]
    /// End-of-generation tokens: allowed exactly when the grammar may end.
    public let eog: Set<Int32>
    /// Tokens with output bytes (EOG excluded), sorted by their bytes.
    let order: [Int32]
    /// lcp[i]: length of the common prefix of order[i-1] and order[i] (0 for i = 0).
    let lcp: [Int32]

    public init(tokenizer: any Tokenizer) {
        let n = tokenizer.vocabularySize
        var offsets = [Int32](repeating: 0, count: n + 1)
        var data: [UInt8] = []
        data.reserveCapacity(n * 8)
        for t in 0..<n {
            data.append(contentsOf: tokenizer.tokenBytes(Int32(t), renderSpecial: false))
            offsets[t + 1] = Int32(data.count)
        }
        size = n
        eog = tokenizer.eogTokens
        let eog = self.eog
        var order = (0..<Int32(n)).filter { offsets[Int($0) + 1] > offsets[Int($0)] && !eog.contains($0) }
        data.withUnsafeBufferPointer { d in
            func less(_ a: Int32, _ b: Int32) -> Bool {
                let a0 = Int(offsets[Int(a)]), a1 = Int(offsets[Int(a) + 1])
                let b0 = Int(offsets[Int(b)]), b1 = Int(offsets[Int(b) + 1])
                let m = min(a1 - a0, b1 - b0)
                let c = memcmp(d.baseAddress! + a0, d.baseAddress! + b0, m)
                return c != 0 ? c < 0 : (a1 - a0) < (b1 - b0) || ((a1 - a0) == (b1 - b0) && a < b)
            }
            order.sort(by: less)
        }
        var lcp = [Int32](repeating: 0, count: order.count)
        for i in 1..<max(order.count, 1) {
            let a = Int(offsets[Int(order[i - 1])]), a1 = Int(offsets[Int(order[i - 1]) + 1])
            let b = Int(offsets[Int(order[i])]), b1 = Int(offsets[Int(order[i]) + 1])
            var k = 0
            while a + k < a1 && b + k < b1 && data[a + k] == data[b + k] { k += 1 }
            lcp[i] = Int32(k)
        }
        self.offsets = offsets
        self.data = data
        self.order = order
        self.lcp = lcp
    }

    public func bytes(_ t: Int32) -> ArraySlice<UInt8> {
        guard t >= 0, Int(t) < size else { return [] }
        return data[Int(offsets[Int(t)])..<Int(offsets[Int(t) + 1])]
    }

    /// The fewest tokens whose bytes, one after another, are `bytes` (any split, not the tokenizer's own), nil when
    /// some byte has no token. A shortest path over byte positions; the tokens that spell `bytes[i...]` from its
    /// start are found by narrowing the sorted order one byte at a time (two binary searches per byte).
    public func fewestTokens(spelling bytes: [UInt8]) -> [Int32]? {
        let n = bytes.count
        var best = [Int](repeating: Int.max, count: n + 1), next = [Int32](repeating: -1, count: n + 1)
        var step = [Int](repeating: 0, count: n + 1)
        best[n] = 0
        for i in stride(from: n - 1, through: 0, by: -1) {
            var lo = 0, hi = order.count   // order[lo..<hi]: the tokens that begin with bytes[i..<j]
            var j = i
            while j < n && lo < hi {
                let d = j - i, b = bytes[j]
                // Within the range, tokens of length d come first, then by byte d.
                func below(_ k: Int, _ orEqual: Bool) -> Bool {
                    let t = Int(order[k]), start = Int(offsets[t]), len = Int(offsets[t + 1]) - start
                    if len <= d { return true }
                    let x = data[start + d]
                    return orEqual ? x <= b : x < b
                }
                lo = partition(lo, hi) { below($0, false) }
                hi = partition(lo, hi) { below($0, true) }
                j += 1
                guard lo < hi else { break }
                let t = order[lo]
                if Int(offsets[Int(t) + 1] - offsets[Int(t)]) == j - i, best[j] != Int.max, best[j] + 1 < best[i] {
                    best[i] = best[j] + 1
                    next[i] = t
                    step[i] = j - i
                }
            }
        }
        guard best[0] != Int.max else { return nil }
        var out: [Int32] = []
        var i = 0
        while i < n { out.append(next[i]); i += step[i] }
        return out
    }

    /// The first index in lo..<hi where `isBelow` turns false (it holds for a prefix of the range).
    private func partition(_ lo: Int, _ hi: Int, _ isBelow: (Int) -> Bool) -> Int {
        var lo = lo, hi = hi
        while lo < hi {
            let mid = (lo + hi) / 2
            if isBelow(mid) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    // MARK: one vocabulary per tokenizer, shared

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: TokenVocabulary] = [:]

    /// The vocabulary for `tokenizer`, built on first use under `key` (e.g. the model path) and kept.
    public static func shared(for tokenizer: any Tokenizer, key: String) -> TokenVocabulary {
        lock.lock()
        defer { lock.unlock() }
        if let v = cache[key] { return v }
        let v = TokenVocabulary(tokenizer: tokenizer)
        cache[key] = v
        return v
    }
}
