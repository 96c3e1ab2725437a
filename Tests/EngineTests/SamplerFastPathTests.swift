import SLMEngine
import XCTest

/// The default chain's fast path (penalties on recent ids, top-k by a heap over the row) must draw exactly what the
/// generic processor chain draws. A no-op processor in front forces the generic path.
final class SamplerFastPathTests: XCTestCase {
    struct NoOp: LogitProcessor { mutating func apply(_ c: inout Candidates) {} }

    func testFastPathDrawsWhatTheGenericChainDraws() {
        var rng = SeededGenerator(seed: 99)
        for trial in 0..<60 {
            let n = [7, 100, 1000, 5000][trial % 4]
            var row = (0..<n).map { _ in Float(Int(rng.next() % 64)) / 8 - 4 }  // coarse values: many ties
            if trial % 5 == 0 { row[Int(rng.next() % UInt64(n))] = .nan }
            var p = SamplingParameters()
            p.seed = UInt64(trial)
            p.topK = [1, 5, 40, n + 3][trial % 4]
            p.topP = [1, 0.9, 0.5][trial % 3]
            p.minP = [0, 0.05, 0.3][(trial / 3) % 3]
            p.repeatPenalty = trial % 2 == 0 ? 1 : 1.3
            p.temperature = [0.7, 1.5, 0.2][(trial / 2) % 3]
            let history = (0..<20).map { _ in Int32(rng.next() % UInt64(n)) }
            var fast = Sampler(p, history: history)
            var generic = Sampler(p, history: history, extra: [NoOp()])
            for step in 0..<8 {
                let (a, b) = row.withUnsafeBufferPointer { (fast.sample($0), generic.sample($0)) }
                XCTAssertEqual(a, b, "trial \(trial) step \(step)")
                fast.accept(a); generic.accept(b)
            }
        }
    }

    /// The heap's top k against a full sort: highest first, ties to the lower index, NaN as -infinity (never kept
    /// before any number), infinities in place, rows whose best values sit anywhere in a 32-value block.
    func testTopMatchesASortOfTheWholeRow() {
        var rng = SeededGenerator(seed: 17)
        for n in [1, 5, 31, 32, 33, 100, 1000, 49_152] {
            for trial in 0..<6 {
                var row = (0..<n).map { _ in Float(Int(rng.next() % 200)) / 4 - 25 }
                for _ in 0..<(trial % 3) { row[Int(rng.next() % UInt64(n))] = .nan }
                if trial == 3 { row[Int(rng.next() % UInt64(n))] = .infinity }
                if trial == 4 { row[n - 1] = 1000 }
                if trial == 5 { row = row.map { _ in .nan } }
                let scores: [Float] = row.map { $0.isNaN ? -Float.infinity : $0 }
                let order: [Int] = scores.indices.sorted { a, b in
                    scores[a] > scores[b] || (scores[a] == scores[b] && a < b)
                }
                for k in [1, 3, 40] where k <= n {
                    let top = row.withUnsafeBufferPointer { Candidates.top(k, of: $0) }
                    let want: [Int] = Array(order.prefix(k))
                    XCTAssertEqual(top.ids, want.map { Int32($0) }, "n \(n) trial \(trial) k \(k)")
                    XCTAssertEqual(top.logits, want.map { scores[$0] }, "n \(n) trial \(trial) k \(k)")
                }
            }
        }
    }

    func testTopMatchesKeepTop() {
        var rng = SeededGenerator(seed: 5)
        for n in [1, 2, 33, 4096] {
            let row = (0..<n).map { _ in Float(Int(rng.next() % 16)) }
            for k in [1, 3, 40, n] {
                let heap = row.withUnsafeBufferPointer { Candidates.top(k, of: $0) }
                var full = row.withUnsafeBufferPointer { Candidates(logits: $0) }
                full.keepTop(k)
                XCTAssertEqual(heap.ids, full.ids, "n \(n) k \(k)")
                XCTAssertEqual(heap.logits, full.logits)
            }
        }
    }
}
