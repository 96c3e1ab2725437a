// CPU detection, the dispatch table of every instruction set (filled once) and the choice of the active one.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slm_cpu.h"
#include "slm_internal.h"
#include "slm_dispatch.h"

#if SLM_HAVE_X86
#include <cpuid.h>
#endif

static slm_isa g_best = SLM_ISA_REF;
static slm_isa g_active = SLM_ISA_REF;
static int g_wide_zmm = 0;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
// Written once inside g_once; every reader goes through slm_kernels_init first, which orders it.
static slm_kernel_table g_tables[SLM_ISA_COUNT];

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
    unsigned vendor[4] = {0};
    __get_cpuid(0, &vendor[3], &vendor[0], &vendor[2], &vendor[1]);  // "GenuineIntel" in ebx, edx, ecx
    g_wide_zmm = memcmp(vendor, "GenuineIntel", 12) == 0;
#endif
}

float slm_fp16_table[1 << 16];

static void fill_tables(void) {
    for (int isa = 0; isa < SLM_ISA_COUNT; isa++) {
        slm_kernel_table *t = &g_tables[isa];
        if (isa > 0) *t = g_tables[isa - 1];
        slm_quants_fill(t, (slm_isa)isa);
        slm_kquants_fill(t, (slm_isa)isa);
        slm_packed_fill(t, (slm_isa)isa);
        slm_ops_fill(t, (slm_isa)isa);
    }
}

static void init_once(void) {
    for (uint32_t h = 0; h < (1u << 16); h++) slm_fp16_table[h] = slm_half_to_float((uint16_t)h);
    fill_tables();
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
    const char *zmm = getenv("SLM_ZMM16");
    if (zmm && (strcmp(zmm, "0") == 0 || strcmp(zmm, "1") == 0)) g_wide_zmm = zmm[0] == '1';
}

void slm_kernels_init(void) { pthread_once(&g_once, init_once); }
slm_isa slm_active_isa(void) { slm_kernels_init(); return g_active; }
slm_isa slm_cpu_best_isa(void) { slm_kernels_init(); return g_best; }
int slm_cpu_wide_zmm(void) { slm_kernels_init(); return g_wide_zmm; }
int slm_cpu_set_wide_zmm(int on) {
    slm_kernels_init();
    const int was = g_wide_zmm;
    g_wide_zmm = on != 0;
    return was;
}
const slm_kernel_table *slm_kernel_table_of(slm_isa isa) {
    if ((int)isa < 0 || isa >= SLM_ISA_COUNT) return NULL;
    slm_kernels_init();
    return &g_tables[isa];
}

const slm_kernel_table *slm_kernels(void) {
    slm_kernels_init();
    return &g_tables[g_active];
}

// Counts the unset entries of `isa`'s table: every field of each type, packed layout and op the reference table has
// (a vec_dot or gemv only where the reference, or for gemv AVX2, has one), naming the first in `first`.
int slm_dispatch_missing(slm_isa isa, char *first, size_t cap) {
    const slm_kernel_table *t = slm_kernel_table_of(isa), *ref = slm_kernel_table_of(SLM_ISA_REF);
    if (!t) return -1;
    int missing = 0;
#define NEED(cond, ...)                                                                                              \
    do {                                                                                                             \
        if (!(cond) && missing++ == 0 && first && cap) snprintf(first, cap, __VA_ARGS__);                            \
    } while (0)
    for (int i = 0; i < SLM_TYPE_COUNT; i++) {
        const slm_type_traits *a = &t->type[i], *r = &ref->type[i];
        if (!r->name) continue;
        NEED(a->name && a->block_size > 0 && a->type_size > 0, "type %d: name or sizes", i);
        NEED(a->dequant, "type %s: dequant", r->name);
        NEED(a->quant, "type %s: quant", r->name);
        NEED(a->vec_dot || !r->vec_dot, "type %s: vec_dot", r->name);
        NEED(!a->vec_dot || t->type[a->vec_dot_type].quant, "type %s: its activation format's quant", r->name);
        const slm_packed_traits *p = &t->packed[i];
        if (!ref->packed[i].pack) continue;
        NEED(p->base == i && p->act_quant && p->group_bytes && p->pack && p->unpack && p->gemm,
             "packed %s: a field", r->name);
        NEED(p->gemv || isa < SLM_ISA_AVX2 || !SLM_HAVE_X86, "packed %s: gemv", r->name);
    }
    const slm_ops_impl *o = &t->ops;
    NEED(o->pub.rmsnorm && o->pub.swiglu && o->pub.geglu && o->pub.softmax && o->pub.rope_apply && o->pub.attn_chunk &&
             o->add && o->scale && o->fp32_to_fp16 && o->fp16_to_fp32 && o->first_above,
         "an op");
#undef NEED
    return missing;
}

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
