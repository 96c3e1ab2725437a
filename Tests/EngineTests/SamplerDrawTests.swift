import XCTest
@testable import SLMEngine

/// The unconstrained step and the constrained one end in the same draw: with a predicate that admits every token, a
/// steered step (`sample(_:admitting:)`) draws what `sample(_:)` draws from the same seed, step after step.
final class SamplerDrawTests: XCTestCase {
    func testAdmittingEveryTokenDrawsWhatTheChainDraws() {
        var rng = SeededGenerator(seed: 17)
        for trial in 0..<48 {
            let n = [5, 300, 4000][trial % 3]
            var row = (0..<n).map { _ in Float(Int(rng.next() % 64)) / 8 - 4 }  // coarse values: many ties
            if trial % 4 == 0 { row[Int(rng.next() % UInt64(n))] = .nan }
            var p = SamplingParameters()
            p.seed = UInt64(trial)
            p.topK = [1, 7, 40, 100][trial % 4]  // the scan keeps the top max(4k, 256): all of top-k
            p.topP = [1, 0.9, 0.5][(trial / 2) % 3]
            p.minP = [0, 0.05, 0.3][(trial / 3) % 3]
            p.repeatPenalty = trial % 5 == 0 ? 1.3 : 1
            p.temperature = [0, 0.7, 1.5][(trial / 4) % 3]
            let history = (0..<16).map { _ in Int32(rng.next() % UInt64(n)) }
            var plain = Sampler(p, history: history)
            var steered = Sampler(p, history: history)
            for step in 0..<8 {
                let a = row.withUnsafeBufferPointer { plain.sample($0) }
                let b = row.withUnsafeBufferPointer { steered.sample($0) { _ in true } }
                XCTAssertEqual(a, b, "trial \(trial) step \(step)")
                plain.accept(a)
                steered.accept(a)
                row[Int(rng.next() % UInt64(n))] += 2
            }
        }
    }
}
