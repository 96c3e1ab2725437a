import CKernels
import XCTest

final class QuantTests: XCTestCase {
    // MARK: conversions

    func testFP16RoundTripIsExactForAllHalves() {
        for h in 0...UInt16.max {
            let f = slm_fp16_to_fp32(h)
            let isNaN = (h & 0x7c00) == 0x7c00 && (h & 0x03ff) != 0
            if isNaN {
                XCTAssertTrue(f.isNaN, "half \(h)")
                XCTAssertTrue((slm_fp32_to_fp16(f) & 0x7fff) > 0x7c00, "NaN must stay NaN: \(h)")
                continue
            }
            XCTAssertEqual(slm_fp32_to_fp16(f), h, "round trip of half 0x\(String(h, radix: 16))")
            #if !(os(macOS) && arch(x86_64))
            XCTAssertEqual(f.bitPattern, Float(Float16(bitPattern: h)).bitPattern, "half 0x\(String(h, radix: 16))")
            #endif
        }
    }

    func testFP16KnownValues() {
        let cases: [(Float, UInt16)] = [
            (0, 0x0000), (-0.0, 0x8000), (1, 0x3c00), (-2, 0xc000), (0.5, 0x3800), (65504, 0x7bff),
            (65520, 0x7c00),                 // halfway above the largest half rounds to infinity
            (Float.infinity, 0x7c00), (-Float.infinity, 0xfc00),
            (0x1p-24, 0x0001),               // smallest subnormal
            (0x1p-25, 0x0000),               // halfway to it: ties to even (0)
            (0x1.8p-25, 0x0001),             // above halfway
            (0x1p-14, 0x0400),               // smallest normal
            (1 + 0x1p-11, 0x3c00),           // tie between 1 and 1+2^-10: even mantissa wins
            (1 + 0x1.8p-11, 0x3c01),
            (1 + 0x3p-11, 0x3c02),           // tie between 0x3c01 and 0x3c02: even wins
            (0.333251953125, 0x3555),
        ]
        for (f, h) in cases {
            XCTAssertEqual(slm_fp32_to_fp16(f), h, "\(f)")
        }
        XCTAssertEqual(slm_fp16_to_fp32(0x3555), 0.333251953125)
        XCTAssertEqual(slm_fp16_to_fp32(0x0001), 0x1p-24)
    }

    #if !(os(macOS) && arch(x86_64))
    func testFP32ToFP16MatchesSwiftRounding() {
        var rng = SeededFloats(seed: 11)
        for i in 0..<200_000 {
            // Spread exponents from subnormal-half range to overflow.
            let f = rng.next() * Float(sign: .plus, exponent: (i % 44) - 26, significand: 1)
            XCTAssertEqual(slm_fp32_to_fp16(f), Float16(f).bitPattern, "\(f)")
        }
    }
    #endif

    func testBF16KnownValues() {
        XCTAssertEqual(slm_bf16_to_fp32(0x3f80), 1)
        XCTAssertEqual(slm_bf16_to_fp32(0xc040), -3)
        XCTAssertEqual(slm_bf16_to_fp32(0x0000), 0)
        XCTAssertTrue(slm_bf16_to_fp32(0x7fc0).isNaN)
    }

    // MARK: block layouts (hand-built blocks, as the GGUF/ggml layouts define them)

    func testBlockLayouts() {
        let half: UInt16 = slm_fp32_to_fp16(0.5)
        let lo = UInt8(half & 0xff), hi = UInt8(half >> 8)
        // Q4_0: d, then 16 bytes; element j = low nibble of qs[j], element j+16 = high nibble; x = (q - 8) d.
        var q40 = [UInt8](repeating: 0x88, count: 18)
        q40[0] = lo; q40[1] = hi; q40[2] = 0x1f
        let d40 = dequantize(q40, SLM_TYPE_Q4_0, count: 32)
        XCTAssertEqual(d40[0], 3.5)
        XCTAssertEqual(d40[16], -3.5)
        XCTAssertEqual(d40[1], 0)
        // Q4_1: d, m, nibbles; x = q d + m.
        let m = slm_fp32_to_fp16(-1)
        var q41 = [UInt8](repeating: 0, count: 20)
        q41[0] = lo; q41[1] = hi; q41[2] = UInt8(m & 0xff); q41[3] = UInt8(m >> 8); q41[4] = 0xf2
        let d41 = dequantize(q41, SLM_TYPE_Q4_1, count: 32)
        XCTAssertEqual(d41[0], 0)     // 2 * 0.5 - 1
        XCTAssertEqual(d41[16], 6.5)  // 15 * 0.5 - 1
        XCTAssertEqual(d41[31], -1)
        // Q8_0: d then 32 signed bytes.
        var q80 = [UInt8](repeating: 0, count: 34)
        q80[0] = lo; q80[1] = hi; q80[2] = 0xff; q80[33] = 0x7f
        let d80 = dequantize(q80, SLM_TYPE_Q8_0, count: 32)
        XCTAssertEqual(d80[0], -0.5)
        XCTAssertEqual(d80[31], 63.5)
        // Q8_1: d, s, 32 bytes; s = d * sum(qs).
        let x = (0..<32).map { Float($0 - 16) / 4 }
        let q81 = quantize(x, SLM_TYPE_Q8_1)
        let d = slm_fp16_to_fp32(UInt16(q81[0]) | UInt16(q81[1]) << 8)
        let s = slm_fp16_to_fp32(UInt16(q81[2]) | UInt16(q81[3]) << 8)
        let qsum = q81[4...].reduce(0) { $0 + Int(Int8(bitPattern: $1)) }
        XCTAssertEqual(d, slm_fp16_to_fp32(slm_fp32_to_fp16(4.0 / 127)))
        // s is f16(d_f32 * sum): within one half-ulp (2^-11 relative) of the product with the f16-rounded d.
        XCTAssertEqual(Double(s), Double(d) * Double(qsum), accuracy: abs(Double(d) * Double(qsum)) * 0x1p-10)
    }

    // MARK: quantize -> dequantize error bounds

    func testQuantizeDequantizeErrorBounds() {
        var rng = SeededFloats(seed: 3)
        let n = 4096 + 32
        let x = rng.array(n, scale: 2)
        for type in basicTypes {
            let y = dequantize(quantize(x, type), type, count: n)
            let bs = Int(traits(type).block_size)
            for b in 0..<(n / max(bs, 32)) {
                let block = (b * 32)..<(b * 32 + 32)
                let amax = block.map { abs(x[$0]) }.max()!
                let mn = block.map { x[$0] }.min()!, mx = block.map { x[$0] }.max()!
                for i in block {
                    let err = abs(x[i] - y[i])
                    let bound: Float
                    switch type {
                    case SLM_TYPE_F32: bound = 0
                    // f16 and bf16 round to nearest: half an ulp, 2^-11 / 2^-8 relative; below 2^-14 f16 is
                    // subnormal with a fixed spacing of 2^-24, so half of that bounds the error there.
                    case SLM_TYPE_F16: bound = max(abs(x[i]) * 0x1p-11, 0x1p-25)
                    case SLM_TYPE_BF16: bound = abs(x[i]) * 0x1p-8
                    // Q8: half a step d = amax/127, plus d's f16 rounding (2^-11 relative) times |q| <= 127.
                    case SLM_TYPE_Q8_0, SLM_TYPE_Q8_1: bound = amax / 127 * (0.5 + 127 * 0x1p-11) * 1.0001
                    // Q4_0: step |d| = amax/8; the far end of the block clamps at q = 15, up to one full step off;
                    // plus d's f16 rounding times |q - 8| <= 8.
                    case SLM_TYPE_Q4_0: bound = amax / 8 * (1 + 8 * 0x1p-11) * 1.0001
                    // Q4_1: half a step (max-min)/15, plus f16 rounding of d (times q <= 15) and of m.
                    case SLM_TYPE_Q4_1: bound = ((mx - mn) / 15 * (0.5 + 15 * 0x1p-11) + abs(mn) * 0x1p-11) * 1.0001
                    default: bound = 0; XCTFail("untested type")
                    }
                    XCTAssertLessThanOrEqual(err, bound, "\(typeName(type)) element \(i): \(x[i]) -> \(y[i])")
                }
            }
        }
    }

    /// The reference dot products agree with the dot of the dequantized rows (an independent path through the data).
    func testReferenceDotsMatchDequantizedDot() {
        var rng = SeededFloats(seed: 5)
        for n in [32, 224, 4128] {
            let w = rng.array(n), x = rng.array(n)
            for type in weightTypes {
                let wq = quantize(w, type), act = activation(x, for: type)
                let wd = dequantize(wq, type, count: n)
                let xd = traits(type).vec_dot_type == SLM_TYPE_F32
                    ? x : dequantize(act, traits(type).vec_dot_type, count: n)
                var exact = 0.0, absSum = 0.0
                for i in 0..<n { exact += Double(wd[i]) * Double(xd[i]); absSum += abs(Double(wd[i]) * Double(xd[i])) }
                var bound = accumulationBound(n: n, absSum: absSum)
                if type == SLM_TYPE_Q4_1 {
                    // The minimum term uses the stored s = f16(d * sum q): 2^-11 relative per block, |s| <= 32 amax.
                    bound += (0..<(n / 32)).reduce(0.0) { acc, b in
                        let amax = x[(b * 32)..<(b * 32 + 32)].map { abs(Double($0)) }.max()!
                        return acc + 2 * 32 * amax * 0x1p-11 * abs(Double(wd[b * 32..<(b * 32 + 32)].min()!))
                    }
                }
                let got = vecDot(type, isa: SLM_ISA_REF, n: n, weight: wq, act: act)
                XCTAssertEqual(Double(got), exact, accuracy: bound, "\(typeName(type)) n=\(n)")
            }
        }
    }

    // MARK: SIMD twins against the reference

    private static let blockSizes = [32, 64, 96, 224, 4096 + 32]
    private static let floatSizes = [1, 7, 32, 33, 96, 224, 4096 + 32, 4099]

    private func compareTwins(isa: slm_isa) {
        var rng = SeededFloats(seed: 7)
        for type in basicTypes {
            let sizes = traits(type).block_size == 1 ? Self.floatSizes : Self.blockSizes
            for n in sizes {
                for rows in [1, 3] {  // several rows in one call: the kernels must walk blocks across row ends
                    let x = rng.array(n * rows)
                    let label = "\(typeName(type)) \(String(cString: slm_isa_name(isa))) n=\(n) rows=\(rows)"
                    let refBytes = quantize(x, type)
                    // Quantization: bit-identical (same scale, same round-half-even).
                    XCTAssertEqual(quantize(x, type, isa: isa), refBytes, "quant \(label)")
                    // Dequantization: bit-identical (multiply then add, as the reference rounds).
                    let refDeq = dequantize(refBytes, type, count: n * rows)
                    let simdDeq = dequantize(refBytes, type, count: n * rows, isa: isa)
                    XCTAssertEqual(simdDeq, refDeq, "dequant \(label)")
                }
                guard traits(type).vec_dot != nil else { continue }
                let w = rng.array(n), x = rng.array(n)
                let wq = quantize(w, type), act = activation(x, for: type)
                let wd = dequantize(wq, type, count: n)
                let xd = traits(type).vec_dot_type == SLM_TYPE_F32 ? x : dequantize(act, traits(type).vec_dot_type, count: n)
                let absSum = (0..<n).reduce(0.0) { $0 + abs(Double(wd[$1]) * Double(xd[$1])) }
                let ref = vecDot(type, isa: SLM_ISA_REF, n: n, weight: wq, act: act)
                let simd = vecDot(type, isa: isa, n: n, weight: wq, act: act)
                // Integer block sums are exact; only the order of float accumulation differs.
                XCTAssertEqual(Double(simd), Double(ref), accuracy: accumulationBound(n: n, absSum: absSum),
                               "vec_dot \(typeName(type)) \(String(cString: slm_isa_name(isa))) n=\(n)")
            }
        }
    }

    func testAVX2KernelsMatchReference() throws {
        guard slm_cpu_best_isa().rawValue >= SLM_ISA_AVX2.rawValue else { throw XCTSkip("CPU lacks AVX2") }
        compareTwins(isa: SLM_ISA_AVX2)
    }

    func testAVX512KernelsMatchReference() throws {
        guard slm_cpu_best_isa().rawValue >= SLM_ISA_AVX512.rawValue else {
            throw XCTSkip("CPU lacks AVX-512: the AVX-512 kernels are compiled but not run here")
        }
        compareTwins(isa: SLM_ISA_AVX512)
    }

    func testTraitsTable() {
        XCTAssertEqual(slm_row_size(SLM_TYPE_Q4_1, 576), 18 * 20)
        XCTAssertEqual(slm_row_size(SLM_TYPE_Q8_0, 4096), 128 * 34)
        XCTAssertEqual(slm_row_size(SLM_TYPE_F16, 7), 14)
        XCTAssertEqual(slm_row_size(SLM_TYPE_BF16, 3), 6)
        XCTAssertEqual(slm_row_size(SLM_TYPE_Q8_1, 64), 72)
        XCTAssertEqual(traits(SLM_TYPE_Q4_0).vec_dot_type, SLM_TYPE_Q8_0)
        XCTAssertEqual(traits(SLM_TYPE_Q4_1).vec_dot_type, SLM_TYPE_Q8_1)
        XCTAssertEqual(traits(SLM_TYPE_F16).vec_dot_type, SLM_TYPE_F32)
        XCTAssertNil(traits(SLM_TYPE_Q8_1).vec_dot, "Q8_1 is an activation format, not a weight type")
        XCTAssertNil(slm_get_type_traits(slm_type(rawValue: 4)), "type 4 (removed Q4_2) is not supported")
        XCTAssertNil(slm_get_type_traits(slm_type(rawValue: 99)))
        XCTAssertEqual(slm_row_size(slm_type(rawValue: 99), 32), 0)
        // Asking for an ISA above the CPU's returns the best available kernels, never NULL.
        XCTAssertNotNil(slm_get_type_traits_isa(SLM_TYPE_Q8_0, SLM_ISA_AVX512)?.pointee.vec_dot)
    }
}
