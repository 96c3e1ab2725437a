import CKernels
import Foundation
import XCTest

// Tests of the K-quant family (Q4_K, Q5_K, Q6_K, Q8_K) and Q5_0/Q5_1 through slm_kquant_traits_isa: quantize round
// trips, every SIMD vec_dot against its scalar twin, vec_dot against a double-precision dot of the dequantized rows,
// dequantization of real Gemma-3 tensors against gguf-py, and throughput.
final class KQuantTests: XCTestCase {
    private static let weightTypes: [slm_type] = [SLM_TYPE_Q4_K, SLM_TYPE_Q5_K, SLM_TYPE_Q6_K, SLM_TYPE_Q5_0, SLM_TYPE_Q5_1]
    private static let kRowLengths = [256, 512, 2048 + 256]
    private static let q5RowLengths = [32, 96, 640, 2048]

    func testTraitsDescribeTheFormats() throws {
        let expected: [(slm_type, String, Int64, Int64, slm_type)] = [
            (SLM_TYPE_Q4_K, "Q4_K", 256, 144, SLM_TYPE_Q8_K), (SLM_TYPE_Q5_K, "Q5_K", 256, 176, SLM_TYPE_Q8_K),
            (SLM_TYPE_Q6_K, "Q6_K", 256, 210, SLM_TYPE_Q8_K), (SLM_TYPE_Q8_K, "Q8_K", 256, 292, SLM_TYPE_Q8_K),
            (SLM_TYPE_Q5_0, "Q5_0", 32, 22, SLM_TYPE_Q8_0), (SLM_TYPE_Q5_1, "Q5_1", 32, 24, SLM_TYPE_Q8_1),
        ]
        for isa in [SLM_ISA_REF, SLM_ISA_AVX2, SLM_ISA_AVX512] {
            for (type, name, block, size, dotType) in expected {
                let t = try XCTUnwrap(slm_kquant_traits_isa(type, isa)).pointee
                XCTAssertEqual(String(cString: t.name), name)
                XCTAssertEqual(t.block_size, block)
                XCTAssertEqual(t.type_size, size)
                XCTAssertEqual(t.vec_dot_type.rawValue, dotType.rawValue)
                XCTAssertNotNil(t.dequant)
                XCTAssertNotNil(t.quant)
                XCTAssertEqual(t.vec_dot == nil, type == SLM_TYPE_Q8_K, "\(name): only Q8_K has no vec_dot")
            }
        }
        XCTAssertNil(slm_kquant_traits_isa(SLM_TYPE_Q4_0, SLM_ISA_REF), "types of other families are not ours")
        // the public entry point hands out exactly our tables for our types
        for isa in [SLM_ISA_REF, SLM_ISA_AVX2, SLM_ISA_AVX512] {
            for (type, _, _, _, _) in expected {
                XCTAssertEqual(slm_get_type_traits_isa(type, isa), slm_kquant_traits_isa(type, isa))
            }
        }
        XCTAssertNil(slm_kquant_traits_isa(SLM_TYPE_F32, SLM_ISA_AVX2))
    }

    // Quantize -> dequantize on Gaussian data (sigma 1). Expected RMS error is the uniform rounding error step/sqrt(12)
    // with step = typical block range / (levels - 1); bound = that estimate plus ~15% (the data are seeded, so the
    // measured values are fixed: Q4_K 0.072, Q5_K 0.036, Q6_K 0.017, Q5_0 0.040, Q5_1 0.038, Q8_K 0.0069):
    //   Q4_K: range of 32 values ~4.1 sigma, 15 steps -> 0.079 for plain min/max (the scale search must do better);
    //   Q5_K: 31 steps -> 0.038; Q6_K: 2*amax of 16 values ~3.5 sigma, 63 steps, plus int8 sub-scale rounding ->
    //   ~0.017; Q5_0: 2*amax of 32 ~4.2 sigma, 31 steps -> 0.039; Q5_1: range ~4.1 sigma -> 0.038;
    //   Q8_K: 2*amax of 256 ~5.6 sigma, 254 steps -> 0.0064.
    func testQuantizeDequantizeErrorIsBounded() throws {
        let bounds: [(slm_type, Double)] = [
            (SLM_TYPE_Q4_K, 0.079), (SLM_TYPE_Q5_K, 0.042), (SLM_TYPE_Q6_K, 0.02),
            (SLM_TYPE_Q5_0, 0.046), (SLM_TYPE_Q5_1, 0.044), (SLM_TYPE_Q8_K, 0.0076),
        ]
        var rng = KQSplitMix64(seed: 7)
        let n = 8192
        let x = (0..<n).map { _ in rng.gaussian() }
        for (type, bound) in bounds {
            let t = try XCTUnwrap(slm_kquant_traits_isa(type, SLM_ISA_REF)).pointee
            let y = dequantize(t, quantize(t, x))
            var se = 0.0
            for i in 0..<n { se += Double(x[i] - y[i]) * Double(x[i] - y[i]) }
            let rms = (se / Double(n)).squareRoot()
            XCTAssertLessThan(rms, bound, "\(String(cString: t.name)) RMS error")
            XCTAssertGreaterThan(rms, 0, "a lossy format must lose something: did quantize write anything?")
        }
    }

    // Q8_K rounds to nearest: every element is within half a step (d/2) of its input; the bound allows the f32
    // rounding of q*d (one ulp of a value <= amax, i.e. 2^-23 relative) on top.
    func testQ8KRoundsToNearestAndSumsGroups() throws {
        let t = try XCTUnwrap(slm_kquant_traits_isa(SLM_TYPE_Q8_K, SLM_ISA_REF)).pointee
        var rng = KQSplitMix64(seed: 11)
        let x = (0..<1024).map { _ in rng.gaussian() * 3 }
        let q = quantize(t, x)
        let y = dequantize(t, q)
        q.withUnsafeBytes { raw in
            let blocks = raw.bindMemory(to: slm_block_q8_K.self)
            for b in 0..<blocks.count {
                var block = blocks[b]
                let d = block.d
                let qs = withUnsafeBytes(of: &block.qs) { Array($0.bindMemory(to: Int8.self)) }
                let bsums = withUnsafeBytes(of: &block.bsums) { Array($0.bindMemory(to: Int16.self)) }
                for k in 0..<16 {
                    XCTAssertEqual(Int(bsums[k]), qs[(16 * k)..<(16 * k + 16)].reduce(0) { $0 + Int($1) }, "bsums[\(k)]")
                }
                for l in 0..<256 {
                    let i = 256 * b + l
                    XCTAssertLessThanOrEqual(abs(x[i] - y[i]), d / 2 + abs(x[i]) * 2.4e-7, "element \(i)")
                }
            }
        }
    }

    // The AVX2 Q8_K quantizer must reproduce the reference bit for bit (same iscale, same round-half-even).
    func testQ8KQuantizeAVX2MatchesReferenceExactly() throws {
        _ = try requireISA(SLM_ISA_AVX2)
        let ref = try XCTUnwrap(slm_kquant_traits_isa(SLM_TYPE_Q8_K, SLM_ISA_REF)).pointee
        let simd = try XCTUnwrap(slm_kquant_traits_isa(SLM_TYPE_Q8_K, SLM_ISA_AVX2)).pointee
        XCTAssertNotEqual(fnAddress(ref.quant), fnAddress(simd.quant), "AVX2 table must carry its own Q8_K quantizer")
        var rng = KQSplitMix64(seed: 5)
        for n in Self.kRowLengths {
            let x = (0..<n).map { _ in rng.gaussian() }
            XCTAssertEqual(quantize(ref, x), quantize(simd, x), "n=\(n)")
        }
        // amax = 127 makes iscale 1, so the x.5 values are exact ties (round half to even on both sides)
        var ties = (0..<256).map { Float($0 % 64) - 31.5 }
        ties[0] = 127
        XCTAssertEqual(quantize(ref, ties), quantize(simd, ties), "ties")
        XCTAssertEqual(quantize(ref, [Float](repeating: 0, count: 256)), quantize(simd, [Float](repeating: 0, count: 256)))
    }

    func testAVX2VecDotsMatchReference() throws {
        _ = try requireISA(SLM_ISA_AVX2)
        try compareVecDotsWithReference(isa: SLM_ISA_AVX2)
    }

    func testAVX512VecDotsMatchReference() throws {
        _ = try requireISA(SLM_ISA_AVX512)
        try compareVecDotsWithReference(isa: SLM_ISA_AVX512)
    }

    // vec_dot (every ISA) against the double-precision dot of the dequantized weight row and the dequantized
    // activation row. The integer parts are exact, so the difference is f32 rounding of per-block scale products and
    // sums: bounded by 1e-5 * sum |w_i a_i| (<= ~100 roundings of 2^-24 each on the largest row). For Q5_1 the
    // activation sum s is stored as f16 (see Activation.halfRoundingSlack).
    func testVecDotMatchesDequantizedDot() throws {
        var rng = KQSplitMix64(seed: 3)
        for type in Self.weightTypes {
            let ref = try XCTUnwrap(slm_kquant_traits_isa(type, SLM_ISA_REF)).pointee
            for n in rowLengths(ref) {
                let w = quantize(ref, (0..<n).map { _ in rng.gaussian() * 0.05 + 0.01 })
                let act = try Activation(type: ref.vec_dot_type, values: (0..<n).map { _ in rng.gaussian() })
                let wf = dequantize(ref, w)
                var exact = 0.0, magnitude = 0.0
                for i in 0..<n {
                    exact += Double(wf[i]) * act.dequantized[i]
                    magnitude += abs(Double(wf[i]) * act.dequantized[i])
                }
                let tolerance = 1e-5 * magnitude + act.halfRoundingSlack(weights: w, type: type)
                for isa in availableISAs() {
                    let t = try XCTUnwrap(slm_kquant_traits_isa(type, isa)).pointee
                    let got = vecDot(t, n: n, w, act.bytes)
                    XCTAssertEqual(Double(got), exact, accuracy: tolerance,
                                   "\(String(cString: t.name)) \(String(cString: slm_isa_name(isa))) n=\(n)")
                }
            }
        }
    }

    // Real tensors of gemma-3-270m-q4_k_m.gguf dequantized by our reference kernels against gguf-py's dequantize
    // (Tests/Fixtures/kquant-golden.json). Exact equality: both compute d*scale in f32, then q*(d*scale) and the
    // subtraction of dmin*min, each rounded once to f32 in the same order.
    func testDequantizeMatchesGGUFPyOnGemmaTensors() throws {
        let fixture = try JSONDecoder().decode(KQGolden.self, from: Data(contentsOf: KQPaths.fixture("kquant-golden.json")))
        guard let model = KQPaths.model(fixture.model) else {
            if KQPaths.isCI { XCTFail("model \(fixture.model) missing under CI"); return }
            throw XCTSkip("model \(fixture.model) not in the model store")
        }
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: model))
        defer { try? handle.close() }
        let fileSize = try handle.seekToEnd()
        var checked: Set<String> = []
        for slice in fixture.slices {
            let type = try XCTUnwrap([SLM_TYPE_Q5_0, SLM_TYPE_Q4_K, SLM_TYPE_Q6_K, SLM_TYPE_Q8_0]
                .first { Int($0.rawValue) == slice.ggml_type })
            // through the public entry point: Q8_0 comes from the quants family, the others are delegated to ours
            let t = try XCTUnwrap(slm_get_type_traits_isa(type, SLM_ISA_REF)).pointee
            let (end, overflow) = slice.offset.addingReportingOverflow(UInt64(slice.bytes))
            XCTAssertFalse(overflow)
            XCTAssertLessThanOrEqual(end, fileSize, "\(slice.tensor) slice past the end of the file")
            XCTAssertEqual(Int64(slice.count) / t.block_size * t.type_size, Int64(slice.bytes), "\(slice.tensor) size")
            try handle.seek(toOffset: slice.offset)
            let raw = [UInt8](try XCTUnwrap(handle.read(upToCount: slice.bytes)))
            XCTAssertEqual(raw.count, slice.bytes)
            let got = dequantize(t, raw, n: slice.count)
            var mismatches = 0
            for i in 0..<slice.count where got[i] != Float(slice.values[i]) {
                if mismatches < 5 { XCTFail("\(slice.type) [\(i)]: \(got[i]) != \(slice.values[i])") }
                mismatches += 1
            }
            XCTAssertEqual(mismatches, 0, "\(slice.type): \(mismatches) of \(slice.count) values differ")
            checked.insert(slice.type)
        }
        XCTAssertEqual(checked, ["Q5_0", "Q4_K", "Q6_K", "Q8_0"], "every type in the fixture was checked")
    }

    // Q5_K and Q5_1 have no tensor in the model: seeded random blocks (finite f16 scales) dequantized by gguf-py, stored
    // in the fixture with their bytes. Exact equality for the reason given above.
    func testDequantizeMatchesGGUFPyOnSyntheticBlocks() throws {
        let fixture = try JSONDecoder().decode(KQGolden.self, from: Data(contentsOf: KQPaths.fixture("kquant-golden.json")))
        var checked: Set<String> = []
        for block in fixture.synthetic {
            let type = try XCTUnwrap([SLM_TYPE_Q5_K, SLM_TYPE_Q5_1].first { Int($0.rawValue) == block.ggml_type })
            let t = try XCTUnwrap(slm_kquant_traits_isa(type, SLM_ISA_REF)).pointee
            let hex = Array(block.hex.utf8)
            let raw: [UInt8] = stride(from: 0, to: hex.count, by: 2).compactMap { UInt8(String(decoding: hex[$0..<($0 + 2)], as: UTF8.self), radix: 16) }
            XCTAssertEqual(Int64(raw.count), Int64(block.count) / t.block_size * t.type_size, "\(block.type) size")
            let got = dequantize(t, raw, n: block.count)
            let mismatches = (0..<block.count).filter { got[$0] != Float(block.values[$0]) }
            XCTAssertEqual(mismatches.count, 0, "\(block.type): first mismatches at \(mismatches.prefix(5))")
            checked.insert(block.type)
        }
        XCTAssertEqual(checked, ["Q5_K", "Q5_1"])
    }

    // Throughput of the AVX2 vec_dots on a cache-resident weight matrix (rows of n), reported in GB/s of weight bytes
    // read; the assertion only requires the SIMD kernel to beat its scalar twin.
    func testVecDotThroughputAVX2() throws {
        _ = try requireISA(SLM_ISA_AVX2)
        var rng = KQSplitMix64(seed: 9)
        for (type, n) in [(SLM_TYPE_Q4_K, 2048), (SLM_TYPE_Q6_K, 2048), (SLM_TYPE_Q5_0, 640)] {
            let ref = try XCTUnwrap(slm_kquant_traits_isa(type, SLM_ISA_REF)).pointee
            let simd = try XCTUnwrap(slm_kquant_traits_isa(type, SLM_ISA_AVX2)).pointee
            let rows = 128
            let w = quantize(ref, (0..<(n * rows)).map { _ in rng.gaussian() })
            let act = try Activation(type: ref.vec_dot_type, values: (0..<n).map { _ in rng.gaussian() })
            let rowBytes = w.count / rows
            func seconds(_ t: slm_type_traits, reps: Int) -> Double {
                var best = Double.infinity
                var sink: Float = 0
                w.withUnsafeBytes { wp in
                    act.bytes.withUnsafeBytes { ap in
                        for _ in 0..<5 {
                            let start = DispatchTime.now().uptimeNanoseconds
                            for _ in 0..<reps {
                                for r in 0..<rows {
                                    var out: Float = 0
                                    t.vec_dot!(Int64(n), wp.baseAddress! + r * rowBytes, ap.baseAddress!, &out)
                                    sink += out
                                }
                            }
                            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(reps))
                        }
                    }
                }
                XCTAssertFalse(sink.isNaN)
                return best
            }
            let tSimd = seconds(simd, reps: 20), tRef = seconds(ref, reps: 2)
            let gbps = Double(w.count) / tSimd / 1e9
            print(String(format: "vec_dot %@ n=%d avx2: %.2f GB/s of weights (ref %.2f GB/s, %.1fx)",
                         String(cString: simd.name), n, gbps, Double(w.count) / tRef / 1e9, tRef / tSimd))
            XCTAssertLessThan(tSimd, tRef, "\(String(cString: simd.name)): AVX2 slower than the scalar reference")
        }
    }

    // MARK: - helpers

    private func compareVecDotsWithReference(isa: slm_isa) throws {
        var rng = KQSplitMix64(seed: 1)
        for type in Self.weightTypes {
            let ref = try XCTUnwrap(slm_kquant_traits_isa(type, SLM_ISA_REF)).pointee
            let simd = try XCTUnwrap(slm_kquant_traits_isa(type, isa)).pointee
            let name = "\(String(cString: ref.name)) \(String(cString: slm_isa_name(isa)))"
            XCTAssertNotEqual(fnAddress(ref.vec_dot), fnAddress(simd.vec_dot), "\(name): no SIMD kernel in the table")
            for n in rowLengths(ref) {
                for trial in 0..<3 {
                    // trial 2 uses extreme inputs: huge dynamic range within rows saturates scales and quants
                    let scale: Float = trial == 2 ? 40 : 1
                    let wx = (0..<n).map { i in rng.gaussian() * (i % 37 == 0 ? scale : 1) }
                    let w = quantize(ref, wx)
                    let act = try Activation(type: ref.vec_dot_type, values: (0..<n).map { _ in rng.gaussian() })
                    let wf = dequantize(ref, w)
                    var magnitude = 0.0
                    for i in 0..<n { magnitude += abs(Double(wf[i]) * act.dequantized[i]) }
                    let want = vecDot(ref, n: n, w, act.bytes), got = vecDot(simd, n: n, w, act.bytes)
                    // same exact integer block sums; only the f32 summation order differs (see testVecDotMatchesDequantizedDot)
                    XCTAssertEqual(got, want, accuracy: Float(1e-5 * magnitude), "\(name) n=\(n) trial \(trial)")
                }
            }
        }
    }

    private func rowLengths(_ t: slm_type_traits) -> [Int] {
        t.block_size == 256 ? Self.kRowLengths : Self.q5RowLengths
    }

    private func availableISAs() -> [slm_isa] {
        [SLM_ISA_REF, SLM_ISA_AVX2, SLM_ISA_AVX512].filter { $0.rawValue <= slm_cpu_best_isa().rawValue }
    }
}

// MARK: - file-private support

private func fnAddress<F>(_ f: F?) -> UInt {
    guard let f else { return 0 }
    return unsafeBitCast(f, to: UInt.self)
}

private func quantize(_ t: slm_type_traits, _ x: [Float]) -> [UInt8] {
    let n = x.count
    var out = [UInt8](repeating: 0xAA, count: n / Int(t.block_size) * Int(t.type_size))
    x.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBytes { op in t.quant!(xp.baseAddress!, op.baseAddress!, Int64(n)) }
    }
    return out
}

private func dequantize(_ t: slm_type_traits, _ bytes: [UInt8], n: Int? = nil) -> [Float] {
    let count = n ?? bytes.count / Int(t.type_size) * Int(t.block_size)
    var out = [Float](repeating: .nan, count: count)
    bytes.withUnsafeBytes { bp in
        out.withUnsafeMutableBufferPointer { op in t.dequant!(bp.baseAddress!, op.baseAddress!, Int64(count)) }
    }
    return out
}

private func vecDot(_ t: slm_type_traits, n: Int, _ w: [UInt8], _ a: [UInt8]) -> Float {
    var out: Float = .nan
    w.withUnsafeBytes { wp in
        a.withUnsafeBytes { ap in t.vec_dot!(Int64(n), wp.baseAddress!, ap.baseAddress!, &out) }
    }
    return out
}

/// An activation row in the weight type's vec_dot format, with its exact dequantized values: Q8_K from our own
/// quantizer, Q8_0 and Q8_1 from the quants family's (slm_get_type_traits_isa, reference kernels).
private struct Activation {
    var bytes: [UInt8] = []
    var dequantized: [Double] = []
    var sums: [Float] = []  // Q8_1: the stored s of each block

    init(type: slm_type, values x: [Float]) throws {
        let t = try XCTUnwrap(slm_get_type_traits_isa(type, SLM_ISA_REF), "no traits for activation type \(type.rawValue)").pointee
        bytes = quantize(t, x)
        dequantized = dequantize(t, bytes).map(Double.init)
        if type == SLM_TYPE_Q8_1 {
            for b in 0..<(bytes.count / 36) {
                sums.append(Float(Float16(bitPattern: UInt16(bytes[36 * b + 2]) | UInt16(bytes[36 * b + 3]) << 8)))
            }
        }
    }

    /// Q5_1 x Q8_1: the dot uses the stored s = f16(d * sum q), d unrounded, instead of f16(d) * sum q; the two differ
    /// by the f16 rounding of s and of d, each <= 2^-11 relative: allow |m| * |s| * 2^-10 (+1%) per block.
    func halfRoundingSlack(weights w: [UInt8], type: slm_type) -> Double {
        guard type == SLM_TYPE_Q5_1 else { return 0 }
        var slack = 0.0
        for (b, s) in sums.enumerated() {
            let m = Float16(bitPattern: UInt16(w[24 * b + 2]) | UInt16(w[24 * b + 3]) << 8)
            slack += abs(Double(Float(m)) * Double(s)) * 0x1p-10 * 1.01
        }
        return slack
    }
}

/// SplitMix64: a seeded generator so every run sees the same data.
private struct KQSplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
    mutating func gaussian() -> Float {  // Box-Muller
        let u = max(uniform(), 1e-300), v = uniform()
        return Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
    }
}

private struct KQGolden: Decodable {
    struct Slice: Decodable {
        let tensor: String
        let type: String
        let ggml_type: Int
        let offset: UInt64
        let bytes: Int
        let count: Int
        let values: [Double]
    }
    struct Synthetic: Decodable {
        let type: String
        let ggml_type: Int
        let count: Int
        let hex: String
        let values: [Double]
    }
    let model: String
    let slices: [Slice]
    let synthetic: [Synthetic]
}

/// Fixture and model locations (this test target does not link TestSupport; same rules as TestPaths).
private enum KQPaths {
    static func fixture(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(name)
    }

    static func model(_ file: String) -> String? {
        let env = ProcessInfo.processInfo.environment
        let store = env["SLM_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0).appendingPathComponent("models") }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/slm/models")
        let path = store.appendingPathComponent(file).path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
}
