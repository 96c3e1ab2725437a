import CKernels
import Foundation
import GGUF

/// Anonymous memory holding the packed copies of a model's matrices (slm_packed.h: 8 rows interleaved per block, what
/// the matmul kernels read fastest), on transparent huge pages where the kernel allows (long prefetch streams, fewer
/// TLB misses). Packing reads each tensor of the file mapping once and then drops those file pages from the process
/// (they stay in the page cache), so resident memory stays near one copy of the weights. Set SLM_PACK=0 to multiply
/// straight from the file mapping instead. Immutable once the model is loaded.
final class PackedArena: @unchecked Sendable {
    private let base: UnsafeMutableRawPointer?
    private let capacity: Int
    private var used = 0
    private var pool: OpaquePointer?

    static var enabled: Bool { ProcessInfo.processInfo.environment["SLM_PACK"] != "0" }

    /// Sized for every packable matrix of `file` but the embedding and output tables (which stay in the mapping), and
    /// populated at once: one call that zeroes the pages is much cheaper than a page fault per page while packing.
    init(file: GGUFFile) {
        var bytes = 0
        if Self.enabled {
            for t in file.tensors where t.dims.count == 2 && t.name != TensorName.tokenEmbedding && t.name != TensorName.output {
                let size = slm_packed_size(slm_type(rawValue: t.type.rawValue), Int64(t.dims[1]), Int64(t.dims[0]))
                bytes += (size + 4095) / 4096 * 4096
            }
        }
        capacity = bytes
        if bytes > 0, let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED {
            madvise(p, bytes, MADV_HUGEPAGE)
            madvise(p, bytes, MADV_POPULATE_WRITE)  // Linux 5.14+; elsewhere pages fault in as they are written
            base = p
            pool = slm_threadpool_create(Int32(max(1, ProcessInfo.processInfo.activeProcessorCount)))
        } else {
            base = nil
            pool = nil
        }
    }

    deinit {
        if let base { munmap(base, capacity) }
        slm_threadpool_destroy(pool)
    }

    /// Loading is over: release the packing threads.
    func finishLoading() {
        slm_threadpool_destroy(pool)
        pool = nil
    }

    /// `w` with a packed copy for the matmul kernels when its type has a packed layout; `w` unchanged otherwise.
    func pack(_ w: Weight) -> Weight {
        guard let base, pool != nil else { return w }
        let size = slm_packed_size(w.type, Int64(w.rows), Int64(w.rowLength))
        guard size > 0, used + size <= capacity else { return w }
        let dst = base + used
        guard slm_pack_matrix(pool, w.type, w.data, Int64(w.rows), Int64(w.rowLength), dst) == 0 else { return w }
        used += (size + 4095) / 4096 * 4096
        Self.dropPages(w.data, count: Int(slm_row_size(w.type, Int64(w.rowLength))) * w.rows)
        return Weight(type: w.type, data: w.data, rowLength: w.rowLength, rows: w.rows,
                      mmType: slm_packed_type(w.type), mmData: UnsafeRawPointer(dst))
    }

    /// Drops the whole pages of a read-only file range from this process (they refault from the page cache if read).
    private static func dropPages(_ p: UnsafeRawPointer, count: Int) {
        let page = 4096
        let start = (Int(bitPattern: p) + page - 1) / page * page
        let end = (Int(bitPattern: p) + count) / page * page
        guard end > start, let q = UnsafeMutableRawPointer(bitPattern: start) else { return }
        madvise(q, end - start, MADV_DONTNEED)
    }
}
