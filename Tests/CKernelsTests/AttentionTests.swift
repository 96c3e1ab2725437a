import CKernels
import Foundation
import XCTest

/// Causal grouped-query attention: slm_attention against slm_attention_ref and against a naive Double version
/// written here; each ISA's attn_head against the scalar one, including a 32768-position context.
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

    func testAttentionMatchesReferenceAndNaive() {
        var pools: [(Int, OpaquePointer?)] = [(0, nil)]  // 0: no pool, run inline
        for n in [1, 2, 3] {
            if let tp = slm_threadpool_create(Int32(n)) {
                XCTAssertEqual(slm_threadpool_n_threads(tp), Int32(n))
                pools.append((n, tp))
            }
        }
        defer { for (_, tp) in pools where tp != nil { slm_threadpool_destroy(tp) } }
        XCTAssertEqual(pools.count, 4, "thread pools of 1, 2 and 3 threads")

        var rng = OpsRNG(seed: 11)
        var checked = 0
        // GQA 3:1 (SmolLM2: 9/3), 4:1 (gemma-3-270m: 4/1), 1:1
        for (nHead, nHeadKV) in [(9, 3), (4, 1), (2, 2)] {
            for headDim in [64, 256] {
                let scale = 1 / Float(headDim).squareRoot()
                for nTokens in [1, 7] {
                    for pos0 in [0, 100] {
                        let cache = Self.makeCache(nPos: pos0 + nTokens, nHeadKV: nHeadKV, headDim: headDim, rng: &rng)
                        // |q| up to 3 and |k| up to 1 give scores of standard deviation ~1: a softmax far from uniform
                        let q = rng.floats(nTokens * nHead * headDim, -3, 3)
                        for window in [0, 16] {
                            let shape = Shape(nHead: nHead, nHeadKV: nHeadKV, headDim: headDim, nTokens: nTokens,
                                              pos0: pos0, window: window)
                            check(shape, q: q, cache: cache, scale: scale, pools: pools)
                            checked += 1
                        }
                    }
                }
            }
        }
        XCTAssertEqual(checked, 48)
    }

    private func check(_ s: Shape, q: [Float], cache: Cache, scale: Float, pools: [(Int, OpaquePointer?)]) {
        let n = s.nTokens * s.nHead * s.headDim
        var want = [Float](repeating: 0, count: n)
        slm_attention_ref(q, cache.k, cache.v, Int64(cache.stride), Int64(s.nTokens), Int64(s.pos0), Int64(s.nHead),
                          Int64(s.nHeadKV), Int64(s.headDim), Int64(s.window), scale, &want)
        // Outputs are convex combinations of |v| <= 1; the f32 accumulation over <= 107 positions (one rounding of
        // 2^-24 each) and f32 scores differing in their last bits stay well inside 1e-5.
        let tol: Float = 1e-5
        for t in 0..<s.nTokens {
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

    private func checkHeads(_ t: slm_ops_table, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        let refHead = OpsISAs.ref.attn_head!
        var rng = OpsRNG(seed: 13)
        // head dims: vector multiples, a non-multiple of 16 (AVX-512 hands it to AVX2) and of 8 (scalar fallback)
        for headDim in [8, 20, 24, 64, 80, 256] {
            let cache = Self.makeCache(nPos: 1200, nHeadKV: 2, headDim: headDim, rng: &rng)
            let q = rng.floats(headDim, -3, 3)
            let scale = 1 / Float(headDim).squareRoot()
            for (b, e) in [(5, 5), (3, 4), (0, 3), (10, 17), (0, 257), (100, 1100)] {
                var want = [Float](repeating: 0, count: headDim), got = [Float](repeating: .nan, count: headDim)
                q.withUnsafeBufferPointer { qp in
                    cache.k.withUnsafeBufferPointer { kp in
                        cache.v.withUnsafeBufferPointer { vp in
                            let k1 = kp.baseAddress! + headDim, v1 = vp.baseAddress! + headDim  // kv head 1
                            refHead(qp.baseAddress, k1, v1, Int64(cache.stride), Int64(b), Int64(e),
                                              Int64(headDim), scale, &want)
                            t.attn_head(qp.baseAddress, k1, v1, Int64(cache.stride), Int64(b), Int64(e),
                                        Int64(headDim), scale, &got)
                        }
                    }
                }
                // convex combinations of |v| <= 1 accumulated in f32 over <= 1000 positions (see the naive check)
                for d in 0..<headDim {
                    XCTAssertEqual(got[d], want[d], accuracy: 1e-5, "\(name) dim \(headDim) [\(b),\(e)) d=\(d)",
                                   file: file, line: line)
                }
            }
        }
        // 32768 positions (the longest context we support) with keys whose scores rise along the context, so the
        // running maximum grows block after block and the online rescale is exercised.
        let headDim = 64, nPos = 32768
        let cache = Self.makeCache(nPos: nPos, nHeadKV: 1, headDim: headDim, rng: &rng, trend: true)
        var q = rng.floats(headDim, -3, 3)
        q[0] = 40
        var want = [Float](repeating: 0, count: headDim), got = want
        refHead(q, cache.k, cache.v, Int64(cache.stride), 0, Int64(nPos), Int64(headDim), 0.125, &want)
        t.attn_head(q, cache.k, cache.v, Int64(cache.stride), 0, Int64(nPos), Int64(headDim), 0.125, &got)
        let naive = Self.naiveHead(q[...], cache, kvOffset: 0, headDim: headDim, first: 0, last: nPos - 1,
                                   scale: 0.125)
        var maxRef = 0.0, maxSimd = 0.0
        for d in 0..<headDim {
            maxRef = max(maxRef, abs(Double(want[d]) - naive[d]))
            maxSimd = max(maxSimd, abs(Double(got[d]) - naive[d]))
        }
        print("attn 32768 \(name): max |ref - naive| \(maxRef), max |simd - naive| \(maxSimd)")
        // 32768 f32 accumulation steps, each rounding by <= 2^-24 of the running sum: independent roundings grow
        // like sqrt(n) 2^-24 ~ 1e-5 of |acc| / l <= max |v| = 1 (measured: ~6e-8, as the average of random v is small).
        for d in 0..<headDim {
            XCTAssertEqual(Double(got[d]), naive[d], accuracy: 1e-5, "\(name) 32768 d=\(d)", file: file, line: line)
            XCTAssertEqual(Double(want[d]), naive[d], accuracy: 1e-5, "ref 32768 d=\(d)", file: file, line: line)
        }
    }

    func testAVX2AttentionHead() throws { checkHeads(try OpsISAs.require(SLM_ISA_AVX2), "avx2") }
    func testAVX512AttentionHead() throws { checkHeads(try OpsISAs.require(SLM_ISA_AVX512), "avx512") }
}
