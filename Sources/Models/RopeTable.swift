import CKernels

/// The rotary-embedding cos/sin tables of one step's rows for one frequency base: computed once per step
/// (slm_rope_angles, double precision) and shared by every layer that uses that base, instead of per layer and per
/// q and k. Holds maxBatch rows of nRot/2 pairs each; row t holds the angles of that row's position, whichever
/// sequence it belongs to (a batched step mixes sequences at unrelated positions).
final class RopeTable {
    let nRot: Int
    let base: Float
    private let half: Int
    private let cosines, sines: FloatBuffer
    /// The position whose angles row t holds (-1: none yet).
    private let rowPosition: UnsafeMutablePointer<Int>
    private let rows: Int

    init(nRot: Int, base: Float, maxBatch: Int) {
        self.nRot = nRot
        self.base = base
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
        for t in 0..<count where rowPosition[t] != positions[t] {
            slm_rope_angles(Int64(nRot), Int64(positions[t]), base, cosines.pointer + t * half, sines.pointer + t * half)
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
