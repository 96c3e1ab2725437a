@testable import SLMEngine
import XCTest

/// The prompt rows a step may take beside running decodes, from measured step times.
final class PrefillBudgetTests: XCTestCase {
    func testWholeChunkWhenNothingDecodesSmallChunkUntilMeasured() {
        let b = PrefillBudget(chunk: 128, maxRows: 64)
        XCTAssertEqual(b.rows(decoding: 0), 128)
        XCTAssertEqual(b.rows(decoding: 3), 8)
    }

    /// A decode count that never ran decode-only is estimated from those that did, so it gets the room the measured
    /// neighbours leave, not the small chunk meant for a server that has timed nothing yet.
    func testUnmeasuredDecodeCountsAreEstimatedFromMeasuredOnes() {
        var b = PrefillBudget(chunk: 128, maxRows: 64, factor: 2.2, ownFactor: 1)
        b.record(decoding: 1, prompt: 0, seconds: 0.003)
        b.record(decoding: 4, prompt: 0, seconds: 0.006)
        b.record(decoding: 0, prompt: 100, seconds: 0.100)     // 1 ms per prompt row
        XCTAssertEqual(b.decodeTime(rows: 2)!, 0.004, accuracy: 1e-12)   // between 1 and 4: linear
        XCTAssertEqual(b.decodeTime(rows: 6)!, 0.008, accuracy: 1e-12)   // past 4: + 1 ms per row
        // 6.6 ms target: two decoding leave 2.6 ms (2 rows), three 1.6 ms (1 row), six none (still 1 row).
        XCTAssertEqual(b.rows(decoding: 2), 2)
        XCTAssertEqual(b.rows(decoding: 3), 1)
        XCTAssertEqual(b.rows(decoding: 6), 1)
        var up = PrefillBudget(chunk: 128, maxRows: 64, factor: 2.2)
        up.record(decoding: 3, prompt: 0, seconds: 0.005)
        XCTAssertEqual(up.decodeTime(rows: 1)!, 0.005, accuracy: 1e-12)  // below the smallest: its time, an upper bound
        XCTAssertNil(up.decodeTime(rows: 5), "nothing says what a prompt (or decode) row costs yet")
    }

    /// A server whose clients always run together never steps one sequence alone: the one-row step is then estimated
    /// below the smallest measured count (a row's cost less per missing row, at least that step's share of its rows),
    /// so a prompt beside four decoding rows is held to the factor of one sequence's step, not of the four-row step.
    func testTheOneRowStepIsEstimatedWhenNeverMeasured() {
        var b = PrefillBudget(chunk: 128, maxRows: 64, factor: 2.2, ownFactor: 1)
        b.record(decoding: 4, prompt: 0, seconds: 0.005)        // four: 5 ms
        b.record(decoding: 0, prompt: 100, seconds: 0.050)      // a prompt row costs 0.5 ms
        XCTAssertEqual(b.decodeTime(rows: 1)!, 0.0035, accuracy: 1e-12)   // 5 ms - 3 x 0.5 ms
        XCTAssertEqual(b.decodeTime(rows: 3)!, 0.0045, accuracy: 1e-12)
        // 2.2 x 3.5 ms leaves 2.7 ms beside the four: 5 rows (2.2 x the four-row step would have left 6 ms: 12).
        XCTAssertEqual(b.rows(decoding: 4), 5)
        var costly = PrefillBudget(chunk: 128, maxRows: 64)
        costly.record(decoding: 4, prompt: 0, seconds: 0.005)
        costly.record(decoding: 0, prompt: 10, seconds: 0.020)  // 2 ms a row: 5 - 3 x 2 < 0
        XCTAssertEqual(costly.decodeTime(rows: 1)!, 0.00125, accuracy: 1e-12)   // at least 5 ms / 4
    }

    func testRowsKeepTheStepWithinTheFactorOfTheFastestDecodeStep() {
        var b = PrefillBudget(chunk: 128, maxRows: 64, factor: 2.2, ownFactor: 1)
        b.record(decoding: 1, prompt: 0, seconds: 0.003)       // one sequence: 3 ms
        b.record(decoding: 4, prompt: 0, seconds: 0.005)       // four: 5 ms
        b.record(decoding: 0, prompt: 100, seconds: 0.100)     // a prompt row costs 1 ms
        // Target 2.2 x 3 ms = 6.6 ms; four decoding leave 1.6 ms: 1 row. One decoding leaves 3.6 ms: 3 rows.
        XCTAssertEqual(b.rows(decoding: 4), 1)
        XCTAssertEqual(b.rows(decoding: 1), 3)
        XCTAssertEqual(b.rows(decoding: 0), 128)
        // Mixed steps refine the row cost: (13 ms - 3 ms) / 20 rows = 0.5 ms, averaged in by rows.
        for _ in 0..<10 { b.record(decoding: 1, prompt: 20, seconds: 0.013) }
        let decay: Double = pow(0.8, 10)
        let expected: Double = (0.010 + 0.090 * decay) / (20 + 80 * decay)
        XCTAssertEqual(b.perPromptRow!, expected, accuracy: 1e-12)
        XCTAssertGreaterThan(b.rows(decoding: 1), 3)
        // Never more than the chunk, never less than one row.
        var fast = PrefillBudget(chunk: 8, maxRows: 8)
        fast.record(decoding: 1, prompt: 0, seconds: 0.010)
        fast.record(decoding: 0, prompt: 10, seconds: 0.0001)
        XCTAssertEqual(fast.rows(decoding: 1), 8)
        var slow = PrefillBudget(chunk: 8, maxRows: 8)
        slow.record(decoding: 1, prompt: 0, seconds: 0.001)
        slow.record(decoding: 2, prompt: 0, seconds: 0.010)
        slow.record(decoding: 0, prompt: 1, seconds: 0.010)
        XCTAssertEqual(slow.rows(decoding: 2), 1)
    }

    /// A prompt with more than a chunk left takes the tighter long factor beside running decodes; a short one the
    /// usual factor; with nothing decoding both take the chunk.
    func testLongPromptsTakeTheTighterShare() {
        var b = PrefillBudget(chunk: 128, maxRows: 64, factor: 2.2, longFactor: 1.4, ownFactor: 1)
        b.record(decoding: 1, prompt: 0, seconds: 0.003)       // one sequence: 3 ms
        b.record(decoding: 0, prompt: 100, seconds: 0.100)     // a prompt row costs 1 ms
        XCTAssertFalse(b.isLong(remaining: 128))
        XCTAssertTrue(b.isLong(remaining: 129))
        // One decoding: 2.2 x 3 ms leaves 3.6 ms (3 rows); 1.4 x 3 ms leaves 1.2 ms (1 row).
        XCTAssertEqual(b.rows(decoding: 1), 3)
        XCTAssertEqual(b.rows(decoding: 1, long: true), 1)
        XCTAssertEqual(b.rows(decoding: 0, long: true), 128)
        // The long factor never exceeds the short one.
        let odd = PrefillBudget(chunk: 128, maxRows: 64, factor: 1.5, longFactor: 3)
        XCTAssertEqual(odd.longFactor, 1.5)
    }

    /// Once many sequences decode, their own step exceeds the factor times the fastest: a prompt may still lengthen
    /// it by `ownFactor` (long prompts by `longOwnFactor`), instead of crawling one row per step.
    func testManyDecodingStillLeaveRoomRelativeToTheirOwnStep() {
        var b = PrefillBudget(chunk: 128, maxRows: 64, factor: 2.2, longFactor: 1.4, ownFactor: 1.3, longOwnFactor: 1.15)
        b.record(decoding: 1, prompt: 0, seconds: 0.003)       // one sequence: 3 ms
        b.record(decoding: 8, prompt: 0, seconds: 0.008)       // eight: 8 ms, beyond 2.2 x 3 ms
        b.record(decoding: 0, prompt: 100, seconds: 0.050)     // a prompt row costs 0.5 ms
        XCTAssertEqual(b.rows(decoding: 8), 4)                  // 1.3 x 8 ms leaves 2.4 ms: 4 rows
        XCTAssertEqual(b.rows(decoding: 8, long: true), 2)      // 1.15 x 8 ms leaves 1.2 ms: 2 rows
        XCTAssertEqual(b.rows(decoding: 1), 7)                  // 2.2 x 3 ms leaves 3.6 ms: 7 rows
        let odd = PrefillBudget(chunk: 128, maxRows: 64, ownFactor: 1.1, longOwnFactor: 2)
        XCTAssertEqual(odd.longOwnFactor, 1.1)
    }

    /// Steps with prompt rows that took no longer than decoding alone (the machine's jitter) bring the row cost
    /// towards zero: the rows stay within 1...chunk and the conversion never traps, however many there are.
    func testRowCostNearZeroNeverTraps() {
        // A room of 2.7 ms (1.3 x 9 ms - 9 ms) and, with ownFactor 0.5, of -4.5 ms, over a row cost decaying from
        // 1 ms through every magnitude to 0.
        var b = PrefillBudget(chunk: 128, maxRows: 64)
        var negative = PrefillBudget(chunk: 128, maxRows: 64, factor: 1, ownFactor: 0.5)
        for p in [1, 7] {
            b.record(decoding: p, prompt: 0, seconds: 0.003 * Double(p == 1 ? 1 : 3))
            negative.record(decoding: p, prompt: 0, seconds: 0.003 * Double(p == 1 ? 1 : 3))
        }
        b.record(decoding: 7, prompt: 1, seconds: 0.010)
        negative.record(decoding: 7, prompt: 1, seconds: 0.010)
        for _ in 0..<5_000 {   // steps with a prompt row that took no longer than decoding alone
            b.record(decoding: 7, prompt: 1, seconds: 0.004)
            negative.record(decoding: 7, prompt: 1, seconds: 0.004)
            XCTAssertTrue((1...128).contains(b.rows(decoding: 7)))
            XCTAssertTrue((1...128).contains(b.rows(decoding: 7, long: true)))
            XCTAssertEqual(negative.rows(decoding: 7), 1)
        }
        XCTAssertLessThan(b.perPromptRow!, 1e-300)
        XCTAssertEqual(b.rows(decoding: 7), 128, "no measured cost: the whole chunk")
        var slow = PrefillBudget(chunk: 128, maxRows: 64, factor: 1, ownFactor: 1)
        slow.record(decoding: 1, prompt: 0, seconds: 0.003)
        slow.record(decoding: 4, prompt: 0, seconds: 0.009)
        slow.record(decoding: 4, prompt: 1, seconds: 0.001)
        XCTAssertEqual(slow.rows(decoding: 4), 1, "no room at all and a row cost of 0 (0 / 0): one row")
        var huge = PrefillBudget(chunk: 128, maxRows: 64)
        huge.record(decoding: 1, prompt: 0, seconds: 0.003)
        huge.record(decoding: 0, prompt: 1, seconds: .infinity)
        XCTAssertEqual(huge.perPromptRow, 0, "a step time that is not finite is no measurement of a row")
        XCTAssertEqual(huge.rows(decoding: 1), 128)
    }
}
