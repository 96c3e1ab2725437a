import CKernels
import XCTest

/// Which kernel serves each weight type and layout on each ISA (slm_kernel_choice_of). The tables are a pure function
/// of the ISA, so every ISA is checked on any x86-64 machine, whatever it runs.
final class DispatchTests: XCTestCase {
    static let isas = [SLM_ISA_REF, SLM_ISA_AVX2, SLM_ISA_AVX512, SLM_ISA_AVX512_VNNI]
    static let unpackedTypes: [slm_type] = [SLM_TYPE_F32, SLM_TYPE_F16, SLM_TYPE_BF16, SLM_TYPE_Q4_0, SLM_TYPE_Q4_1,
                                            SLM_TYPE_Q5_0, SLM_TYPE_Q5_1, SLM_TYPE_Q8_0, SLM_TYPE_Q4_K, SLM_TYPE_Q5_K,
                                            SLM_TYPE_Q6_K]
    static let packedTypes: [slm_type] = [SLM_TYPE_Q4_0, SLM_TYPE_Q4_1, SLM_TYPE_Q5_0, SLM_TYPE_Q5_1, SLM_TYPE_Q8_0,
                                          SLM_TYPE_Q4_K, SLM_TYPE_Q6_K]

    private func choice(_ isa: slm_isa, _ type: slm_type) -> slm_kernel_choice? {
        var c = slm_kernel_choice()
        return slm_kernel_choice_of(isa, type, &c) == 0 ? c : nil
    }

    private func name(_ isa: slm_isa) -> String { String(cString: slm_isa_name(isa)) }

    /// "decode/prefill[ tiles][ stream]", e.g. "avx2/avx2 tiles stream".
    private func describe(_ c: slm_kernel_choice) -> String {
        var s = "\(name(c.decode))/\(name(c.prefill))"
        if c.tiles != 0 { s += " tiles" }
        if c.stream != 0 { s += " stream" }
        return s
    }

    private func requireX86Kernels() throws {
        #if !arch(x86_64)
        throw XCTSkip("the SIMD kernels are x86-64 only: every ISA's table is the reference here")
        #endif
    }

    /// The expected table, measured on an AVX-512 VNNI machine (Zen 4): on AVX-512 the AVX2 kernel stays wherever it
    /// was faster, so no unpacked matrix loses the register tiles and the decode prefetch stream; every packed layout
    /// has VNNI kernels.
    func testEveryTypeAndLayoutOnEveryISA() throws {
        try requireX86Kernels()
        let tiled = Set([SLM_TYPE_Q4_0, SLM_TYPE_Q4_1, SLM_TYPE_Q5_0, SLM_TYPE_Q8_0].map(\.rawValue))
        let avx512Own = Set([SLM_TYPE_F16, SLM_TYPE_Q5_1, SLM_TYPE_Q6_K].map(\.rawValue))
        for isa in Self.isas {
            for type in Self.unpackedTypes {
                let label = "\(name(isa)) unpacked \(String(cString: slm_get_type_traits_isa(type, SLM_ISA_REF).pointee.name))"
                guard let c = choice(isa, type) else { XCTFail("\(label): no kernel"); continue }
                let want: String
                switch isa {
                case SLM_ISA_REF: want = "ref/ref"
                case SLM_ISA_AVX2: want = tiled.contains(type.rawValue) ? "avx2/avx2 tiles stream" : "avx2/avx2"
                default:
                    want = tiled.contains(type.rawValue) ? "avx2/avx2 tiles stream"
                        : avx512Own.contains(type.rawValue) ? "avx512/avx512" : "avx2/avx2"
                }
                XCTAssertEqual(describe(c), want, label)
            }
            for base in Self.packedTypes {
                let label = "\(name(isa)) packed \(String(cString: slm_get_type_traits_isa(base, SLM_ISA_REF).pointee.name))"
                guard let c = choice(isa, slm_packed_type(base)) else { XCTFail("\(label): no kernel"); continue }
                let want = isa == SLM_ISA_REF ? "ref/ref" : isa == SLM_ISA_AVX512_VNNI ? "avx512vnni/avx512vnni stream"
                    : "avx2/avx2 stream"
                XCTAssertEqual(describe(c), want, label)
            }
        }
    }

    /// Independent of the expected table: an ISA above AVX2 never drops the tiles or the in-kernel prefetch stream
    /// that AVX2 has for a type (the fast path for unpacked matrices), and never falls back below AVX2.
    func testNoISALosesTheAVX2FastPath() throws {
        try requireX86Kernels()
        for isa in [SLM_ISA_AVX512, SLM_ISA_AVX512_VNNI] {
            for type in Self.unpackedTypes + Self.packedTypes.map(slm_packed_type) {
                guard let avx2 = choice(SLM_ISA_AVX2, type), let c = choice(isa, type) else {
                    XCTFail("type \(type.rawValue): no kernel"); continue
                }
                XCTAssertGreaterThanOrEqual(c.tiles, avx2.tiles, "\(name(isa)) type \(type.rawValue) keeps AVX2's tiles")
                XCTAssertGreaterThanOrEqual(c.stream, avx2.stream, "\(name(isa)) type \(type.rawValue) keeps the stream")
                XCTAssertGreaterThanOrEqual(c.decode.rawValue, SLM_ISA_AVX2.rawValue)
                XCTAssertGreaterThanOrEqual(c.prefill.rawValue, SLM_ISA_AVX2.rawValue)
            }
        }
    }

    /// slm_cpu.c fills every ISA's table once: every kernel the reference has is set in every ISA's table.
    func testEveryEntryIsSetForEveryISA() {
        for isa in Self.isas {
            var first = [CChar](repeating: 0, count: 128)
            let missing = first.withUnsafeMutableBufferPointer { slm_dispatch_missing(isa, $0.baseAddress, $0.count) }
            let what = first.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            XCTAssertEqual(missing, 0, "\(name(isa)): \(what)")
        }
        XCTAssertEqual(slm_dispatch_missing(slm_isa(rawValue: 4), nil, 0), -1, "no such ISA")
    }

    func testTypesWithoutProductsHaveNoChoice() {
        for isa in Self.isas {
            XCTAssertNil(choice(isa, SLM_TYPE_Q8_1), "Q8_1 is an activation format")
            XCTAssertNil(choice(isa, SLM_TYPE_Q8_K), "Q8_K is an activation format")
            XCTAssertNil(choice(isa, slm_type(rawValue: 99)))
        }
        XCTAssertNil(choice(slm_isa(rawValue: 7), SLM_TYPE_Q8_0), "no such ISA")
    }

    /// The active ISA is the best the CPU has, capped by SLM_ISA, and its kernels are the ones slm_get_type_traits
    /// hands out.
    func testActiveTablesAreTheActiveISAs() {
        XCTAssertLessThanOrEqual(slm_active_isa().rawValue, slm_cpu_best_isa().rawValue)
        for type in Self.unpackedTypes {
            XCTAssertEqual(slm_get_type_traits(type), slm_get_type_traits_isa(type, slm_active_isa()))
        }
    }
}
