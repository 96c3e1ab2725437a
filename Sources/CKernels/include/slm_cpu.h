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
    SLM_ISA_AVX512 = 2,  // AVX-512 F/BW/VL (+ VNNI where present)
} slm_isa;

// Detects the CPU once and fills every dispatch table. Idempotent and thread-safe; every other entry point calls it
// lazily, so callers need not. The environment variable SLM_ISA=ref|avx2|avx512 caps the choice (ref forces the
// scalar twins: "is it the kernel?" becomes a one-line question).
void slm_kernels_init(void);

slm_isa slm_active_isa(void);
// The best ISA this CPU supports, ignoring SLM_ISA.
slm_isa slm_cpu_best_isa(void);
int slm_cpu_has_avx512_vnni(void);
const char *slm_isa_name(slm_isa isa);

#ifdef __cplusplus
}
#endif
