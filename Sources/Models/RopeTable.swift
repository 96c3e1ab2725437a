import CKernels

/// The rotary-embedding cos/sin tables of one step's positions for one frequency base: computed once per step
/// (slm_rope_angles, double precision) and shared by every layer that uses that base, instead of per layer and per
/// q and k. Holds maxBatch positions of nRot/2 pairs each.
final class RopeTable {
    let nRot: Int
    let base: Float
    private let half: Int
    private let cosines, sines: FloatBuffer
    private var filled: Range<Int> = 0..<0

    init(nRot: Int, base: Float, maxBatch: Int) {
        self.nRot = nRot
        self.base = base
        half = nRot / 2
        cosines = FloatBuffer(maxBatch * half)
        sines = FloatBuffer(maxBatch * half)
    }

    /// Makes row t hold the angles of position pos0 + t for t < count (count <= maxBatch); a no-op when they already do.
    func fill(from pos0: Int, count: Int) {
        let wanted = pos0..<(pos0 + count)
        guard wanted != filled else { return }
        for t in 0..<count {
            slm_rope_angles(Int64(nRot), Int64(pos0 + t), base, cosines.pointer + t * half, sines.pointer + t * half)
        }
        filled = wanted
    }

    /// Rotates x ([heads, headDim], the first nRot dims of each head) for row t of the last fill.
    @inline(__always)
    func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, row t: Int, neox: Bool) {
        slm_rope_apply(x, Int64(heads), Int64(headDim), Int64(nRot), cosines.pointer + t * half,
                       sines.pointer + t * half, neox ? 1 : 0)
    }
}
