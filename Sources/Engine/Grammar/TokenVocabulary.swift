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
