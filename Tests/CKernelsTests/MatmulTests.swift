import CKernels
import XCTest

final class MatmulTests: XCTestCase {
    /// A weight matrix [nOut, nIn] of `type` built from seeded floats, with its dequantized values.
    private struct Weights {
        let type: slm_type
        let nOut: Int, nIn: Int
        let bytes: [UInt8]
        let values: [Float]  // dequantized, [nOut * nIn]

        init(_ type: slm_type, nOut: Int, nIn: Int, seed: UInt64) {
            var rng = SeededFloats(seed: seed)
            let w = rng.array(nOut * nIn)
            self.type = type; self.nOut = nOut; self.nIn = nIn
            bytes = quantize(w, type)
            values = dequantize(bytes, type, count: nOut * nIn)
        }
    }

    private func withPool<R>(_ n: Int, _ body: (OpaquePointer?) throws -> R) rethrows -> R {
        let tp = n == 0 ? nil : slm_threadpool_create(Int32(n))
        defer { slm_threadpool_destroy(tp) }
        return try body(tp)
    }

    /// Work buffer of exactly slm_matmul_work_size bytes plus a guard tail that must stay untouched.
    private func withWork<R>(_ w: Weights, tokens: Int, threads: Int, _ body: (UnsafeMutableRawPointer) -> R) -> R {
        let size = slm_matmul_work_size(w.type, Int64(w.nIn), Int64(tokens), Int32(max(threads, 1)))
        let guardBytes = 256
        let buf = UnsafeMutableRawPointer.allocate(byteCount: size + guardBytes, alignment: 16)
        defer { buf.deallocate() }
        buf.initializeMemory(as: UInt8.self, repeating: 0xa5, count: size + guardBytes)
        let r = body(buf)
        let tail = UnsafeBufferPointer(start: (buf + size).assumingMemoryBound(to: UInt8.self), count: guardBytes)
        XCTAssertTrue(tail.allSatisfy { $0 == 0xa5 }, "\(typeName(w.type)): wrote past slm_matmul_work_size")
        return r
    }

    private func matmul(_ w: Weights, _ x: [Float], tokens: Int, pool: OpaquePointer?, threads: Int) -> [Float] {
        var y = [Float](repeating: .nan, count: tokens * w.nOut)
        withWork(w, tokens: tokens, threads: threads) { work in
            w.bytes.withUnsafeBytes { wb in
                if tokens == 1 {
                    slm_matvec(pool, w.type, wb.baseAddress, Int64(w.nOut), Int64(w.nIn), x, &y, work)
                } else {
                    slm_matmul(pool, w.type, wb.baseAddress, Int64(w.nOut), Int64(w.nIn), x, Int64(tokens), &y, work)
                }
            }
        }
        return y
    }

    private func reference(_ w: Weights, _ x: [Float], tokens: Int) -> [Float] {
        var y = [Float](repeating: .nan, count: tokens * w.nOut)
        w.bytes.withUnsafeBytes { wb in
            slm_matmul_ref(w.type, wb.baseAddress, Int64(w.nOut), Int64(w.nIn), x, Int64(tokens), &y)
        }
        return y
    }

    /// |fast - ref| bounds for every output [tokens, nOut]. The reference uses f32 activations; the fast path first
    /// rounds each 32-block of x to int8 (error <= amax/254 per element, plus the f16 rounding of the block scale,
    /// 2^-11 of amax) and, for Q4_1, uses s = f16(d * sum q) (2^-11 relative, |s| <= 32 amax) for the minimum
    /// term. On top comes float accumulation in any order (accumulationBound, for both sides).
    private func bounds(_ w: Weights, _ x: [Float], tokens: Int) -> [Double] {
        let n = w.nIn
        let quantized = traits(w.type).vec_dot_type != SLM_TYPE_F32
        var out = [Double](repeating: 0, count: tokens * w.nOut)
        w.values.withUnsafeBufferPointer { wv in
            x.withUnsafeBufferPointer { xv in
                for t in 0..<tokens {
                    let xs = xv.baseAddress! + t * n
                    for o in 0..<w.nOut {
                        let row = wv.baseAddress! + o * n
                        var absSum = 0.0, b = 0.0
                        for blk in 0..<(n / 32) {
                            var amax = 0.0, wAbs = 0.0, wMin = Double.infinity
                            for j in (blk * 32)..<(blk * 32 + 32) {
                                let a = Double(row[j]), xj = Double(xs[j])
                                absSum += abs(a * xj)
                                amax = max(amax, abs(xj)); wAbs += abs(a); wMin = min(wMin, abs(a))
                            }
                            if quantized { b += wAbs * amax * (0.5 / 127 + 0x1p-11) * 1.001 }
                            if w.type == SLM_TYPE_Q4_1 { b += wMin * 32 * amax * 0x1p-10 }
                        }
                        for j in (n / 32 * 32)..<n { absSum += abs(Double(row[j]) * Double(xs[j])) }
                        out[t * w.nOut + o] = b + 2 * accumulationBound(n: n, absSum: absSum)
                    }
                }
            }
        }
        return out
    }

    private func assertClose(_ got: [Float], _ ref: [Float], bounds: [Double], _ label: String) {
        var failures = 0
        for i in 0..<got.count {
            let diff = abs(Double(got[i]) - Double(ref[i]))
            if !(diff <= bounds[i]) {  // NaN (an output never written) fails too
                failures += 1
                if failures <= 5 { XCTFail("\(label) output \(i): \(got[i]) vs \(ref[i]) (bound \(bounds[i]))") }
            }
        }
    }

    func testMatvecMatchesReference() {
        let shapes = [(576, 1536), (1536, 576), (192, 576), (1000, 64), (37, 96)]  // (nOut, nIn)
        for type in weightTypes {
            for (i, (nOut, nIn)) in shapes.enumerated() {
                let w = Weights(type, nOut: nOut, nIn: nIn, seed: UInt64(10 + i))
                var rng = SeededFloats(seed: UInt64(100 + i))
                let x = rng.array(nIn)
                let ref = reference(w, x, tokens: 1), b = bounds(w, x, tokens: 1)
                for threads in [0, 2, 3] {
                    withPool(threads) { tp in
                        let y = matmul(w, x, tokens: 1, pool: tp, threads: threads)
                        assertClose(y, ref, bounds: b, "matvec \(typeName(type)) \(nOut)x\(nIn) threads=\(threads)")
                    }
                }
            }
        }
    }

    func testMatmulMatchesReference() {
        let shapes = [(192, 576), (1000, 64), (37, 96)]
        for type in weightTypes {
            for (i, (nOut, nIn)) in shapes.enumerated() {
                let w = Weights(type, nOut: nOut, nIn: nIn, seed: UInt64(20 + i))
                var rng = SeededFloats(seed: UInt64(200 + i))
                let tokens = 5
                let x = rng.array(tokens * nIn)
                let ref = reference(w, x, tokens: tokens)
                withPool(3) { tp in
                    let y = matmul(w, x, tokens: tokens, pool: tp, threads: 3)
                    assertClose(y, ref, bounds: bounds(w, x, tokens: tokens), "matmul \(typeName(type)) \(nOut)x\(nIn)")
                }
            }
        }
    }

    /// Token t's output is bit-identical whether it is computed alone (decode), in one prefill batch, or in
    /// batches of other sizes, and whatever the thread count.
    func testBatchInvarianceIsBitExact() {
        let tokens = 7
        for type in weightTypes {
            let w = Weights(type, nOut: 1000, nIn: 576, seed: 30)
            var rng = SeededFloats(seed: 300)
            let x = rng.array(tokens * 576)
            var singles: [Float] = []
            withPool(2) { tp in
                for t in 0..<tokens {
                    singles += matmul(w, Array(x[(t * 576)..<((t + 1) * 576)]), tokens: 1, pool: tp, threads: 2)
                }
            }
            for threads in [0, 2, 3] {
                withPool(threads) { tp in
                    let whole = matmul(w, x, tokens: tokens, pool: tp, threads: threads)
                    XCTAssertTrue(whole.elementsEqual(singles) { $0.bitPattern == $1.bitPattern },
                                  "\(typeName(type)) threads=\(threads): prefill of 7 differs from 7 decodes")
                    let first = matmul(w, Array(x[0..<(3 * 576)]), tokens: 3, pool: tp, threads: threads)
                    let rest = matmul(w, Array(x[(3 * 576)...]), tokens: 4, pool: tp, threads: threads)
                    XCTAssertTrue((first + rest).elementsEqual(singles) { $0.bitPattern == $1.bitPattern },
                                  "\(typeName(type)) threads=\(threads): batches 3+4 differ from 7 decodes")
                }
            }
        }
    }

    /// Decode hands rows to threads in slices that idle threads steal from; on an oversubscribed pool (more
    /// threads than cores, so some are descheduled mid-slice) every row is still computed exactly once and
    /// the result is bit-identical to the single-threaded one, run after run.
    func testDecodeWithStealingIsBitExact() {
        for type in weightTypes {
            let w = Weights(type, nOut: 2000, nIn: 576, seed: 31)
            var rng = SeededFloats(seed: 310)
            let x = rng.array(576)
            let single = matmul(w, x, tokens: 1, pool: nil, threads: 0)
            for threads in [5, 8] {
                withPool(threads) { tp in
                    for run in 0..<20 {
                        let y = matmul(w, x, tokens: 1, pool: tp, threads: threads)
                        if !y.elementsEqual(single, by: { $0.bitPattern == $1.bitPattern }) {
                            XCTFail("\(typeName(type)) threads=\(threads) run \(run): decode differs from 1 thread")
                            return
                        }
                    }
                }
            }
        }
    }

    func testGetRowDequantizesOneRow() {
        for type in weightTypes {
            let w = Weights(type, nOut: 9, nIn: 96, seed: 40)
            var dst = [Float](repeating: .nan, count: 96)
            w.bytes.withUnsafeBytes { slm_get_row(type, $0.baseAddress, 96, 5, &dst) }
            XCTAssertEqual(dst, Array(w.values[(5 * 96)..<(6 * 96)]), typeName(type))
        }
    }
}
