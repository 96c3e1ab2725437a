import CKernels
import XCTest

/// Packed kernels at the edges of their integer ranges: quants at their extremes (every bit set, Q8_0's -128 which
/// the quantizer never writes but a file may hold) against activations quantized to +-127. This is where a kernel that
/// adds too many maddubs results in 16 bits, or mishandles a sign, would overflow; the random weights of PackedTests
/// do not get there.
final class PackedExtremesTests: XCTestCase {
    /// Bytes before the quants in a block, for the 32-element types (f16 d, and f16 m for the _1 types).
    private static let headerBytes: [slm_type: Int] = [SLM_TYPE_Q4_0: 2, SLM_TYPE_Q4_1: 4, SLM_TYPE_Q5_0: 2,
                                                       SLM_TYPE_Q5_1: 4, SLM_TYPE_Q8_0: 2]

    /// Valid scales from a real quantization, then every quant byte replaced: row patterns all-ones, 0x80 (Q8_0's
    /// -128), 0x00, and a random mix of extreme bytes.
    private func extremeWeights(_ type: slm_type, nOut: Int, nIn: Int) -> [UInt8] {
        var rng = SeededFloats(seed: 5)
        var w = quantize(rng.array(nOut * nIn), type)
        let header = Self.headerBytes[type]!, block = Int(traits(type).type_size)
        let mix: [UInt8] = [0x00, 0xff, 0x80, 0x7f, 0x81, 0x0f, 0xf0, 0x88]
        for r in 0..<nOut {
            for b in 0..<(nIn / 32) {
                let start = (r * (nIn / 32) + b) * block
                for i in (start + header)..<(start + block) {
                    switch r % 4 {
                    case 0: w[i] = 0xff
                    case 1: w[i] = 0x80
                    case 2: w[i] = 0x00
                    default: w[i] = mix[Int((rng.next() + 1) * 4) % mix.count]
                    }
                }
            }
        }
        return w
    }

    func testExtremeQuantsGiveTheScalarTwinsExactResult() {
        let types = PackedTests.types.filter { Self.headerBytes[$0] != nil }
        XCTAssertFalse(types.isEmpty)
        for type in types {
            let nOut = 16, nIn = 96
            let w = extremeWeights(type, nOut: nOut, nIn: nIn)
            var p = [UInt8](repeating: 0, count: slm_packed_size(type, Int64(nOut), Int64(nIn)))
            w.withUnsafeBytes { src in
                p.withUnsafeMutableBytes { slm_pack_groups(type, src.baseAddress, Int64(nIn), $0.baseAddress, 0, Int64(nOut / 8)) }
            }
            // Tokens of +1, -1 and random signs quantize to +-127 in every element; the last token is ordinary.
            var rng = SeededFloats(seed: 9)
            let x = [Float](repeating: 1, count: nIn) + [Float](repeating: -1, count: nIn)
                + (0..<nIn).map { _ in rng.next() < 0 ? -1 : 1 } + rng.array(nIn)
            let tokens = 4
            func run(_ isa: slm_isa, block: Int) -> [Float] {
                var y = [Float](repeating: .nan, count: tokens * nOut)
                let rc = p.withUnsafeBytes {
                    slm_packed_matmul_isa(isa, type, $0.baseAddress, Int64(nOut), Int64(nIn), x, Int64(tokens), Int64(block), &y)
                }
                XCTAssertEqual(rc, 0)
                return y
            }
            let want = run(SLM_ISA_REF, block: 1)
            // The twin against exact arithmetic on the dequantized operands: its integer sums are exact, so only the
            // d_w * d_a products and the fma per block round (2 * n_in units of 2^-24 of sum|w x| bounds both).
            let deq = dequantize(w, type, count: nOut * nIn)
            for t in 0..<tokens {
                let act = activation(Array(x[(t * nIn)..<((t + 1) * nIn)]), for: type)
                let xq = dequantize(act, traits(type).vec_dot_type, count: nIn)
                for r in 0..<nOut {
                    let row = deq[(r * nIn)..<((r + 1) * nIn)]
                    let exact = zip(row, xq).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                    let absSum = zip(row, xq).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
                    XCTAssertLessThanOrEqual(abs(Double(want[t * nOut + r]) - exact), accumulationBound(n: nIn, absSum: absSum),
                                             "\(typeName(type)) token \(t) row \(r)")
                }
            }
            for isa in simdISAs() {
                for block in [1, 4] {
                    let got = run(isa, block: block)
                    if let i = zip(got, want).enumerated().first(where: { $0.element.0.bitPattern != $0.element.1.bitPattern })?.offset {
                        XCTFail("\(typeName(type)) isa \(isa.rawValue) by \(block): output \(i) is \(got[i]), expected \(want[i])")
                    }
                }
            }
        }
    }
}
