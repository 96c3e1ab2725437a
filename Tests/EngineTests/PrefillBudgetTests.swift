@testable import SLMEngine
import XCTest

/// The prompt rows a step may take beside running decodes, from measured step times.
final class PrefillBudgetTests: XCTestCase {
    func testWholeChunkWhenNothingDecodesSmallChunkUntilMeasured() {
        let b = PrefillBudget(chunk: 128, maxRows: 64)
        XCTAssertEqual(b.rows(decoding: 0), 128)
        XCTAssertEqual(b.rows(decoding: 3), 16)
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
}
