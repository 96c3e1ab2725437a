import CKernels
import Foundation
import XCTest

/// Causal grouped-query attention: slm_attention against slm_attention_ref (the unchunked online softmax) and a naive
/// Double version written here; each ISA's chunk kernel and chunked attention against the scalar twins; bit-identical
/// results for any thread count and for a batch, pieces of a batch or one token at a time.
final class AttentionTests: XCTestCase {
    /// K and V caches of `nPos` positions, f16 as stored plus their exact f32 values. kv_stride has 8 elements of
    /// padding past the kv heads, so a kernel that ignores the stride reads the wrong rows.
    struct Cache {
        var k: [UInt16], v: [UInt16], kf: [Float], vf: [Float]
        let stride: Int
    }

    static func makeCache(nPos: Int, nHeadKV: Int, headDim: Int, rng: inout OpsRNG,
                          trend: Bool = false) -> Cache {
        let stride = nHeadKV * headDim + 8
        var kf = rng.floats(nPos * stride, -1, 1), vf = rng.floats(nPos * stride, -1, 1)
        if trend {  // dim 0 of every key grows with position, so later blocks raise the running maximum
            for p in 0..<nPos { for h in 0..<nHeadKV { kf[p * stride + h * headDim] = -1 + 2 * Float(p) / Float(nPos) } }
        }
        var k = [UInt16](repeating: 0, count: kf.count), v = k
        slm_fp32_to_fp16_row(kf, &k, Int64(kf.count))
        slm_fp32_to_fp16_row(vf, &v, Int64(vf.count))
        slm_fp16_to_fp32_row(k, &kf, Int64(k.count))  // exact (testFP16RowsMatchIEEEConversion)
        slm_fp16_to_fp32_row(v, &vf, Int64(v.count))
        return Cache(k: k, v: v, kf: kf, vf: vf, stride: stride)
    }

    /// softmax(q.k * scale) v over [first, last] for one head, in Double.
    static func naiveHead(_ q: ArraySlice<Float>, _ c: Cache, kvOffset: Int, headDim: Int, first: Int, last: Int,
                          scale: Float) -> [Double] {
        let q = Array(q)
        var scores = [Double](repeating: 0, count: last - first + 1)
        var out = [Double](repeating: 0, count: headDim)
        c.kf.withUnsafeBufferPointer { kf in
            c.vf.withUnsafeBufferPointer { vf in
                for p in first...last {
                    var s = 0.0
                    let row = p * c.stride + kvOffset
                    for d in 0..<headDim { s += Double(q[d]) * Double(kf[row + d]) }
                    scores[p - first] = s * Double(scale)
                }
                let m = scores.max()!
                var sum = 0.0
                for j in scores.indices {
                    scores[j] = exp(scores[j] - m)
                    sum += scores[j]
                }
                for p in first...last {
                    let w = scores[p - first] / sum, row = p * c.stride + kvOffset
                    for d in 0..<headDim { out[d] += w * Double(vf[row + d]) }
                }
            }
        }
        return out
    }

    struct Shape: CustomStringConvertible {
        let nHead, nHeadKV, headDim, nTokens, pos0, window: Int
        var description: String {
            "heads \(nHead)/\(nHeadKV) dim \(headDim) tokens \(nTokens) pos0 \(pos0) window \(window)"
        }
    }

    /// No pool (run inline, reported as 0 threads) and pools of 1, 2 and 3 threads; destroy them with `destroy`.
    private func makePools() -> [(Int, OpaquePointer?)] {
        var pools: [(Int, OpaquePointer?)] = [(0, nil)]
        for n in [1, 2, 3] {
            if let tp = slm_threadpool_create(Int32(n)) {
                XCTAssertEqual(slm_threadpool_n_threads(tp), Int32(n))
                pools.append((n, tp))
            }
        }
        XCTAssertEqual(pools.count, 4, "thread pools of 1, 2 and 3 threads")
        return pools
    }
    private func destroy(_ pools: [(Int, OpaquePointer?)]) {
        for (_, tp) in pools where tp != nil { slm_threadpool_destroy(tp) }
    }

    func testAttentionMatchesReferenceAndNaive() {
        let pools = makePools()
        defer { destroy(pools) }

        var rng = OpsRNG(seed: 11)
        var checked = 0
        maxErr = 0
        // GQA 3:1 (SmolLM2: 9/3), 4:1 (gemma-3-270m: 4/1), 1:1
        for (nHead, nHeadKV) in [(9, 3), (4, 1), (2, 2)] {
            for headDim in [64, 256] {
                let scale = 1 / Float(headDim).squareRoot()
                for nTokens in [1, 7] {
                    // contexts inside the first chunk, and crossing the boundaries at 128 and 256
                    for pos0 in [0, 100, 250] {
                        let cache = Self.makeCache(nPos: pos0 + nTokens, nHeadKV: nHeadKV, headDim: headDim, rng: &rng)
                        // |q| up to 3 and |k| up to 1 give scores of standard deviation ~1: a softmax far from uniform
                        let q = rng.floats(nTokens * nHead * headDim, -3, 3)
                        for window in [0, 16, 200] {
                            let shape = Shape(nHead: nHead, nHeadKV: nHeadKV, headDim: headDim, nTokens: nTokens,
                                              pos0: pos0, window: window)
                            check(shape, q: q, cache: cache, scale: scale, pools: pools)
                            checked += 1
                        }
                    }
                }
            }
        }
        XCTAssertEqual(checked, 108)
        print("attention vs ref: max |slm_attention - ref| \(maxErr)")
    }

    private var maxErr: Float = 0

    private func check(_ s: Shape, q: [Float], cache: Cache, scale: Float, pools: [(Int, OpaquePointer?)]) {
        let n = s.nTokens * s.nHead * s.headDim
        var want = [Float](repeating: 0, count: n)
        slm_attention_ref(q, cache.k, cache.v, Int64(cache.stride), Int64(s.nTokens), Int64(s.pos0), Int64(s.nHead),
                          Int64(s.nHeadKV), Int64(s.headDim), Int64(s.window), scale, &want)
        // Outputs are convex combinations of |v| <= 1. Both sides accumulate in f32 over <= 257 positions in different
        // orders (chunk partials merged vs one running sum), each step rounding by <= 2^-24 of a partial sum <= 1;
        // with v of random sign those errors add like a random walk, ~sqrt(257) 2^-24 ~ 1e-6, and scores differing in
        // their last bits move the weights by as little. 1e-5 leaves a 10x margin (the largest seen is printed).
        let tol: Float = 1e-5
        for t in [s.nTokens - 1] {  // the naive Double check for the last token (the slowest part in a debug build)
            let pos = s.pos0 + t
            let first = s.window > 0 ? max(0, pos - s.window + 1) : 0
            for h in 0..<s.nHead {
                let off = (t * s.nHead + h) * s.headDim
                let kvh = h / (s.nHead / s.nHeadKV)
                let naive = Self.naiveHead(q[off..<(off + s.headDim)], cache, kvOffset: kvh * s.headDim,
                                           headDim: s.headDim, first: first, last: pos, scale: scale)
                for d in 0..<s.headDim {
                    XCTAssertEqual(Double(want[off + d]), naive[d], accuracy: Double(tol), "ref vs naive \(s) t=\(t) h=\(h) d=\(d)")
                }
            }
        }
        var first: [Float]?
        for (threads, tp) in pools {
            var got = [Float](repeating: .nan, count: n)
            slm_attention(tp, q, cache.k, cache.v, Int64(cache.stride), Int64(s.nTokens), Int64(s.pos0),
                          Int64(s.nHead), Int64(s.nHeadKV), Int64(s.headDim), Int64(s.window), scale, &got)
            for i in 0..<n { maxErr = max(maxErr, abs(got[i] - want[i])) }
            for i in 0..<n where !(abs(got[i] - want[i]) <= tol) {
                XCTFail("slm_attention vs ref \(s) threads \(threads) i=\(i): \(got[i]) vs \(want[i])")
                break
            }
            // every (head, token) pair is computed by the same function whatever the split: identical bits
            if let first { XCTAssertEqual(got, first, "thread count changes results: \(s) threads \(threads)") }
            first = got
        }
    }

    func testWindowLimitsContext() {
        // Metamorphic: with a window of 16, changing a KV row 16 positions back must not change the output, while
        // changing it with no window must.
        var rng = OpsRNG(seed: 12)
        let headDim = 64, pos = 40
        var cache = Self.makeCache(nPos: pos + 1, nHeadKV: 1, headDim: headDim, rng: &rng)
        let q = rng.floats(headDim, -3, 3)
        func run(_ c: Cache, window: Int) -> [Float] {
            var out = [Float](repeating: 0, count: headDim)
            slm_attention(nil, q, c.k, c.v, Int64(c.stride), 1, Int64(pos), 1, 1, Int64(headDim), Int64(window), 0.125, &out)
            return out
        }
        let w0 = run(cache, window: 16), u0 = run(cache, window: 0)
        for d in 0..<headDim { cache.v[(pos - 16) * cache.stride + d] = 0x3C00 }  // 1.0 in f16
        XCTAssertEqual(run(cache, window: 16), w0)
        XCTAssertNotEqual(run(cache, window: 0), u0)
        for d in 0..<headDim { cache.v[(pos - 15) * cache.stride + d] = 0x3C00 }
        XCTAssertNotEqual(run(cache, window: 16), w0)
    }

    // MARK: chunk kernels

    /// Worst-case f32 error of a score: a dot product of D terms rounds at most D times, each by <= 2^-24 of a partial
    /// sum <= sum |q_d k_d| (|k| <= 1), on both sides; the scale adds one rounding.
    static func scoreTolerance(_ q: ArraySlice<Float>, scale: Float) -> Double {
        let sumAbs = q.reduce(0.0) { $0 + Double(abs($1)) } * Double(scale)
        return 2 * Double(q.count + 1) * 0x1p-24 * sumAbs + 1e-30
    }

    private func checkChunks(_ t: slm_ops_table, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        let refChunk = OpsISAs.ref.attn_chunk!
        var rng = OpsRNG(seed: 14)
        var checked = 0
        // head dims: the fast path (multiples of 32 up to 256, 64 with one head takes 8-vector tiles) and the
        // scalar fallback (8, 40: not multiples of 32; 288: wider than 256)
        for headDim in [8, 32, 40, 64, 96, 256, 288] {
            let cache = Self.makeCache(nPos: 140, nHeadKV: 2, headDim: headDim, rng: &rng)
            let scale = 1 / Float(headDim).squareRoot()
            for g in [1, 2, 3, 4, 5, 7, 8] {
                let q = rng.floats(g * headDim, -3, 3)
                // chunk lengths around the position blocks (8, 4, 3, 2 and 1 positions) up to a full chunk
                for (p0, n) in [(0, 1), (5, 2), (3, 3), (0, 4), (7, 5), (1, 7), (0, 8), (2, 9), (9, 31), (4, 100),
                                (12, 128)] {
                    var wantAcc = [Float](repeating: 0, count: g * headDim), gotAcc = [Float](repeating: .nan, count: g * headDim)
                    var wantML = [Float](repeating: 0, count: 2 * g), gotML = [Float](repeating: .nan, count: 2 * g)
                    cache.k.withUnsafeBufferPointer { kp in
                        cache.v.withUnsafeBufferPointer { vp in
                            let k1 = kp.baseAddress! + headDim, v1 = vp.baseAddress! + headDim  // kv head 1
                            refChunk(q, Int64(g), k1, v1, Int64(cache.stride), Int64(p0), Int64(n), Int64(headDim),
                                     scale, 0, &wantAcc, &wantML)
                            // prefetching whole rows past the chunk (a hint, no effect on the result)
                            t.attn_chunk(q, Int64(g), k1, v1, Int64(cache.stride), Int64(p0), Int64(n), Int64(headDim),
                                         scale, Int64(cache.stride), &gotAcc, &gotML)
                        }
                    }
                    for h in 0..<g {
                        let what = "\(name) dim \(headDim) g \(g) [\(p0), \(p0 + n)) head \(h)"
                        let tolS = Self.scoreTolerance(q[(h * headDim)..<((h + 1) * headDim)], scale: scale)
                        // the maximum score: the scores' own error
                        XCTAssertEqual(Double(gotML[h]), Double(wantML[h]), accuracy: tolS, "m \(what)", file: file, line: line)
                        // the sum of n weights e^(s - m): relative errors of 2 tolS from the scores and the maximum,
                        // a few ulp from exp (exp8 ~1 ulp, expf < 1 ulp), n roundings of the sum
                        let l = Double(wantML[g + h])
                        let tolL = (2 * tolS + Double(n + 4) * 0x1p-24) * l
                        XCTAssertEqual(Double(gotML[g + h]), l, accuracy: tolL, "l \(what)", file: file, line: line)
                        // the normalised output: a convex combination of |v| <= 1 whose weights differ as l does
                        for d in 0..<headDim {
                            let got = Double(gotAcc[h * headDim + d]) / Double(gotML[g + h])
                            let want = Double(wantAcc[h * headDim + d]) / l
                            XCTAssertEqual(got, want, accuracy: 2 * tolL / l + 1e-6, "acc \(what) d \(d)", file: file, line: line)
                        }
                    }
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, 7 * 7 * 11, file: file, line: line)
    }

    func testAVX2ChunkKernel() throws { checkChunks(try OpsISAs.require(SLM_ISA_AVX2), "avx2") }
    func testAVX512ChunkKernel() throws { checkChunks(try OpsISAs.require(SLM_ISA_AVX512), "avx512") }

    // MARK: chunked attention per ISA

    /// slm_attention_isa with the AVX2 chunk kernel against the scalar twin, on group sizes that split into one or
    /// several kernel calls, head dims on the fast path and off it, windows that are and are not multiples of the
    /// chunk, and contexts crossing chunk boundaries.
    func testAVX2AttentionMatchesScalarTwin() throws {
        _ = try OpsISAs.require(SLM_ISA_AVX2)
        let pools = makePools()
        defer { destroy(pools) }
        var rng = OpsRNG(seed: 15)
        var checked = 0
        // 12/1: a group of 12 goes to the kernel as two sub-groups of 6
        for (nHead, nHeadKV) in [(1, 1), (2, 1), (3, 1), (8, 2), (12, 1), (5, 5)] {
            for headDim in [40, 64, 256] {
                let scale = 1 / Float(headDim).squareRoot()
                for (pos0, nTokens) in [(0, 3), (250, 10)] {
                    let cache = Self.makeCache(nPos: pos0 + nTokens, nHeadKV: nHeadKV, headDim: headDim, rng: &rng)
                    let q = rng.floats(nTokens * nHead * headDim, -3, 3)
                    for window in [0, 128, 130] {
                        let n = nTokens * nHead * headDim
                        var want = [Float](repeating: 0, count: n), got = [Float](repeating: .nan, count: n)
                        slm_attention_isa(SLM_ISA_REF, nil, q, cache.k, cache.v, Int64(cache.stride), Int64(nTokens),
                                          Int64(pos0), Int64(nHead), Int64(nHeadKV), Int64(headDim), Int64(window),
                                          scale, &want)
                        for (threads, tp) in pools {
                            slm_attention_isa(SLM_ISA_AVX2, tp, q, cache.k, cache.v, Int64(cache.stride), Int64(nTokens),
                                              Int64(pos0), Int64(nHead), Int64(nHeadKV), Int64(headDim),
                                              Int64(window), scale, &got)
                            // as in check(): convex combinations of |v| <= 1 over <= 260 positions, 10x margin
                            for i in 0..<n where !(abs(got[i] - want[i]) <= 1e-5) {
                                XCTFail("heads \(nHead)/\(nHeadKV) dim \(headDim) pos0 \(pos0) window \(window) "
                                        + "threads \(threads) i=\(i): \(got[i]) vs \(want[i])")
                                break
                            }
                        }
                        checked += 1
                    }
                }
            }
        }
        XCTAssertEqual(checked, 6 * 3 * 2 * 3)
    }

    // MARK: batch and thread invariance

    /// A token's output bits depend on its position only: one batch, the batch in uneven pieces, and one token at a
    /// time (the decode schedule, split over chunks) give identical arrays for any thread count, for the scalar twin
    /// and the active ISA.
    func testBatchAndThreadInvariance() {
        let pools = makePools()
        defer { destroy(pools) }
        var rng = OpsRNG(seed: 16)
        // SmolLM2's and gemma-3's shapes; windows: none, and one that is not a multiple of the chunk
        for (nHead, nHeadKV, headDim, window) in [(9, 3, 64, 0), (4, 1, 256, 150), (9, 3, 64, 130)] {
            let nTokens = 200, scale = 1 / Float(headDim).squareRoot()
            let cache = Self.makeCache(nPos: nTokens, nHeadKV: nHeadKV, headDim: headDim, rng: &rng)
            let q = rng.floats(nTokens * nHead * headDim, -3, 3)
            let row = nHead * headDim
            for isa in [SLM_ISA_REF, slm_active_isa()] {
                let what = "\(String(cString: slm_isa_name(isa))) heads \(nHead)/\(nHeadKV) dim \(headDim) window \(window)"
                // tokens [t0, t0 + n) of the batch into out
                func run(_ tp: OpaquePointer?, _ t0: Int, _ n: Int, _ out: inout [Float]) {
                    q.withUnsafeBufferPointer { qp in
                        out.withUnsafeMutableBufferPointer { op in
                            slm_attention_isa(isa, tp, qp.baseAddress! + t0 * row, cache.k, cache.v, Int64(cache.stride),
                                              Int64(n), Int64(t0), Int64(nHead), Int64(nHeadKV), Int64(headDim),
                                              Int64(window), scale, op.baseAddress! + t0 * row)
                        }
                    }
                }
                var batch = [Float](repeating: .nan, count: nTokens * row)
                run(pools[0].1, 0, nTokens, &batch)
                XCTAssertFalse(batch.contains { !$0.isFinite }, what)
                for (threads, tp) in pools {
                    var got = [Float](repeating: .nan, count: nTokens * row)
                    run(tp, 0, nTokens, &got)
                    XCTAssertTrue(got == batch, "one batch, threads \(threads): \(what)")
                    if threads == 1 { continue }  // inline and 1 thread take the same path
                    got = [Float](repeating: .nan, count: nTokens * row)
                    var t0 = 0
                    for n in [1, 37, 2, 90, 3, 67] {  // uneven pieces covering all 200 tokens
                        run(tp, t0, n, &got)
                        t0 += n
                    }
                    XCTAssertEqual(t0, nTokens)
                    XCTAssertTrue(got == batch, "pieces, threads \(threads): \(what)")
                    got = [Float](repeating: .nan, count: nTokens * row)
                    for t in 0..<nTokens { run(tp, t, 1, &got) }
                    XCTAssertTrue(got == batch, "token by token, threads \(threads): \(what)")
                }
            }
        }
    }

    // MARK: long context

    /// 32768 positions (the longest context we support, 256 chunks) with keys whose scores rise along the context,
    /// so the running maximum grows chunk after chunk and every merge rescales; the scalar twin and the active ISA
    /// against the naive Double softmax, decoding the last position.
    func testLongContext() {
        var rng = OpsRNG(seed: 13)
        let headDim = 64, nPos = 32768
        let cache = Self.makeCache(nPos: nPos, nHeadKV: 1, headDim: headDim, rng: &rng, trend: true)
        var q = rng.floats(headDim, -3, 3)
        q[0] = 40
        let naive = Self.naiveHead(q[...], cache, kvOffset: 0, headDim: headDim, first: 0, last: nPos - 1, scale: 0.125)
        for isa in [SLM_ISA_REF, slm_active_isa()] {
            var got = [Float](repeating: .nan, count: headDim)
            slm_attention_isa(isa, nil, q, cache.k, cache.v, Int64(cache.stride), 1, Int64(nPos - 1), 1, 1,
                              Int64(headDim), 0, 0.125, &got)
            var maxErr = 0.0
            for d in 0..<headDim { maxErr = max(maxErr, abs(Double(got[d]) - naive[d])) }
            print("attn 32768 \(String(cString: slm_isa_name(isa))): max |chunked - naive| \(maxErr)")
            // 32768 f32 accumulation steps (128 per chunk, then 256 merges), each rounding by <= 2^-24 of a running
            // sum <= 1: independent roundings grow like sqrt(n) 2^-24 ~ 1e-5 (measured: ~1e-7, as the average of
            // random v is small).
            for d in 0..<headDim {
                XCTAssertEqual(Double(got[d]), naive[d], accuracy: 1e-5, "32768 d=\(d)")
            }
        }
    }
}
