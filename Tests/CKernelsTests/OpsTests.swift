import CKernels
import Foundation
import XCTest

/// Element-wise kernels: each SIMD version against its scalar twin (`_ref`), and the twins against formulas
/// evaluated here in Double.
final class OpsTests: XCTestCase {
    // MARK: per-ISA checks

    private func checkRMSNorm(_ t: slm_ops_table, file: StaticString = #filePath, line: UInt = #line) {
        var rng = OpsRNG(seed: 1)
        for n in opsSizes {
            let x = rng.floats(n, -3, 3), w = rng.floats(n, 0.5, 1.5)
            for useWeight in [true, false] {
                var want = [Float](repeating: 0, count: n), got = want
                let wArg: [Float]? = useWeight ? w : nil
                withOptionalPointer(wArg) { wp in
                    slm_rmsnorm_ref(x, wp, &want, Int64(n), 1e-6)
                    t.rmsnorm(x, wp, &got, Int64(n), 1e-6)
                }
                // The SIMD sum of squares runs in f32 lanes (<= n/32 + 2 roundings each, < 4e-6 relative for
                // n = 1000) where the twin sums in double; half of that reaches the scale, plus two roundings.
                for i in 0..<n {
                    XCTAssertEqual(got[i], want[i], accuracy: 3e-6 * abs(want[i]) + 1e-30,
                                   "n=\(n) i=\(i) w=\(useWeight)", file: file, line: line)
                }
            }
            // y may alias x
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer { p in t.rmsnorm(p.baseAddress, w, p.baseAddress, Int64(n), 1e-6) }
            var want = [Float](repeating: 0, count: n)
            t.rmsnorm(x, w, &want, Int64(n), 1e-6)
            XCTAssertEqual(inPlace, want, "aliased rmsnorm n=\(n)", file: file, line: line)
        }
    }

    /// Gates over the range where silu/gelu are not trivially 0 or the identity, plus extremes and zeros.
    private func gates(_ n: Int, _ rng: inout OpsRNG) -> [Float] {
        var g = rng.floats(n, -12, 12)
        let specials: [Float] = [0, -0.0, 1e-20, -1e-20, 30, -30, 95, -95, 1e4, -1e4]
        for (i, s) in specials.enumerated() where i * 3 < n { g[i * 3] = s }
        return g
    }

    private func checkGLU(_ name: String, _ simd: (UnsafePointer<Float>?, UnsafePointer<Float>?,
                                                   UnsafeMutablePointer<Float>?, Int64) -> Void,
                          _ ref: (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?,
                                  Int64) -> Void, file: StaticString = #filePath, line: UInt = #line) {
        var rng = OpsRNG(seed: 2)
        for n in opsSizes {
            let g = gates(n, &rng), u = rng.floats(n, -2, 2)
            var want = [Float](repeating: 0, count: n), got = want
            ref(g, u, &want, Int64(n))
            simd(g, u, &got, Int64(n))
            // Both are g * sigmoid(z) * u with z = -g (silu) or -2 sqrt(2/pi)(g + 0.044715 g^3) (gelu); a few-ulp
            // error in e^z moves sigmoid by at most 0.25 |dz| ~ 1e-7 of |g|, so the bound is relative to |g u|
            // (relative to the output itself it would be meaningless where the output underflows towards 0).
            for i in 0..<n {
                XCTAssertEqual(got[i], want[i], accuracy: 1e-6 * abs(g[i] * u[i]) + 1e-37,
                               "\(name) n=\(n) i=\(i) g=\(g[i])", file: file, line: line)
            }
            // out may alias gate
            var inPlace = g
            inPlace.withUnsafeMutableBufferPointer { p in simd(p.baseAddress, u, p.baseAddress, Int64(n)) }
            XCTAssertEqual(inPlace, got, "\(name) aliased n=\(n)", file: file, line: line)
        }
    }

    private func checkSoftmax(_ t: slm_ops_table, file: StaticString = #filePath, line: UInt = #line) {
        var rng = OpsRNG(seed: 3)
        for n in opsSizes {
            let x = rng.floats(n, -20, 20)
            var want = x, got = x
            slm_softmax_ref(&want, Int64(n))
            t.softmax(&got, Int64(n))
            // e^x to ~2 ulp on each side, plus the f32 lane sums of the SIMD version (<= n/16 additions per lane,
            // each <= 2^-24 relative) against the twin's double sum.
            let tol = 3e-7 + Float(n) / 16 * 6e-8
            for i in 0..<n {
                XCTAssertEqual(got[i], want[i], accuracy: tol * want[i] + 1e-37, "n=\(n) i=\(i)", file: file, line: line)
            }
            // The weights sum to 1 up to the rounding of n terms of the final scaling (one rounding each).
            let sum = got.reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(sum, 1, accuracy: 1e-6, "sum n=\(n)", file: file, line: line)
        }
        // -inf entries get exactly 0; huge entries do not overflow.
        var masked: [Float] = [1, -.infinity, 2, -.infinity, 3, 4, 5, 6, 7, -.infinity, 0]
        t.softmax(&masked, Int64(masked.count))
        XCTAssertEqual(masked[1], 0, file: file, line: line)
        XCTAssertEqual(masked[3], 0, file: file, line: line)
        XCTAssertEqual(masked[9], 0, file: file, line: line)
        XCTAssertEqual(masked.reduce(0.0) { $0 + Double($1) }, 1, accuracy: 1e-6, file: file, line: line)
        var huge: [Float] = [3e38, 3e38, -3e38, 1000, 0, 88.5, 89, 3e38, 1, 2, 3]
        t.softmax(&huge, Int64(huge.count))
        for (i, v) in huge.enumerated() {
            // exactly three entries tie at the maximum; every other weight is e^(-huge), 0 in f32
            let expect: Float = [0, 1, 7].contains(i) ? 1.0 / 3.0 : 0
            XCTAssertEqual(v, expect, accuracy: 1e-7, "huge i=\(i)", file: file, line: line)
        }
        var allMasked = [Float](repeating: -.infinity, count: 9)
        t.softmax(&allMasked, 9)
        XCTAssertEqual(allMasked, [Float](repeating: 0, count: 9), "all -inf gives zeros, not NaN", file: file,
                       line: line)
    }

    /// Closed-form rope in Double: theta_i = pos * base^(-2i/n_rot), pairs adjacent (llama) or split by halves (NEOX).
    private func ropeExpected(_ x: [Float], heads: Int, headDim: Int, nRot: Int, pos: Int, base: Float,
                              neox: Bool) -> [Double] {
        var y = x.map(Double.init)
        for h in 0..<heads {
            for i in 0..<(nRot / 2) {
                let theta = Double(pos) * pow(Double(base), -2.0 * Double(i) / Double(nRot))
                let (i0, i1) = neox ? (h * headDim + i, h * headDim + i + nRot / 2) : (h * headDim + 2 * i, h * headDim + 2 * i + 1)
                let a = Double(x[i0]), b = Double(x[i1])
                y[i0] = a * cos(theta) - b * sin(theta)
                y[i1] = a * sin(theta) + b * cos(theta)
            }
        }
        return y
    }

    private func checkRope(_ name: String, _ rope: (UnsafeMutablePointer<Float>?, Int64, Int64, Int64, Int64, Float,
                                                   Int32) -> Void, file: StaticString = #filePath, line: UInt = #line) {
        var rng = OpsRNG(seed: 4)
        // (heads, head_dim, n_rot): SmolLM2-like, gemma-like, partial rotation, a head whose halves are not vector
        // multiples.
        let shapes = [(3, 64, 64), (2, 256, 256), (2, 64, 32), (3, 20, 20)]
        for (heads, headDim, nRot) in shapes {
            for pos in [0, 1, 17, 4095, 32767] {
                for base: Float in [10000, 1_000_000] {
                    for neox in [false, true] {
                        let x = rng.floats(heads * headDim, -2, 2)
                        var got = x
                        rope(&got, Int64(heads), Int64(headDim), Int64(nRot), Int64(pos), base, neox ? 1 : 0)
                        let want = ropeExpected(x, heads: heads, headDim: headDim, nRot: nRot, pos: pos, base: base,
                                                neox: neox)
                        let where_ = "\(name) shape=\(heads)x\(headDim)/\(nRot) pos=\(pos) base=\(base) neox=\(neox)"
                        for h in 0..<heads {
                            for d in 0..<headDim {
                                let i = h * headDim + d
                                if d >= nRot {
                                    XCTAssertEqual(got[i], x[i], "dims past n_rot untouched: \(where_) d=\(d)",
                                                   file: file, line: line)
                                    continue
                                }
                                // cos and sin rounded to f32 (2^-24 each) and the rotation's products and sum
                                // (a few roundings) bound the error by ~4 * 2^-24 of the pair's magnitude (<= 4).
                                XCTAssertEqual(Double(got[i]), want[i], accuracy: 1e-6, "\(where_) d=\(d)", file: file,
                                               line: line)
                            }
                        }
                        if pos == 0 { XCTAssertEqual(got, x, "position 0 is the identity: \(where_)", file: file, line: line) }
                    }
                }
            }
        }
    }

    // MARK: tests

    /// slm_first_above is the first index whose value is strictly above t (NaN never), at every offset of a
    /// 32-value block and in the tail.
    func testFirstAboveFindsTheFirstValueAboveTheThreshold() {
        var seed: UInt64 = 3
        func next() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed >> 33 }
        for n in [0, 1, 7, 31, 32, 33, 64, 95, 200, 1000] {
            for trial in 0..<20 {
                var x = (0..<n).map { _ in Float(Int(next() % 9)) - 4 }
                if n > 0, trial % 3 == 0 { x[Int(next()) % n] = .nan }
                if n > 0, trial % 4 == 1 { x[Int(next()) % n] = -.infinity }
                if n > 0, trial % 5 == 2 { x[Int(next()) % n] = .infinity }
                for t: Float in [-.infinity, -4.5, -1, 0, 3, 4, .infinity] {
                    let want = x.firstIndex { $0 > t } ?? n
                    let got = x.withUnsafeBufferPointer { Int(slm_first_above($0.baseAddress, Int64(n), t)) }
                    XCTAssertEqual(got, want, "n \(n) trial \(trial) t \(t)")
                }
            }
        }
    }

    func testReferenceKernelsMatchDoubleFormulas() {
        var rng = OpsRNG(seed: 5)
        let n = 1000
        let x = rng.floats(n, -3, 3), w = rng.floats(n, 0.5, 1.5)
        var y = [Float](repeating: 0, count: n)
        slm_rmsnorm_ref(x, w, &y, Int64(n), 1e-5)
        let ms = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n)
        for i in 0..<n {
            let e = Double(x[i]) / (ms + 1e-5).squareRoot() * Double(w[i])
            // three f32 roundings (scale, two products)
            XCTAssertEqual(Double(y[i]), e, accuracy: 3e-7 * abs(e))
        }
        let g = gates(n, &rng), u = rng.floats(n, -2, 2)
        var s = [Float](repeating: 0, count: n), ge = s
        slm_swiglu_ref(g, u, &s, Int64(n))
        slm_geglu_ref(g, u, &ge, Int64(n))
        for i in 0..<n {
            let gd = Double(g[i]), ud = Double(u[i])
            let silu = gd / (1 + exp(-gd))
            let gelu = 0.5 * gd * (1 + tanh(0.7978845608028654 * (gd + 0.044715 * gd * gd * gd)))
            // f32 expf (< 1 ulp) and a handful of f32 roundings, relative to |g u| as in checkGLU
            XCTAssertEqual(Double(s[i]), silu * ud, accuracy: 5e-7 * abs(gd * ud) + 1e-37, "silu g=\(g[i])")
            XCTAssertEqual(Double(ge[i]), gelu * ud, accuracy: 5e-7 * abs(gd * ud) + 1e-37, "gelu g=\(g[i])")
        }
        var p = rng.floats(n, -20, 20)
        let maxv = Double(p.max()!)
        let denom = p.reduce(0.0) { $0 + exp(Double($1) - maxv) }
        let want = p.map { exp(Double($0) - maxv) / denom }
        let d = p.map { Double($0) - maxv }
        slm_softmax_ref(&p, Int64(n))
        // expf (< 1 ulp), the final f32 scaling, and the f32 rounding of x - max (half an ulp of |x - max|, which
        // e^ turns into that much relative error)
        for i in 0..<n { XCTAssertEqual(Double(p[i]), want[i], accuracy: (3e-7 + abs(d[i]) * 6e-8) * want[i]) }
    }

    func testRopeReferenceMatchesClosedForm() {
        checkRope("ref") { slm_rope_ref($0, $1, $2, $3, $4, $5, $6) }
        checkRope("apply_ref", tableRope(slm_rope_apply_ref))
        checkRope("dispatched") { slm_rope($0, $1, $2, $3, $4, $5, $6) }
        checkRope("dispatched apply", tableRope(slm_rope_apply))
    }

    /// A rope with slm_rope's signature made of slm_rope_angles and the given rotation by the tables.
    private func tableRope(_ apply: @escaping (UnsafeMutablePointer<Float>?, Int64, Int64, Int64, UnsafePointer<Float>?,
                                               UnsafePointer<Float>?, Int32) -> Void)
        -> (UnsafeMutablePointer<Float>?, Int64, Int64, Int64, Int64, Float, Int32) -> Void {
        return { x, heads, headDim, nRot, pos, base, neox in
            let half = Int(min(nRot, headDim)) / 2
            var c = [Float](repeating: .nan, count: half), s = c
            slm_rope_angles(min(nRot, headDim), pos, base, &c, &s)
            apply(x, heads, headDim, nRot, c, s, neox)
        }
    }

    func testAVX2RMSNorm() throws { checkRMSNorm(try OpsISAs.require(SLM_ISA_AVX2)) }
    func testAVX2SwiGLU() throws {
        let t = try OpsISAs.require(SLM_ISA_AVX2)
        checkGLU("swiglu", { t.swiglu($0, $1, $2, $3) }, { slm_swiglu_ref($0, $1, $2, $3) })
    }
    func testAVX2GeGLU() throws {
        let t = try OpsISAs.require(SLM_ISA_AVX2)
        checkGLU("geglu", { t.geglu($0, $1, $2, $3) }, { slm_geglu_ref($0, $1, $2, $3) })
    }
    func testAVX2Softmax() throws { checkSoftmax(try OpsISAs.require(SLM_ISA_AVX2)) }
    func testAVX2Rope() throws {
        let t = try OpsISAs.require(SLM_ISA_AVX2)
        checkRope("avx2", tableRope(t.rope_apply))
    }

    /// Every AVX-512 element-wise kernel against its twin; runs only where the CPU has AVX-512.
    func testAVX512ElementWise() throws {
        let t = try OpsISAs.require(SLM_ISA_AVX512)
        checkRMSNorm(t)
        checkGLU("swiglu512", { t.swiglu($0, $1, $2, $3) }, { slm_swiglu_ref($0, $1, $2, $3) })
        checkGLU("geglu512", { t.geglu($0, $1, $2, $3) }, { slm_geglu_ref($0, $1, $2, $3) })
        checkSoftmax(t)
        checkRope("avx512", tableRope(t.rope_apply))
    }

    func testDispatchedSoftmaxAndRMSNormMatchActiveTable() {
        // The unsuffixed entry points go through the active ISA's table.
        let t = OpsISAs.table(slm_active_isa())
        var rng = OpsRNG(seed: 6)
        let x = rng.floats(640, -5, 5)
        var a = x, b = x
        slm_softmax(&a, 640)
        t.softmax(&b, 640)
        XCTAssertEqual(a, b)
        var c = [Float](repeating: 0, count: 640), d = c
        slm_rmsnorm(x, nil, &c, 640, 1e-6)
        t.rmsnorm(x, nil, &d, 640, 1e-6)
        XCTAssertEqual(c, d)
    }

    func testAddAndScale() {
        var rng = OpsRNG(seed: 7)
        for n in opsSizes {
            let x = rng.floats(n, -4, 4), y0 = rng.floats(n, -4, 4)
            var y = y0
            slm_add(&y, x, Int64(n))
            XCTAssertEqual(y, zip(y0, x).map { $0 + $1 }, "add n=\(n)")  // one IEEE addition each: exact match
            slm_scale(&y, 0.37, Int64(n))
            XCTAssertEqual(y, zip(y0, x).map { ($0 + $1) * 0.37 }, "scale n=\(n)")
        }
    }

    #if !(os(macOS) && arch(x86_64))  // Swift has no Float16 on Intel macOS
    func testFP16RowsMatchIEEEConversion() {
        // Every half value to f32: exact.
        let halves = (0...0xFFFF).map { UInt16($0) }
        var f = [Float](repeating: 0, count: halves.count)
        slm_fp16_to_fp32_row(halves, &f, Int64(halves.count))
        for (h, v) in zip(halves, f) {
            let e = Float(Float16(bitPattern: h))
            if e.isNaN { XCTAssertTrue(v.isNaN, "half \(h)") } else { XCTAssertEqual(v.bitPattern, e.bitPattern, "half \(h)") }
        }
        // f32 to half, round to nearest even: random bit patterns plus overflow, subnormal and tie cases. The odd
        // count sends the last few through the scalar tail.
        var rng = OpsRNG(seed: 8)
        var xs = (0..<20001).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
        xs += (0..<20000).map { _ in rng.float(-70000, 70000) }
        xs += [65504, 65519.996, 65520, -65520, 5.96e-8, 2.98e-8, 2.9802326e-8, 2.9802325e-8, 1e-10, .infinity,
               -.infinity, 0, -0.0, 6.1035156e-05, 6.1035152e-05, 1.0009766, 1.0004883, 1.0014648, .nan]
        var hs = [UInt16](repeating: 0, count: xs.count)
        slm_fp32_to_fp16_row(xs, &hs, Int64(xs.count))
        for (x, h) in zip(xs, hs) {
            if x.isNaN {
                XCTAssertTrue(Float16(bitPattern: h).isNaN, "nan stays nan")
            } else {
                XCTAssertEqual(h, Float16(x).bitPattern, "f32 \(x) (\(String(x.bitPattern, radix: 16)))")
            }
        }
    }
    #endif
}

/// Calls body with the array's base address, or nil for a nil array.
func withOptionalPointer<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let a else { return body(nil) }
    return a.withUnsafeBufferPointer { body($0.baseAddress) }
}
