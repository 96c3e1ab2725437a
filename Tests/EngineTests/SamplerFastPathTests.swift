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
