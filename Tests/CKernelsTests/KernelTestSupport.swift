import CKernels
import XCTest

/// Deterministic pseudo-random floats (a 64-bit LCG), so every failure reproduces.
struct SeededFloats {
    private var state: UInt64
    init(seed: UInt64) { state = seed &* 6364136223846793005 &+ 1442695040888963407 }

    /// Uniform in [-scale, scale).
    mutating func next(scale: Float = 1) -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
    }

    /// Rows whose blocks have varied magnitudes (real activations mix small and large blocks), with an outlier.
    mutating func array(_ count: Int, scale: Float = 1) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let blockScale: Float = (i / 32) % 3 == 0 ? 0.05 : 1
            out[i] = next(scale: scale * blockScale)
        }
        if count > 5 { out[count / 2] = 7.5 * scale }
        return out
    }
}

/// Basic types this target implements, and the vec_dot weight types among them.
let basicTypes: [slm_type] = [SLM_TYPE_F32, SLM_TYPE_F16, SLM_TYPE_BF16, SLM_TYPE_Q4_0, SLM_TYPE_Q4_1,
                              SLM_TYPE_Q8_0, SLM_TYPE_Q8_1]
let weightTypes: [slm_type] = [SLM_TYPE_F32, SLM_TYPE_F16, SLM_TYPE_BF16, SLM_TYPE_Q4_0, SLM_TYPE_Q4_1, SLM_TYPE_Q8_0]

func traits(_ type: slm_type, _ isa: slm_isa = slm_active_isa()) -> slm_type_traits {
    guard let t = slm_get_type_traits_isa(type, isa) else { fatalError("no traits for type \(type.rawValue)") }
    return t.pointee
}

func typeName(_ type: slm_type) -> String { String(cString: traits(type).name) }

func rowBytes(_ type: slm_type, _ n: Int) -> Int { Int(slm_row_size(type, Int64(n))) }

/// f32 -> `type` with the given ISA's quantizer (n a multiple of the block size).
func quantize(_ x: [Float], _ type: slm_type, isa: slm_isa = SLM_ISA_REF) -> [UInt8] {
    let q = traits(type, isa).quant!
    var out = [UInt8](repeating: 0, count: rowBytes(type, x.count))
    x.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBytes { q(src.baseAddress!, $0.baseAddress!, Int64(x.count)) }
    }
    return out
}

func dequantize(_ data: [UInt8], _ type: slm_type, count: Int, isa: slm_isa = SLM_ISA_REF) -> [Float] {
    let dq = traits(type, isa).dequant!
    var out = [Float](repeating: 0, count: count)
    data.withUnsafeBytes { src in
        out.withUnsafeMutableBufferPointer { dq(src.baseAddress!, $0.baseAddress!, Int64(count)) }
    }
    return out
}

/// vec_dot of a weight row with an activation row already in the type's vec_dot format.
func vecDot(_ type: slm_type, isa: slm_isa, n: Int, weight: [UInt8], act: [UInt8]) -> Float {
    let fn = traits(type, isa).vec_dot!
    var out: Float = 0
    weight.withUnsafeBytes { w in
        act.withUnsafeBytes { a in fn(Int64(n), w.baseAddress!, a.baseAddress!, &out) }
    }
    return out
}

/// Activation bytes in the vec_dot format of `type` (f32 bytes when that format is F32).
func activation(_ x: [Float], for type: slm_type, isa: slm_isa = SLM_ISA_REF) -> [UInt8] {
    let vdt = traits(type).vec_dot_type
    if vdt == SLM_TYPE_F32 { return x.withUnsafeBytes { Array($0) } }
    return quantize(x, vdt, isa: isa)
}

/// Worst-case rounding bound of summing n float products in any order: each of n additions adds at most one unit
/// roundoff (2^-24) of a partial sum bounded by sum|terms|, for each of the two implementations compared.
func accumulationBound(n: Int, absSum: Double) -> Double {
    2 * Double(n) * 0x1p-24 * absSum + 1e-30
}

/// The ISAs above the reference that this CPU can run.
func simdISAs() -> [slm_isa] {
    [SLM_ISA_AVX2, SLM_ISA_AVX512, SLM_ISA_AVX512_VNNI].filter { slm_cpu_best_isa().rawValue >= $0.rawValue }
}

/// `isa`, or a skip (reported as skipped, not passed) when this CPU cannot run its kernels.
func requireISA(_ isa: slm_isa) throws -> slm_isa {
    if slm_cpu_best_isa().rawValue < isa.rawValue {
        throw XCTSkip("CPU lacks \(String(cString: slm_isa_name(isa))): its kernels are compiled but not run here")
    }
    return isa
}
