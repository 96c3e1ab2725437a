import Foundation
import SLMEngine
import XCTest

/// The sampling chain: greedy, seeded draws, top-k, top-p, min-p, temperature, repeat penalty.
final class SamplerTests: XCTestCase {
    func parameters(temperature: Float, topK: Int = 0, topP: Float = 1, minP: Float = 0,
                    repeatPenalty: Float = 1, seed: UInt64 = 1) -> SamplingParameters {
        var p = SamplingParameters()
        p.temperature = temperature
        p.topK = topK
        p.topP = topP
        p.minP = minP
        p.repeatPenalty = repeatPenalty
        p.seed = seed
        return p
    }

    func sample(_ sampler: inout Sampler, _ logits: [Float]) -> Int32 {
        logits.withUnsafeBufferPointer { sampler.sample($0) }
    }

    func candidates(_ logits: [Float]) -> Candidates {
        logits.withUnsafeBufferPointer { Candidates(logits: $0) }
    }

    /// Logits whose softmax is exactly proportional to `weights`.
    func logits(proportionalTo weights: [Double]) -> [Float] { weights.map { Float(log($0)) } }

    // MARK: greedy

    func testGreedyPicksArgmaxTiesToLowestID() {
        var s = Sampler(parameters(temperature: 0))
        XCTAssertEqual(sample(&s, [0.5, 2, -1, 1.5]), 1)
        XCTAssertEqual(sample(&s, [1, 3, 3, 2]), 1, "tie between ids 1 and 2: the lower")
        XCTAssertEqual(sample(&s, [-.infinity, -5, -5]), 1)
        // The penalised path (not the plain argmax) breaks ties the same way: penalty 2 on id 0 turns 6 into 3.
        var p = Sampler(parameters(temperature: 0, repeatPenalty: 2), history: [0])
        XCTAssertEqual(sample(&p, [6, 3, 3]), 0, "three-way tie after the penalty: the lowest id")
        XCTAssertEqual(sample(&p, [6, 2, 3.5]), 2)
    }

    func testGreedyIgnoresTheSeedAndFilters() {
        var a = Sampler(parameters(temperature: 0, topK: 1, topP: 0.1, minP: 0.9, seed: 1))
        var b = Sampler(parameters(temperature: 0, seed: 99))
        var rng = SeededGenerator(seed: 5)
        for _ in 0..<50 {
            let row = (0..<100).map { _ in rng.nextUnitFloat() * 10 }
            let expected = Int32(row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }!)
            XCTAssertEqual(sample(&a, row), expected)
            XCTAssertEqual(sample(&b, row), expected)
        }
    }

    // MARK: seeded draws

    func testSameSeedSameDraws() {
        var rng = SeededGenerator(seed: 11)
        let rows = (0..<40).map { _ in (0..<500).map { _ in rng.nextUnitFloat() * 4 } }
        func draws(seed: UInt64) -> [Int32] {
            var s = Sampler(parameters(temperature: 1, seed: seed))
            return rows.map { row in
                let t = sample(&s, row)
                s.accept(t)
                return t
            }
        }
        XCTAssertEqual(draws(seed: 3), draws(seed: 3))
        // 40 draws over ~500 near-uniform tokens: two seeds agreeing everywhere would mean the seed is unused.
        XCTAssertNotEqual(draws(seed: 3), draws(seed: 4))
    }

    func testSeededGeneratorIsDeterministicAndInRange() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let xs = (0..<1000).map { _ in a.next() }
        XCTAssertEqual(xs, (0..<1000).map { _ in b.next() })
        XCTAssertNotEqual(xs, (0..<1000).map { _ in c.next() })
        var u = SeededGenerator(seed: 0)
        var sum = 0.0
        for _ in 0..<10_000 {
            let f = u.nextUnitFloat()
            XCTAssertTrue(f >= 0 && f < 1)
            sum += Double(f)
        }
        // Mean of 10^4 uniforms: standard error 0.0029; 0.015 is five of them.
        XCTAssertEqual(sum / 10_000, 0.5, accuracy: 0.015)
    }

    /// Draw frequencies follow softmax(logits / T).
    func frequencies(_ logits: [Float], temperature: Float, n: Int = 20_000, seed: UInt64 = 7) -> [Double] {
        var s = Sampler(parameters(temperature: temperature, seed: seed))
        var counts = [Int](repeating: 0, count: logits.count)
        for _ in 0..<n { counts[Int(sample(&s, logits))] += 1 }
        return counts.map { Double($0) / Double(n) }
    }

    func testDrawsFollowTheDistributionAndTemperature() {
        let row = logits(proportionalTo: [0.6, 0.3, 0.1])
        // 20000 draws: the standard error of a frequency is at most 0.0035; 0.02 is over five of them.
        for (f, p) in zip(frequencies(row, temperature: 1), [0.6, 0.3, 0.1]) { XCTAssertEqual(f, p, accuracy: 0.02) }
        // Temperature 2 takes the square root of the odds: weights sqrt(0.6), sqrt(0.3), sqrt(0.1), normalised.
        let hot = [0.6, 0.3, 0.1].map { $0.squareRoot() }
        let z = hot.reduce(0, +)
        for (f, p) in zip(frequencies(row, temperature: 2), hot.map { $0 / z }) { XCTAssertEqual(f, p, accuracy: 0.02) }
        // Temperature 0.25 raises the odds to the 4th power: the leader takes 0.6^4 / (0.6^4 + 0.3^4 + 0.1^4).
        let cold = [0.6, 0.3, 0.1].map { (x: Double) in x * x * x * x }
        XCTAssertEqual(frequencies(row, temperature: 0.25)[0], cold[0] / cold.reduce(0, +), accuracy: 0.02)
    }

    func testTemperatureDividesLogits() {
        var c = candidates([2, -4, 0])
        var t = Temperature(2)
        t.apply(&c)
        XCTAssertEqual(c.logits, [1, -2, 0])
        XCTAssertEqual(c.ids, [0, 1, 2])
    }

    // MARK: filters

    func testTopKKeepsTheKBestTiesToLowerID() {
        var c = candidates([1, 5, 3, 5, -2])
        var k = TopK(3)
        k.apply(&c)
        XCTAssertEqual(c.ids, [1, 3, 2])
        XCTAssertEqual(c.logits, [5, 5, 3])
        var all = candidates([1, 5, 3])
        var zero = TopK(0)
        zero.apply(&all)
        XCTAssertEqual(all.ids, [0, 1, 2], "k = 0 keeps everything")
        // Sampling with top-k 1 at any temperature is greedy.
        var s = Sampler(parameters(temperature: 5, topK: 1, seed: 9))
        for _ in 0..<50 { XCTAssertEqual(sample(&s, [0, 1, 0.9, 1, 0.5]), 1) }
    }

    /// keepTop's quickselect agrees with a full sort by (logit descending, id ascending), on rows full of ties.
    func testKeepTopMatchesAFullSort() {
        var rng = SeededGenerator(seed: 21)
        for trial in 0..<300 {
            let n = 1 + Int(rng.next() % 200)
            let row = (0..<n).map { _ in Float(rng.next() % 12) - 6 }  // few distinct values: many ties
            let k = 1 + Int(rng.next() % UInt64(n))
            var c = candidates(row)
            c.keepTop(k)
            let expected = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }.prefix(k)
            XCTAssertEqual(c.ids, expected.map(Int32.init), "trial \(trial) n \(n) k \(k)")
            XCTAssertEqual(c.logits, expected.map { row[$0] })
        }
    }

    func testTopPKeepsTheSmallestSetReachingP() {
        let row = logits(proportionalTo: [0.1, 0.5, 0.05, 0.3, 0.05])
        func kept(_ p: Float) -> [Int32] {
            var c = candidates(row)
            var t = TopP(p)
            t.apply(&c)
            return c.ids
        }
        // Cumulative probabilities in order 1, 3, 0, then the two 0.05s: 0.5, 0.8, 0.9, 0.95, 1.
        XCTAssertEqual(kept(0.4), [1])
        XCTAssertEqual(kept(0.7), [1, 3])
        XCTAssertEqual(kept(0.85), [1, 3, 0])
        XCTAssertEqual(kept(0.93), [1, 3, 0, 2], "tie between ids 2 and 4: the lower first")
        XCTAssertEqual(Set(kept(1)), [0, 1, 2, 3, 4], "p = 1 keeps everything")
    }

    func testMinPKeepsTokensNearTheBest() {
        let row = logits(proportionalTo: [0.1, 0.5, 0.05, 0.3, 0.05])
        func kept(_ p: Float) -> Set<Int32> {
            var c = candidates(row)
            var m = MinP(p)
            m.apply(&c)
            return Set(c.ids)
        }
        XCTAssertEqual(kept(0.5), [1, 3], "p >= 0.5 * 0.5 = 0.25")
        XCTAssertEqual(kept(0.15), [1, 3, 0], "p >= 0.075")
        XCTAssertEqual(kept(0.09), [0, 1, 2, 3, 4], "p >= 0.045")
        XCTAssertEqual(kept(0), [0, 1, 2, 3, 4])
    }

    func testFiltersNarrowWhatTheSamplerDraws() {
        let row = logits(proportionalTo: [0.1, 0.5, 0.05, 0.3, 0.05])
        func drawn(_ p: SamplingParameters) -> Set<Int32> {
            var s = Sampler(p)
            return Set((0..<2000).map { _ in sample(&s, row) })
        }
        // 2000 draws: a kept token of probability >= 0.05 is missed with probability below 1e-40.
        XCTAssertEqual(drawn(parameters(temperature: 1, seed: 2)), [0, 1, 2, 3, 4])
        XCTAssertEqual(drawn(parameters(temperature: 1, topK: 2, seed: 2)), [1, 3])
        XCTAssertEqual(drawn(parameters(temperature: 1, topP: 0.85, seed: 2)), [1, 3, 0])
        XCTAssertEqual(drawn(parameters(temperature: 1, minP: 0.5, seed: 2)), [1, 3])
        // The filters apply before temperature (llama.cpp's order): a high temperature cannot revive a cut token.
        XCTAssertEqual(drawn(parameters(temperature: 50, topK: 2, seed: 2)), [1, 3])
    }

    // MARK: repeat penalty

    func testRepeatPenaltyDividesPositiveAndMultipliesNegative() {
        var r = RepeatPenalty(penalty: 2, window: 64, history: [0, 2, 2])
        var c = candidates([4, 4, -3, 1])
        r.apply(&c)
        XCTAssertEqual(c.logits, [2, 4, -6, 1], "each seen token penalised once, however often it appeared")
        // Accepted tokens join the window.
        r.accept(3)
        var d = candidates([4, 4, -3, 1])
        r.apply(&d)
        XCTAssertEqual(d.logits, [2, 4, -6, 0.5])
    }

    func testRepeatPenaltyWindow() {
        var r = RepeatPenalty(penalty: 4, window: 2, history: [0, 1, 2])
        var c = candidates([8, 8, 8, 8])
        r.apply(&c)
        XCTAssertEqual(c.logits, [8, 2, 2, 8], "only the last 2 tokens of the history count")
        r.accept(3)
        var d = candidates([8, 8, 8, 8])
        r.apply(&d)
        XCTAssertEqual(d.logits, [8, 8, 2, 2], "accepting 3 pushes 1 out of the window")
        var off = RepeatPenalty(penalty: 1, history: [0])
        var e = candidates([8, -8])
        off.apply(&e)
        XCTAssertEqual(e.logits, [8, -8], "penalty 1 is off")
    }

    func testSamplerRepeatPenaltyChangesGreedyChoice() {
        var s = Sampler(parameters(temperature: 0, repeatPenalty: 1.5), history: [])
        XCTAssertEqual(sample(&s, [3, 2.5]), 0)
        s.accept(0)
        XCTAssertEqual(sample(&s, [3, 2.5]), 1, "3 / 1.5 = 2 < 2.5 once token 0 was generated")
    }

    /// NaN logits (a broken model) are never drawn, and never crash a filter.
    func testNaNLogitsAreNeverChosen() {
        let row: [Float] = [.nan, 0, .nan, 1, -.infinity]
        for p in [parameters(temperature: 1, seed: 3), parameters(temperature: 0.7, topK: 40, topP: 0.95, minP: 0.05, seed: 3),
                  parameters(temperature: 1, topP: 0.5, seed: 3), parameters(temperature: 0, repeatPenalty: 1.1)] {
            var s = Sampler(p, history: [2])
            for _ in 0..<200 { XCTAssertTrue([1, 3].contains(sample(&s, row)), "\(p)") }
        }
        // All NaN: some id in range, no trap.
        var s = Sampler(parameters(temperature: 0.7, topK: 40, topP: 0.95, minP: 0.05))
        XCTAssertTrue((0..<4).contains(sample(&s, [Float](repeating: .nan, count: 4))))
    }

    func testProbabilitiesSumToOne() {
        let c = candidates([3, -1, 0.5, -.infinity, 2])
        let p = c.probabilities()
        XCTAssertEqual(Double(p.reduce(0, +)), 1, accuracy: 1e-5)
        XCTAssertEqual(p[3], 0)
        XCTAssertEqual(p[0] / p[4], Float(exp(1.0)), accuracy: 1e-4)
    }
}
