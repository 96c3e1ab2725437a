import Foundation
import XCTest
@testable import SLMEngine

/// The soft budget's shift: before the start the row is untouched; in the soft stretch the closing tokens together
/// have at least the floor (k - start + 1) / (limit - start + 1), exactly when they had less, and every other ratio
/// is unchanged.
final class SoftCloseTests: XCTestCase {
    func softmax(_ x: [Float]) -> [Double] {
        let m = Double(x.max()!)
        let e = x.map { exp(Double($0) - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    func testFloorRisesStepByStep() {
        var rng = SeededGenerator(seed: 4)
        let closing: Set<Int32> = [3, 17]
        var soft = SoftClose(fraction: 0.5, limit: 20, closing: closing)
        XCTAssertEqual(soft.start, 10)
        XCTAssertNil(soft.floor(at: 9))
        XCTAssertNil(soft.floor(at: 20))
        for k in 0..<20 {
            let row = (0..<50).map { i in closing.contains(Int32(i)) ? Float(-6) : Float(Int(rng.next() % 40)) / 10 }
            let out = row.withUnsafeBufferPointer { r in soft.withLogits(r, at: k) { Array($0) } }
            let p = softmax(out), p0 = softmax(row)
            let close = p[3] + p[17], close0 = p0[3] + p0[17]
            if let f = soft.floor(at: k) {
                XCTAssertEqual(f, Double(k - 9) / 11, accuracy: 1e-12)
                XCTAssertEqual(close, max(f, close0), accuracy: 1e-5, "k \(k)")
            } else {
                XCTAssertEqual(out, row, "before the soft stretch the row is untouched")
            }
            XCTAssertEqual(p[5] / p[6], p0[5] / p0[6], accuracy: 1e-6 * p0[5] / p0[6], "other ratios unchanged")
            XCTAssertEqual(p[3] / p[17], p0[3] / p0[17], accuracy: 1e-6, "closing ratios unchanged")
        }
    }
}
