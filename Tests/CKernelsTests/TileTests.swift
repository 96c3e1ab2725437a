import CKernels
import XCTest

/// The register tiles behind slm_matvec / slm_matmul / slm_matmul_multi (4 rows x 1 token for decode, 2 x 4, 1 x 4
/// and 2 x 1 for prefill) must give every output bit for bit what the type's single-row vec_dot gives on the same
/// quantized activation row: that is what makes decode equal prefill and batches splittable. Shapes are ragged (row
/// counts not multiples of 4 or 2, token counts not multiples of 4) so every tile and every remainder path runs.
final class TileTests: XCTestCase {
    static let types: [slm_type] = [SLM_TYPE_Q4_0, SLM_TYPE_Q4_1, SLM_TYPE_Q5_0, SLM_TYPE_Q8_0, SLM_TYPE_Q4_K,
                                    SLM_TYPE_Q6_K]

    private func weights(_ type: slm_type, nOut: Int, nIn: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededFloats(seed: seed)
        return quantize(rng.array(nOut * nIn), type)
    }

    /// out[t * nOut + r] = vec_dot(row r, quantized x_t), one call per output: the single-row kernel itself.
    private func singles(_ type: slm_type, _ w: [UInt8], nOut: Int, nIn: Int, _ x: [Float], tokens: Int) -> [Float] {
        var out: [Float] = []
        let rb = rowBytes(type, nIn)
        for t in 0..<tokens {
            let act = activation(Array(x[(t * nIn)..<((t + 1) * nIn)]), for: type, isa: slm_active_isa())
            for r in 0..<nOut {
                out.append(vecDot(type, isa: slm_active_isa(), n: nIn, weight: Array(w[(r * rb)..<((r + 1) * rb)]), act: act))
            }
        }
        return out
    }

    private func product(_ type: slm_type, _ w: [UInt8], nOut: Int, nIn: Int, _ x: [Float], tokens: Int,
                         pool: OpaquePointer?) -> [Float] {
        var y = [Float](repeating: .nan, count: tokens * nOut)
        let work = UnsafeMutableRawPointer.allocate(
            byteCount: slm_matmul_work_size(type, Int64(nIn), Int64(tokens), 3), alignment: 64)
        defer { work.deallocate() }
        w.withUnsafeBytes { wb in
            if tokens == 1 {
                slm_matvec(pool, type, wb.baseAddress, Int64(nOut), Int64(nIn), x, &y, work)
            } else {
                slm_matmul(pool, type, wb.baseAddress, Int64(nOut), Int64(nIn), x, Int64(tokens), &y, work)
            }
        }
        return y
    }

    private func assertBitEqual(_ a: [Float], _ b: [Float], _ label: String) {
        XCTAssertEqual(a.count, b.count, label)
        let bad = zip(a, b).enumerated().first { $0.element.0.bitPattern != $0.element.1.bitPattern }
        if let bad { XCTFail("\(label): output \(bad.offset) is \(bad.element.0), single vec_dot gives \(bad.element.1)") }
    }

    func testTilesEqualSingleRowDotsBitForBit() {
        let tp = slm_threadpool_create(3)
        defer { slm_threadpool_destroy(tp) }
        for type in Self.types {
            let nIn = traits(type).block_size == 256 ? 512 : 96
            for (i, nOut) in [1, 3, 6, 37].enumerated() {
                let w = weights(type, nOut: nOut, nIn: nIn, seed: UInt64(50 + i))
                for tokens in [1, 2, 5, 11] {
                    var rng = SeededFloats(seed: UInt64(500 + tokens))
                    let x = rng.array(tokens * nIn)
                    let want = singles(type, w, nOut: nOut, nIn: nIn, x, tokens: tokens)
                    for pool in [nil, tp] {
                        assertBitEqual(product(type, w, nOut: nOut, nIn: nIn, x, tokens: tokens, pool: pool), want,
                                       "\(typeName(type)) \(nOut)x\(nIn), \(tokens) tokens, pool \(pool == nil ? 0 : 3)")
                    }
                }
            }
        }
    }

    /// Q, K and V (or gate and up) in one run, with weight types that need two activation formats (Q8_0 and Q8_K),
    /// equal the three products run alone.
    func testMultiEqualsSeparateProducts() {
        let tp = slm_threadpool_create(2)
        defer { slm_threadpool_destroy(tp) }
        let nIn = 256
        let specs: [(slm_type, Int)] = [(SLM_TYPE_Q5_0, 40), (SLM_TYPE_Q4_K, 13), (SLM_TYPE_Q8_0, 21)]
        let ws = specs.enumerated().map { weights($0.element.0, nOut: $0.element.1, nIn: nIn, seed: UInt64(60 + $0.offset)) }
        for tokens in [1, 6] {
            var rng = SeededFloats(seed: 77)
            let x = rng.array(tokens * nIn)
            let ys = specs.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: tokens * $0.1) }
            defer { ys.forEach { $0.deallocate() } }
            let wp = ws.map { w -> UnsafeMutableRawBufferPointer in
                let p = UnsafeMutableRawBufferPointer.allocate(byteCount: w.count, alignment: 64)
                w.withUnsafeBytes { p.copyMemory(from: $0) }
                return p
            }
            defer { wp.forEach { $0.deallocate() } }
            let workBytes = specs.map { slm_matmul_work_size($0.0, Int64(nIn), Int64(tokens), 2) }.max()! * specs.count
            let work = UnsafeMutableRawPointer.allocate(byteCount: workBytes, alignment: 64)
            defer { work.deallocate() }
            let jobs = specs.indices.map {
                slm_matmul_job(wtype: specs[$0].0, W: wp[$0].baseAddress, n_out: Int64(specs[$0].1), Y: ys[$0].baseAddress)
            }
            slm_matmul_multi(tp, jobs, Int32(jobs.count), Int64(nIn), x, Int64(tokens), work)
            for (k, spec) in specs.enumerated() {
                let alone = product(spec.0, ws[k], nOut: spec.1, nIn: nIn, x, tokens: tokens, pool: tp)
                assertBitEqual(Array(ys[k]), alone, "multi job \(k) (\(typeName(spec.0))), \(tokens) tokens")
            }
        }
    }
}
