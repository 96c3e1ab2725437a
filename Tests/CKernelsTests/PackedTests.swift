import CKernels
import Foundation
import XCTest

/// Packed weights (slm_packed.h): the layout is a lossless permutation of the GGUF blocks, the SIMD kernels equal their
/// scalar twins bit for bit, a token's outputs do not depend on how many tokens share a kernel call or on threads
/// (decode equals prefill), and the result is the weight type's dot product up to float rounding.
final class PackedTests: XCTestCase {
    /// Every GGUF weight type with a packed layout: new layouts are tested without touching this file.
    static let types: [slm_type] = [SLM_TYPE_Q4_0, SLM_TYPE_Q4_1, SLM_TYPE_Q5_0, SLM_TYPE_Q5_1, SLM_TYPE_Q8_0,
                                    SLM_TYPE_Q4_K, SLM_TYPE_Q5_K, SLM_TYPE_Q6_K].filter { slm_can_pack($0, 8, 256) != 0 }

    private func inputSizes(_ type: slm_type) -> [Int] {
        traits(type).block_size == 256 ? [256, 768] : [32, 96, 576]
    }

    private func pack(_ w: [UInt8], _ type: slm_type, nOut: Int, nIn: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: slm_packed_size(type, Int64(nOut), Int64(nIn)))
        w.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                slm_pack_groups(type, src.baseAddress, Int64(nIn), dst.baseAddress, 0, Int64(nOut / 8))
            }
        }
        return out
    }

    private func packedProduct(_ type: slm_type, isa: slm_isa, _ p: [UInt8], nOut: Int, nIn: Int, _ x: [Float],
                               tokens: Int, block: Int) -> [Float] {
        var y = [Float](repeating: .nan, count: tokens * nOut)
        let rc = p.withUnsafeBytes {
            slm_packed_matmul_isa(isa, type, $0.baseAddress, Int64(nOut), Int64(nIn), x, Int64(tokens), Int64(block), &y)
        }
        XCTAssertEqual(rc, 0)
        return y
    }

    private func assertBitEqual(_ a: [Float], _ b: [Float], _ label: String) {
        XCTAssertEqual(a.count, b.count, label)
        if let i = zip(a, b).enumerated().first(where: { $0.element.0.bitPattern != $0.element.1.bitPattern })?.offset {
            XCTFail("\(label): output \(i) is \(a[i]), expected \(b[i]) bit for bit")
        }
    }

    func testSomeTypesArePackable() {
        XCTAssertTrue(Self.types.contains(SLM_TYPE_Q4_1))
        XCTAssertEqual(slm_can_pack(SLM_TYPE_Q4_1, 12, 64), 0, "12 rows are not whole groups of 8")
        XCTAssertEqual(slm_can_pack(SLM_TYPE_F32, 8, 64), 0, "f32 has no packed layout")
        let packed = slm_packed_type(SLM_TYPE_Q4_1)
        XCTAssertNotEqual(slm_type_is_packed(packed), 0)
        XCTAssertEqual(slm_packed_base(packed), SLM_TYPE_Q4_1)
    }

    func testPackThenUnpackGivesTheOriginalRows() {
        for type in Self.types {
            for nIn in inputSizes(type) {
                let nOut = 16
                var rng = SeededFloats(seed: 3)
                let w = quantize(rng.array(nOut * nIn), type)
                XCTAssertGreaterThanOrEqual(slm_packed_size(type, Int64(nOut), Int64(nIn)), w.count, "\(typeName(type)) keeps every byte")
                let p = pack(w, type, nOut: nOut, nIn: nIn)
                let rb = rowBytes(type, nIn)
                for r in 0..<nOut {
                    var row = [UInt8](repeating: 0, count: rb)
                    p.withUnsafeBytes { slm_unpack_row(type, $0.baseAddress, Int64(nIn), Int64(r), &row) }
                    XCTAssertEqual(row, Array(w[(r * rb)..<((r + 1) * rb)]), "\(typeName(type)) n_in \(nIn) row \(r)")
                }
            }
        }
    }

    /// An embedding lookup in a packed (tied output) table gives the floats of the lookup in the file's layout, bit for
    /// bit, for rows in every position of a group and inputs longer than the 256-element span it unpacks at a time.
    func testRowLookupInAPackedTableEqualsTheFileLayouts() {
        for type in Self.types {
            for nIn in inputSizes(type) + [traits(type).block_size == 256 ? 1280 : 608] {
                let nOut = 16
                var rng = SeededFloats(seed: 5)
                let w = quantize(rng.array(nOut * nIn), type)
                let p = pack(w, type, nOut: nOut, nIn: nIn)
                for r in 0..<nOut {
                    var plain = [Float](repeating: 0, count: nIn), packed = [Float](repeating: .nan, count: nIn)
                    w.withUnsafeBytes { slm_get_row(type, $0.baseAddress, Int64(nIn), Int64(r), &plain) }
                    p.withUnsafeBytes { slm_get_row(slm_packed_type(type), $0.baseAddress, Int64(nIn), Int64(r), &packed) }
                    assertBitEqual(packed, plain, "\(typeName(type)) n_in \(nIn) row \(r)")
                }
            }
        }
    }

    /// A model's matrices packed in one pool run (chunks handed out across the jobs) give the bytes of packing each
    /// alone; a job that cannot be packed refuses the whole call before anything is written.
    func testPackingManyMatricesInOneRunEqualsPackingEachAlone() throws {
        var rng = SeededFloats(seed: 11)
        // Types and shapes mixed; 2000 rows of Q8_0 span several 64 KiB chunks; one matrix of a single group.
        let shapes: [(slm_type, Int, Int)] = Self.types.map { ($0, 24, inputSizes($0).last!) }
            + [(SLM_TYPE_Q8_0, 2000, 576), (SLM_TYPE_Q4_1, 8, 32)]
        let weights = shapes.map { quantize(rng.array($0.1 * $0.2), $0.0) }
        let expected = zip(shapes, weights).map { pack($1, $0.0, nOut: $0.1, nIn: $0.2) }
        for threads in [1, 3] {
            let pool = try XCTUnwrap(slm_threadpool_create(Int32(threads)))
            defer { slm_threadpool_destroy(pool) }
            var outputs = expected.map { [UInt8](repeating: 0xAA, count: $0.count) }
            let rc = withPointers(weights, &outputs) { src, dst in
                let jobs = shapes.indices.map {
                    slm_pack_job(base: shapes[$0].0, W: src[$0], n_out: Int64(shapes[$0].1), n_in: Int64(shapes[$0].2), dst: dst[$0], drop_source: 0)
                }
                return slm_pack_matrices(pool, jobs, Int32(jobs.count))
            }
            XCTAssertEqual(rc, 0)
            for i in shapes.indices {
                let firstDiff = zip(outputs[i], expected[i]).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                XCTAssertNil(firstDiff, "\(threads) threads: matrix \(i) (\(typeName(shapes[i].0))) differs from byte \(firstDiff ?? 0)")
            }
            var untouched = [[UInt8](repeating: 0xAA, count: expected[0].count), [UInt8](repeating: 0xAA, count: 64)]
            let refused = withPointers([weights[0], weights[0]], &untouched) { src, dst in
                let jobs = [slm_pack_job(base: shapes[0].0, W: src[0], n_out: Int64(shapes[0].1), n_in: Int64(shapes[0].2), dst: dst[0], drop_source: 0),
                            slm_pack_job(base: shapes[0].0, W: src[1], n_out: 12, n_in: Int64(shapes[0].2), dst: dst[1], drop_source: 0)]
                return slm_pack_matrices(pool, jobs, 2)
            }
            XCTAssertEqual(refused, -1, "12 rows are not whole groups of 8")
            XCTAssertTrue(untouched[0].allSatisfy { $0 == 0xAA }, "a refused call writes nothing")
        }
    }

    /// drop_source: packing from a read-only file mapping gives the same bytes, the mapping still reads the file's
    /// bytes afterwards (its pages refault from the page cache), and the pages leave the process as chunks are packed.
    func testPackingFromAFileMappingCanDropItsPagesAsItGoes() throws {
        var rng = SeededFloats(seed: 21)
        let (nOut, nIn) = (4000, 576)  // Q8_0: 2.4 MB, ~38 chunks of 64 KiB
        let weights = quantize(rng.array(nOut * nIn), SLM_TYPE_Q8_0)
        let expected = pack(weights, SLM_TYPE_Q8_0, nOut: nOut, nIn: nIn)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("slm-pack-\(UUID().uuidString).bin")
        try Data(weights).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let fd = open(url.path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let map = try XCTUnwrap(mmap(nil, weights.count, PROT_READ, MAP_PRIVATE, fd, 0))
        XCTAssertNotEqual(map, MAP_FAILED)
        defer { munmap(map, weights.count) }
        var sum = 0  // fault every page in
        for i in stride(from: 0, to: weights.count, by: 4096) { sum &+= Int(map.load(fromByteOffset: i, as: UInt8.self)) }
        let before = try residentFileKiB()
        var out = [UInt8](repeating: 0, count: expected.count)
        let pool = try XCTUnwrap(slm_threadpool_create(2))
        defer { slm_threadpool_destroy(pool) }
        let rc = out.withUnsafeMutableBytes { dst in
            var job = slm_pack_job(base: SLM_TYPE_Q8_0, W: map, n_out: Int64(nOut), n_in: Int64(nIn),
                                   dst: dst.baseAddress, drop_source: 1)
            return slm_pack_matrices(pool, &job, 1)
        }
        XCTAssertEqual(rc, 0)
        let after = try residentFileKiB()
        XCTAssertTrue(out == expected, "packed bytes differ from packing the same rows from memory")
        XCTAssertLessThan(after, before - weights.count / 1024 * 3 / 4,
                          "at least 3/4 of the source's pages leave the process (resident file KiB \(before) -> \(after), sum \(sum))")
        XCTAssertTrue(UnsafeRawBufferPointer(start: map, count: weights.count).elementsEqual(weights),
                      "the mapping reads the file's bytes after its pages were dropped")
    }

    /// RssFile of this process (Linux); skips elsewhere.
    private func residentFileKiB() throws -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("RssFile:") }),
              let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { throw XCTSkip("no RssFile in /proc/self/status") }
        return kib
    }

    /// Base addresses of `inputs` and `outputs` for the duration of `body`.
    private func withPointers<R>(_ inputs: [[UInt8]], _ outputs: inout [[UInt8]],
                                 _ body: ([UnsafeRawPointer], [UnsafeMutableRawPointer]) -> R) -> R {
        let src = inputs.map { a -> UnsafeMutableRawPointer in
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(a.count, 1), alignment: 64)
            a.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: a.count) }
            return p
        }
        let dst = outputs.map { UnsafeMutableRawPointer.allocate(byteCount: max($0.count, 1), alignment: 64) }
        for (p, a) in zip(dst, outputs) { a.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: a.count) } }
        defer { for p in src + dst { p.deallocate() } }
        let r = body(src.map { UnsafeRawPointer($0) }, dst)
        for i in outputs.indices {
            outputs[i] = Array(UnsafeRawBufferPointer(start: dst[i], count: outputs[i].count))
        }
        return r
    }

    /// Kernels of `isas` against the scalar twin, and every token-tile split against one token per call.
    private func checkTwins(_ isas: [slm_isa]) {
        for type in Self.types {
            for nIn in inputSizes(type) {
                let nOut = 24
                var rng = SeededFloats(seed: UInt64(nIn))
                let p = pack(quantize(rng.array(nOut * nIn), type), type, nOut: nOut, nIn: nIn)
                for tokens in [1, 3, 4, 9, 13] {
                    let x = rng.array(tokens * nIn, scale: 4)
                    let want = packedProduct(type, isa: SLM_ISA_REF, p, nOut: nOut, nIn: nIn, x, tokens: tokens, block: 1)
                    for isa in isas {
                        for block in [1, 2, 4, 8, tokens] {
                            assertBitEqual(packedProduct(type, isa: isa, p, nOut: nOut, nIn: nIn, x, tokens: tokens, block: block),
                                           want, "\(typeName(type)) \(nOut)x\(nIn) isa \(isa.rawValue) \(tokens) tokens by \(block)")
                        }
                    }
                }
            }
        }
    }

    func testScalarTwinTokenSplitsBitForBit() { checkTwins([SLM_ISA_REF]) }

    func testAVX2EqualsScalarTwinBitForBit() throws { checkTwins([try requireISA(SLM_ISA_AVX2)]) }

    func testAVX512EqualsScalarTwinBitForBit() throws { checkTwins([try requireISA(SLM_ISA_AVX512)]) }

    func testAVX512VNNIEqualsScalarTwinBitForBit() throws { checkTwins([try requireISA(SLM_ISA_AVX512_VNNI)]) }

    /// The packed product is the dot product of the dequantized weights with the quantized activations: it differs from
    /// the base type's own vec_dot only by float rounding (sum order; Q4_1's minimum term, which vec_dot takes from an
    /// f16-rounded activation sum: relative 2^-11 of |m| * sum|x|).
    func testPackedProductMatchesTheBaseTypesDot() {
        for type in Self.types {
            for nIn in inputSizes(type) {
                let nOut = 16
                var rng = SeededFloats(seed: 11)
                let w = quantize(rng.array(nOut * nIn), type)
                let p = pack(w, type, nOut: nOut, nIn: nIn)
                let x = rng.array(2 * nIn)
                let got = packedProduct(type, isa: SLM_ISA_REF, p, nOut: nOut, nIn: nIn, x, tokens: 2, block: 2)
                let deq = dequantize(w, type, count: nOut * nIn)
                let rb = rowBytes(type, nIn)
                for t in 0..<2 {
                    let xt = Array(x[(t * nIn)..<((t + 1) * nIn)])
                    let act = activation(xt, for: type)
                    for r in 0..<nOut {
                        let want = vecDot(type, isa: SLM_ISA_REF, n: nIn, weight: Array(w[(r * rb)..<((r + 1) * rb)]), act: act)
                        let row = deq[(r * nIn)..<((r + 1) * nIn)]
                        let absSum = zip(row, xt).reduce(0.0) { $0 + Double(abs($1.0 * $1.1)) }
                        let maxW = Double(row.map(abs).max() ?? 0), sumX = Double(xt.reduce(0) { $0 + abs($1) })
                        let bound = 0x1p-10 * maxW * sumX + 2 * accumulationBound(n: nIn, absSum: absSum)
                        XCTAssertLessThanOrEqual(abs(Double(got[t * nOut + r]) - Double(want)), bound,
                                                 "\(typeName(type)) n_in \(nIn) token \(t) row \(r)")
                    }
                }
            }
        }
    }

    /// The batched-decode kernels (1 to 8 tokens, advancing a prefetch stream) give the ISA's gemm outputs bit for
    /// bit, for every tile split they make (8 or 4 + 4, 4 + 1..3, one tile of 1..4), and so do their 16-row twins on
    /// 512-bit vectors (24 rows: one pair of groups through the 16-row kernel, the last group through the 8-row one).
    func testStreamKernelsEqualTheGemmBitForBit() throws {
        var ran = 0, ran16 = 0
        for isa in [SLM_ISA_AVX2, SLM_ISA_AVX512_VNNI] where slm_isa_runnable(isa) == isa {
            for type in Self.types {
                for nIn in inputSizes(type) {
                    let nOut = 24
                    var rng = SeededFloats(seed: 9)
                    let p = pack(quantize(rng.array(nOut * nIn), type), type, nOut: nOut, nIn: nIn)
                    for tokens in 1...8 {
                        let x = rng.array(tokens * nIn)
                        let want = packedProduct(type, isa: isa, p, nOut: nOut, nIn: nIn, x, tokens: tokens, block: 8)
                        for rows16: Int32 in [0, 1] {
                            var y = [Float](repeating: .nan, count: tokens * nOut)
                            let rc = p.withUnsafeBytes {
                                slm_packed_stream_matmul_isa(isa, type, $0.baseAddress, Int64(nOut), Int64(nIn), x,
                                                             Int64(tokens), &y, rows16)
                            }
                            guard rc == 0 else { continue }  // no such kernel for this type on this ISA
                            if rows16 == 1 { ran16 += 1 } else { ran += 1 }
                            assertBitEqual(y, want, "\(typeName(type)) isa \(isa.rawValue) n_in \(nIn) \(tokens) tokens, 16 rows: \(rows16)")
                        }
                    }
                }
            }
        }
        if ran == 0 { throw XCTSkip("no AVX2 on this machine") }
        // Every 32-element layout has a 16-row kernel on AVX-512 VNNI.
        if slm_isa_runnable(SLM_ISA_AVX512_VNNI) == SLM_ISA_AVX512_VNNI {
            let layouts = Self.types.filter { [SLM_TYPE_Q4_0, SLM_TYPE_Q4_1, SLM_TYPE_Q5_0, SLM_TYPE_Q5_1, SLM_TYPE_Q8_0].contains($0) }
            XCTAssertEqual(ran16, layouts.reduce(0) { $0 + inputSizes($1).count * 8 })
        }
    }

    /// The 16-row kernels of the 32-element layouts (two groups on 512-bit vectors, taken by prefill's row chunks)
    /// give the 8-row gemm's outputs bit for bit, for token counts that exercise every tile (8, 4, 1..3) and for rows
    /// that end on an odd group (40 rows: two pairs and one group).
    func testSixteenRowGemmEqualsTheGemmBitForBit() throws {
        guard slm_isa_runnable(SLM_ISA_AVX512_VNNI) == SLM_ISA_AVX512_VNNI else { throw XCTSkip("no AVX-512 VNNI") }
        var ran = 0
        for type in Self.types {
            for nIn in inputSizes(type) {
                let nOut = 40
                var rng = SeededFloats(seed: 17)
                let p = pack(quantize(rng.array(nOut * nIn), type), type, nOut: nOut, nIn: nIn)
                for tokens in [1, 2, 3, 4, 7, 8, 13, 21] {
                    let x = rng.array(tokens * nIn)
                    var y = [Float](repeating: .nan, count: tokens * nOut)
                    let rc = p.withUnsafeBytes {
                        slm_packed_matmul16_isa(SLM_ISA_AVX512_VNNI, type, $0.baseAddress, Int64(nOut), Int64(nIn), x,
                                                Int64(tokens), 32, &y)
                    }
                    guard rc == 0 else { continue }  // no 16-row kernel for this type
                    ran += 1
                    let want = packedProduct(type, isa: SLM_ISA_AVX512_VNNI, p, nOut: nOut, nIn: nIn, x, tokens: tokens,
                                             block: 1)
                    assertBitEqual(y, want, "\(typeName(type)) n_in \(nIn) \(tokens) tokens")
                }
            }
        }
        let layouts = Self.types.filter { [SLM_TYPE_Q4_0, SLM_TYPE_Q4_1, SLM_TYPE_Q5_0, SLM_TYPE_Q5_1, SLM_TYPE_Q8_0].contains($0) }
        XCTAssertEqual(ran, layouts.reduce(0) { $0 + inputSizes($1).count * 8 })
    }

    /// slm_matvec / slm_matmul / slm_matmul_multi with packed weights, on pools of 1 to 3 threads and mixed with an
    /// unpacked job, equal the single-threaded packed product of the active ISA bit for bit, with and without the
    /// 16-row kernels (40 rows: pairs of groups and one group alone, in prefill's chunks and decode's slices).
    func testMatmulWithPackedWeightsEqualsTheKernelOnAnyPool() {
        for wide: Int32 in [0, 1] {
            let was = slm_cpu_set_wide_zmm(wide)
            defer { slm_cpu_set_wide_zmm(was) }
            matmulWithPackedWeightsEqualsTheKernel(wide: wide)
        }
    }

    private func matmulWithPackedWeightsEqualsTheKernel(wide: Int32) {
        for type in Self.types {
            let nIn = inputSizes(type)[1], nOut = 40
            var rng = SeededFloats(seed: 21)
            let p = pack(quantize(rng.array(nOut * nIn), type), type, nOut: nOut, nIn: nIn)
            let other = quantize(rng.array(13 * nIn), SLM_TYPE_Q8_0)
            let ptype = slm_packed_type(type)
            for tokens in [1, 2, 5, 7, 8, 9] {  // decode, batched steps through the stream kernels, prefill's chunks
                let x = rng.array(tokens * nIn)
                let want = packedProduct(type, isa: slm_active_isa(), p, nOut: nOut, nIn: nIn, x, tokens: tokens, block: 1)
                for threads in [1, 2, 3] {
                    let tp = slm_threadpool_create(Int32(threads))
                    defer { slm_threadpool_destroy(tp) }
                    let work = UnsafeMutableRawPointer.allocate(
                        byteCount: 2 * max(slm_matmul_work_size(ptype, Int64(nIn), Int64(tokens), 3),
                                           slm_matmul_work_size(SLM_TYPE_Q8_0, Int64(nIn), Int64(tokens), 3)), alignment: 64)
                    defer { work.deallocate() }
                    var y = [Float](repeating: .nan, count: tokens * nOut)
                    var y2 = [Float](repeating: .nan, count: tokens * 13)
                    p.withUnsafeBytes { pb in
                        if tokens == 1 {
                            slm_matvec(tp, ptype, pb.baseAddress, Int64(nOut), Int64(nIn), x, &y, work)
                        } else {
                            slm_matmul(tp, ptype, pb.baseAddress, Int64(nOut), Int64(nIn), x, Int64(tokens), &y, work)
                        }
                    }
                    assertBitEqual(y, want, "\(typeName(type)) alone, \(threads) threads, \(tokens) tokens, wide \(wide)")
                    y = [Float](repeating: .nan, count: tokens * nOut)
                    p.withUnsafeBytes { pb in
                        other.withUnsafeBytes { ob in
                            y.withUnsafeMutableBufferPointer { yb in
                                y2.withUnsafeMutableBufferPointer { y2b in
                                    let jobs = [slm_matmul_job(wtype: ptype, W: pb.baseAddress, n_out: Int64(nOut), Y: yb.baseAddress),
                                                slm_matmul_job(wtype: SLM_TYPE_Q8_0, W: ob.baseAddress, n_out: 13, Y: y2b.baseAddress)]
                                    slm_matmul_multi(tp, jobs, 2, Int64(nIn), x, Int64(tokens), work)
                                }
                            }
                        }
                    }
                    assertBitEqual(y, want, "\(typeName(type)) with a Q8_0 job, \(threads) threads, \(tokens) tokens, wide \(wide)")
                    XCTAssertFalse(y2.contains { $0.isNaN }, "the unpacked job ran too")
                }
            }
        }
    }
}
