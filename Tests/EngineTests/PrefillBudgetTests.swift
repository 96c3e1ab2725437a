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
        var b = PrefillBudget(chunk: 128, maxRows: 64, factor: 2.2)
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

    func testRowsKeepTheStepWithinTheFactorOfTheFastestDecodeStep() {
        var b = PrefillBudget(chunk: 128, maxRows: 64, factor: 2.2)
        b.record(decoding: 1, prompt: 0, seconds: 0.003)       // one sequence: 3 ms
        b.record(decoding: 4, prompt: 0, seconds: 0.005)       // four: 5 ms
        b.record(decoding: 0, prompt: 100, seconds: 0.100)     // a prompt row costs 1 ms
        // Target 2.2 x 3 ms = 6.6 ms; four decoding leave 1.6 ms: 1 row. One decoding leaves 3.6 ms: 3 rows.
        XCTAssertEqual(b.rows(decoding: 4), 1)
        XCTAssertEqual(b.rows(decoding: 1), 3)
        XCTAssertEqual(b.rows(decoding: 0), 128)
        // Mixed steps refine the row cost: (4 ms - 3 ms) / 2 rows = 0.5 ms, averaged in.
        b.record(decoding: 1, prompt: 2, seconds: 0.004)
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
        var b = PrefillBudget(chunk: 128, maxRows: 64, factor: 2.2, longFactor: 1.4)
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
}
