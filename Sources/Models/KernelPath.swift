import CKernels

/// Which kernels this process runs, for `slm info`: the instruction set chosen at start-up (capped by SLM_ISA), the
/// best one the CPU offers, whether weight matrices are packed (SLM_PACK=0 turns packing off), and whether products of
/// several tokens over unpacked weights run OpenBLAS (SLM_MATMUL=blas), and whether products of several tokens over
/// packed weights take the 16-row 512-bit kernels (Intel with AVX-512 VNNI; SLM_ZMM16=0|1 overrides).
public struct KernelPath: Sendable, Equatable {
    public var isa: String
    public var cpuBest: String
    public var vnni: Bool
    public var packed: Bool
    public var blas: Bool
    public var wideRows: Bool

    public static var current: KernelPath {
        slm_kernels_init()
        return KernelPath(isa: String(cString: slm_isa_name(slm_active_isa())),
                          cpuBest: String(cString: slm_isa_name(slm_cpu_best_isa())),
                          vnni: slm_cpu_best_isa() == SLM_ISA_AVX512_VNNI, packed: PackedArena.enabled,
                          blas: slm_matmul_uses_blas() != 0,
                          wideRows: slm_active_isa() == SLM_ISA_AVX512_VNNI && slm_cpu_wide_zmm() != 0 && PackedArena.enabled)
    }
}
