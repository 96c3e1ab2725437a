import CKernels
import XCTest

/// SplitMix64: a seeded generator so that every ops/attention test sees the same data on every run.
struct OpsRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    mutating func float(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    /// n values of float(lo, hi), in one loop over raw memory (debug builds are slow at millions of calls).
    mutating func floats(_ n: Int, _ lo: Float, _ hi: Float) -> [Float] {
        var s = state
        let out = [Float](unsafeUninitializedCapacity: n) { buf, count in
            for i in 0..<n {
                s &+= 0x9E37_79B9_7F4A_7C15
                var z = s
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                buf[i] = lo + (hi - lo) * Float(z >> 40) / Float(1 << 24)
            }
            count = n
        }
        state = s
        return out
    }
}

/// The SIMD instruction sets whose kernels can run here, by name.
enum OpsISAs {

    static func table(_ isa: slm_isa) -> slm_ops_table { slm_get_ops_isa(isa).pointee }
    static var ref: slm_ops_table { table(SLM_ISA_REF) }

    /// The table of `isa`, or a skip when this CPU lacks it.
    static func require(_ isa: slm_isa) throws -> slm_ops_table {
        if slm_cpu_best_isa().rawValue < isa.rawValue { throw XCTSkip("CPU lacks \(String(cString: slm_isa_name(isa)))") }
        return table(isa)
    }
}

/// Ragged sizes around the 8- and 16-lane vector widths plus model widths (576: SmolLM2, 640: gemma-3-270m).
let opsSizes = [1, 7, 8, 15, 16, 31, 64, 576, 640, 1000]
