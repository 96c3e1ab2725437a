import CKernels
import Foundation
import GGUF

/// Anonymous memory holding the packed copies of a model's matrices (slm_packed.h: 8 rows interleaved per block, what
/// the matmul kernels read fastest), on transparent huge pages where the kernel allows (long prefetch streams, fewer
/// TLB misses). `pack` only reserves a matrix's place; `finishLoading` packs them all in one pool run (one dispatch
/// for a model's ~100-200 matrices), dropping their file pages from the process as it goes (they stay in the page
/// cache), so resident memory stays near one copy of the weights. Set SLM_PACK=0 to multiply straight from the file
/// mapping instead. Immutable once the model is loaded; no packed weight may be read before `finishLoading`.
final class PackedArena: @unchecked Sendable {
    private let base: UnsafeMutableRawPointer?
    private let capacity: Int
    private var used = 0
    private var jobs: [slm_pack_job] = []

    static var enabled: Bool { ProcessInfo.processInfo.environment["SLM_PACK"] != "0" }

    /// Sized for every packable matrix of `file` but an embedding table that is not also the output matrix (it stays
    /// in the mapping, where row lookups read it). Not populated here: the packing threads fault the (huge) pages in as
    /// they write, so zeroing them is split across the cores too (one thread's MADV_POPULATE_WRITE stalled on
    /// compaction).
    init(file: GGUFFile) {
        var bytes = 0
        if Self.enabled {
            let outputName = file.tensor(named: TensorName.output) != nil
                ? TensorName.output : TensorName.tokenEmbedding
            for t in file.tensors where t.dims.count == 2 {
                let table = t.name == TensorName.tokenEmbedding || t.name == TensorName.output
                if table && t.name != outputName { continue }
                let size = slm_packed_size(slm_type(rawValue: t.type.rawValue), Int64(t.dims[1]), Int64(t.dims[0]))
                // Two pages of slack: a fused matrix (phi3's attn_qkv) is packed as up to three row ranges, each
                // rounded up to a page. Untouched pages of the anonymous mapping cost nothing.
                bytes += (size + 4095) / 4096 * 4096 + 2 * 4096
            }
        }
        capacity = bytes
        if bytes > 0, let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED {
            #if os(Linux)
            madvise(p, bytes, MADV_HUGEPAGE)  // Linux's transparent huge pages: fewer TLB misses on the weight stream
            #endif
            base = p
        } else {
            base = nil
        }
    }

    deinit {
        if let base { munmap(base, capacity) }
    }

    /// Loading is over: packs every reserved matrix (all threads, one pool run), dropping the file pages they were
    /// read from. Called once, before any product runs.
    func finishLoading() {
        guard !jobs.isEmpty else { return }
        let pool = slm_threadpool_create(Int32(max(1, ProcessInfo.processInfo.activeProcessorCount)))
        let status = jobs.withUnsafeBufferPointer { slm_pack_matrices(pool, $0.baseAddress, Int32($0.count)) }
        slm_threadpool_destroy(pool)
        // pack() only reserves matrices slm_can_pack accepts, so the call cannot refuse them.
        precondition(status == 0, "slm_pack_matrices refused a matrix that slm_can_pack accepted")
        jobs = []
    }

    /// `w` with a place reserved for its packed copy (filled by `finishLoading`) when its type has a packed layout;
    /// `w` unchanged otherwise.
    func pack(_ w: Weight) -> Weight {
        guard let base, slm_can_pack(w.type, Int64(w.rows), Int64(w.rowLength)) != 0 else { return w }
        let size = slm_packed_size(w.type, Int64(w.rows), Int64(w.rowLength))
        guard size > 0, used + size <= capacity else { return w }
        let dst = base + used
        used += (size + 4095) / 4096 * 4096
        jobs.append(slm_pack_job(base: w.type, W: w.data, n_out: Int64(w.rows), n_in: Int64(w.rowLength), dst: dst,
                                 drop_source: 1))
        return Weight(type: w.type, data: w.data, rowLength: w.rowLength, rows: w.rows,
                      mmType: slm_packed_type(w.type), mmData: UnsafeRawPointer(dst))
    }
}
