// CPU detection and the one-time choice of instruction set.
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "slm_cpu.h"
#include "slm_internal.h"

#if SLM_HAVE_X86
#include <cpuid.h>
#endif

void slm_ops_init(slm_isa isa);  // slm_ops.h

static slm_isa g_best = SLM_ISA_REF;
static slm_isa g_active = SLM_ISA_REF;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

#if SLM_HAVE_X86
static uint64_t xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}
#endif

static void detect(void) {
#if SLM_HAVE_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return;
    uint64_t xcr0 = xgetbv0();
    int ymm_os = (xcr0 & 0x6) == 0x6;
    int zmm_os = (xcr0 & 0xe6) == 0xe6;
    if (__get_cpuid_max(0, 0) < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1;
    int avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
    int vnni = (c >> 11) & 1;
    if (ymm_os && avx2 && fma && f16c) g_best = SLM_ISA_AVX2;
    if (g_best == SLM_ISA_AVX2 && zmm_os && avx512f && avx512dq && avx512bw && avx512vl)
        g_best = vnni ? SLM_ISA_AVX512_VNNI : SLM_ISA_AVX512;
#endif
}

float slm_fp16_table[1 << 16];

static void init_once(void) {
    for (uint32_t h = 0; h < (1u << 16); h++) slm_fp16_table[h] = slm_half_to_float((uint16_t)h);
    detect();
    g_active = g_best;
    const char *env = getenv("SLM_ISA");
    if (env) {
        slm_isa cap = g_best;
        if (strcmp(env, "ref") == 0) cap = SLM_ISA_REF;
        else if (strcmp(env, "avx2") == 0) cap = SLM_ISA_AVX2;
        else if (strcmp(env, "avx512") == 0) cap = SLM_ISA_AVX512;
        else if (strcmp(env, "avx512vnni") == 0) cap = SLM_ISA_AVX512_VNNI;
        if (cap < g_active) g_active = cap;
    }
    slm_ops_init(g_active);
}

void slm_kernels_init(void) { pthread_once(&g_once, init_once); }
slm_isa slm_active_isa(void) { slm_kernels_init(); return g_active; }
slm_isa slm_cpu_best_isa(void) { slm_kernels_init(); return g_best; }
slm_isa slm_isa_runnable(slm_isa isa) {
    const slm_isa best = slm_cpu_best_isa();
    if ((int)isa < 0) return SLM_ISA_REF;
    return isa > best ? best : isa;
}

const char *slm_isa_name(slm_isa isa) {
    switch (isa) {
    case SLM_ISA_REF: return "ref";
    case SLM_ISA_AVX2: return "avx2";
    case SLM_ISA_AVX512: return "avx512";
    case SLM_ISA_AVX512_VNNI: return "avx512vnni";
    }
    return "unknown";
}
