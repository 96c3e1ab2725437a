import CKernels

/// Identifies the arithmetic that computes activations in this process: the kernel family (`slm_isa`: scalar and SIMD
/// kernels may round differently), whether matrices are packed (SLM_PACK: packed kernels sum in another order),
/// whether several-token products run OpenBLAS (SLM_MATMUL=blas: sgemm sums in its own order), and a version bumped
/// whenever a kernel change alters any result bit. The prefix cache keys its blocks by it, so a hit always equals what
/// this process would compute.
public enum KernelNumerics {
    /// 2: packed weights (row-interleaved kernels), position-chunked attention. 3: AVX-512 machines run the AVX2
    /// dots of unpacked Q4_0/Q4_1/Q5_0/Q8_0/Q4_K/Q5_K/F32 weights, and VNNI is an ISA of its own. 4: OpenBLAS is part
    /// of the key (blocks written under version 3 with SLM_MATMUL=blas carried the key of runs without it).
    static let version: UInt32 = 4

    public static var id: UInt32 {
        slm_kernels_init()
        return UInt32(slm_active_isa().rawValue) | (PackedArena.enabled ? 0x100 : 0)
            | (slm_matmul_uses_blas() != 0 ? 0x200 : 0) | version << 16
    }

    /// Whether a token's results are independent of how many tokens share a forward pass. Speculation relies on it to
    /// keep its output identical to sequential decoding.
    public static var batchInvariant: Bool { slm_matmul_uses_blas() == 0 }
}
