#include "slm_cpu.h"
void slm_kernels_init(void) {}
slm_isa slm_active_isa(void) { return SLM_ISA_REF; }
slm_isa slm_cpu_best_isa(void) { return SLM_ISA_REF; }
int slm_cpu_has_avx512_vnni(void) { return 0; }
const char *slm_isa_name(slm_isa isa) { return "ref"; }
