// CPU feature detection and the one-time choice of instruction set.
#pragma once
#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SLM_ISA_REF = 0,     // portable scalar reference kernels
    SLM_ISA_AVX2 = 1,    // AVX2 + FMA + F16C
    SLM_ISA_AVX512 = 2,  // AVX-512 F/BW/VL/DQ
    SLM_ISA_AVX512_VNNI = 3,  // AVX-512 F/BW/VL/DQ + VNNI
} slm_isa;
#define SLM_ISA_COUNT 4

// Detects the CPU once and fills every dispatch table. Idempotent and thread-safe; every other entry point calls it
// lazily, so callers need not. The environment variable SLM_ISA=ref|avx2|avx512|avx512vnni caps the choice (ref
// forces the scalar twins: "is it the kernel?" becomes a one-line question). Each ISA's tables are a pure function
// of the ISA (the same on every machine); the CPU only decides which one is active.
void slm_kernels_init(void);

slm_isa slm_active_isa(void);
// The best ISA this CPU supports, ignoring SLM_ISA.
slm_isa slm_cpu_best_isa(void);
// Whether batched decode steps take the 16-row kernels on 512-bit vectors (slm_packed_traits.gemm_stream16, a pure
// function of the ISA like every kernel) where the active ISA has them: on cores that run 512-bit integer operations
// at full width, where those steps are bound by the arithmetic. Detected as an Intel CPU (its AVX-512 server cores
// issue a 512-bit vpdpbusd as often as a 256-bit one); AMD's Zen 4 splits each 512-bit operation in two 256-bit
// halves, where the 8-row kernels stay. SLM_ZMM16=0|1 overrides the detection.
int slm_cpu_wide_zmm(void);
// Tests: sets what slm_cpu_wide_zmm answers (0 or 1) and returns the previous answer. Not thread-safe against products
// that are running.
int slm_cpu_set_wide_zmm(int on);
// `isa` capped to what this CPU runs (tests ask for an ISA's kernels and get the best runnable ones).
slm_isa slm_isa_runnable(slm_isa isa);
const char *slm_isa_name(slm_isa isa);
// Tests: how many dispatch-table entries of `isa` are unset (-1: no such ISA); the first is described in `first`.
int slm_dispatch_missing(slm_isa isa, char *first, size_t cap);

#ifdef __cplusplus
}
#endif
