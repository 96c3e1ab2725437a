import CKernels
import Foundation

/// The rotary-embedding cos/sin tables of one step's rows for one frequency base: computed once per step
/// (slm_rope_angles, double precision) and shared by every layer that uses that base, instead of per layer and per
/// q and k. Holds maxBatch rows of nRot/2 pairs each; row t holds the angles of that row's position, whichever
/// sequence it belongs to (a batched step mixes sequences at unrelated positions).
/// With frequency factors (llama 3's rope_freqs, phi3's LongRoPE factors), a frequency scale or an attention factor,
/// pair i turns by theta_i = pos * base^(-2i/nRot) * freqScale / factors[i] and cos/sin are multiplied by attnFactor,
/// as llama.cpp's ggml_rope_ext (ext_factor 0) does; the angle is formed in double and rounded once, like
/// slm_rope_angles, which computes the plain case.
final class RopeTable {
    let nRot: Int
    let base: Float
    private let factors: [Float]?
    private let freqScale: Float
    private let attnFactor: Float
    private let half: Int
    private let cosines, sines: FloatBuffer
    /// The position whose angles row t holds (-1: none yet).
    private let rowPosition: UnsafeMutablePointer<Int>
    private let rows: Int

    init(nRot: Int, base: Float, maxBatch: Int, factors: [Float]? = nil, freqScale: Float = 1, attnFactor: Float = 1) {
        precondition(factors == nil || factors!.count == nRot / 2)
        self.nRot = nRot
        self.base = base
        self.factors = factors
        self.freqScale = freqScale
        self.attnFactor = attnFactor
        half = nRot / 2
        rows = max(1, maxBatch)
        cosines = FloatBuffer(rows * half)
        sines = FloatBuffer(rows * half)
        rowPosition = .allocate(capacity: rows)
        rowPosition.initialize(repeating: -1, count: rows)
    }

    deinit { rowPosition.deallocate() }

    /// Makes row t hold the angles of `positions[t]` for t < count (count <= maxBatch); rows that already do are kept.
    func fill(positions: UnsafePointer<Int>, count: Int) {
        let plain = factors == nil && freqScale == 1 && attnFactor == 1
        for t in 0..<count where rowPosition[t] != positions[t] {
            let c = cosines.pointer + t * half, s = sines.pointer + t * half
            if plain {
                slm_rope_angles(Int64(nRot), Int64(positions[t]), base, c, s)
            } else {
                for i in 0..<half {
                    let theta = Double(positions[t]) * pow(Double(base), -2 * Double(i) / Double(nRot))
                        * Double(freqScale) / Double(factors?[i] ?? 1)
                    c[i] = Float(cos(theta)) * attnFactor
                    s[i] = Float(sin(theta)) * attnFactor
                }
            }
            rowPosition[t] = positions[t]
        }
    }

    /// Rotates x ([heads, headDim], the first nRot dims of each head) for row t of the last fill.
    @inline(__always)
    func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, row t: Int, neox: Bool) {
        slm_rope_apply(x, Int64(heads), Int64(headDim), Int64(nRot), cosines.pointer + t * half,
                       sines.pointer + t * half, neox ? 1 : 0)
    }
}
