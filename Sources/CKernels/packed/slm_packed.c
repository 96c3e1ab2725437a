// Packed layouts: packing and unpacking (ISA-independent byte permutations), the activation quantizer, and the
// family's entries in the dispatch table (slm_dispatch.h).

#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>
#include "slm_internal.h"
#include "slm_packed_internal.h"
#include "slm_quants_internal.h"
#include "slm_dispatch.h"

// ---- activation format ----

// Each block from Q8_0's block quantizer `block`: its quants, its scale rounded to f16 (stored widened), the exact
// sum of the quants and d * sum.
static void quant_q8_s(const float *restrict src, slm_block_q8_s *restrict b, int64_t n,
                       float (*block)(const float *restrict, int8_t *restrict, int *restrict)) {
    for (int64_t i = 0; i < n / 32; i++) {
        int sum;
        b[i].d = slm_half_to_float(slm_float_to_half(block(src + i * 32, b[i].qs, &sum)));
        b[i].sum = (int16_t)sum;
        b[i].dsum = b[i].d * (float)b[i].sum;
        b[i].pad = 0;
    }
}

void slm_quant_q8_s_ref(const float *restrict src, void *restrict dst, int64_t n) {
    quant_q8_s(src, dst, n, slm_quant_block_q8_ref);
}

#if SLM_HAVE_X86
void slm_quant_q8_s_avx2(const float *restrict src, void *restrict dst, int64_t n) {
    quant_q8_s(src, dst, n, slm_quant_block_q8_avx2);
}
#endif

// ---- the family's kernels in the dispatch table ----

static slm_packed_traits q8_s_layout(slm_type base, size_t (*group_bytes)(int64_t), slm_pack_group_fn pack,
                                     slm_unpack_row_fn unpack, slm_packed_gemm_fn gemm) {
    return (slm_packed_traits){base, SLM_ACT_Q8_S, 32, sizeof(slm_block_q8_s), slm_quant_q8_s_ref, group_bytes,
                               pack, unpack, gemm, NULL, NULL, NULL, NULL};
}

static slm_packed_traits q8_K_layout(slm_type base, slm_quant_row_fn q8_K, size_t (*group_bytes)(int64_t),
                                     slm_pack_group_fn pack, slm_unpack_row_fn unpack, slm_packed_gemm_fn gemm) {
    return (slm_packed_traits){base, SLM_TYPE_Q8_K, SLM_QK_K, sizeof(slm_block_q8_K), q8_K, group_bytes, pack,
                               unpack, gemm, NULL, NULL, NULL, NULL};
}

// AVX-512 without VNNI keeps the AVX2 kernels: on 256-bit units (Zen 4) the same instructions in 512 bits gain
// nothing, and no AVX-512 machine without VNNI was at hand to measure one on. VNNI takes every layout.
void slm_packed_fill(slm_kernel_table *k, slm_isa isa) {
    slm_packed_traits *t = k->packed;
    switch (isa) {
    case SLM_ISA_REF: {
        const slm_quant_row_fn q8_K = k->type[SLM_TYPE_Q8_K].quant;
        t[SLM_TYPE_Q4_0] = q8_s_layout(SLM_TYPE_Q4_0, slm_packed_group_bytes_q4_0, slm_pack_q4_0, slm_unpack_q4_0,
                                       slm_packed_gemm_q4_0_ref);
        t[SLM_TYPE_Q4_1] = q8_s_layout(SLM_TYPE_Q4_1, slm_packed_group_bytes_q4_1, slm_pack_q4_1, slm_unpack_q4_1,
                                       slm_packed_gemm_q4_1_ref);
        t[SLM_TYPE_Q5_0] = q8_s_layout(SLM_TYPE_Q5_0, slm_packed_group_bytes_q5_0, slm_pack_q5_0, slm_unpack_q5_0,
                                       slm_packed_gemm_q5_0_ref);
        t[SLM_TYPE_Q5_1] = q8_s_layout(SLM_TYPE_Q5_1, slm_packed_group_bytes_q5_1, slm_pack_q5_1, slm_unpack_q5_1,
                                       slm_packed_gemm_q5_1_ref);
        t[SLM_TYPE_Q8_0] = q8_s_layout(SLM_TYPE_Q8_0, slm_packed_group_bytes_q8_0, slm_pack_q8_0, slm_unpack_q8_0,
                                       slm_packed_gemm_q8_0_ref);
        t[SLM_TYPE_Q4_K] = q8_K_layout(SLM_TYPE_Q4_K, q8_K, slm_packed_group_bytes_q4_K, slm_pack_q4_K,
                                       slm_unpack_q4_K, slm_packed_gemm_q4_K_ref);
        t[SLM_TYPE_Q6_K] = q8_K_layout(SLM_TYPE_Q6_K, q8_K, slm_packed_group_bytes_q6_K, slm_pack_q6_K,
                                       slm_unpack_q6_K, slm_packed_gemm_q6_K_ref);
        break;
    }
#if SLM_HAVE_X86
    case SLM_ISA_AVX2: {
        static const slm_type q8_s_types[] = {SLM_TYPE_Q4_0, SLM_TYPE_Q4_1, SLM_TYPE_Q5_0, SLM_TYPE_Q5_1,
                                              SLM_TYPE_Q8_0};
        for (size_t i = 0; i < sizeof q8_s_types / sizeof q8_s_types[0]; i++)
            t[q8_s_types[i]].act_quant = slm_quant_q8_s_avx2;
        t[SLM_TYPE_Q4_K].act_quant = t[SLM_TYPE_Q6_K].act_quant = k->type[SLM_TYPE_Q8_K].quant;
#define AVX2(T, t_)                                                                                                  \
    t[SLM_TYPE_##T].gemm = slm_packed_gemm_##t_##_avx2;                                                              \
    t[SLM_TYPE_##T].gemv = slm_packed_gemv_##t_##_avx2;                                                              \
    t[SLM_TYPE_##T].gemm_stream = slm_packed_gemm_stream_##t_##_avx2;
        AVX2(Q4_0, q4_0) AVX2(Q4_1, q4_1) AVX2(Q5_0, q5_0) AVX2(Q5_1, q5_1) AVX2(Q8_0, q8_0) AVX2(Q4_K, q4_K)
        AVX2(Q6_K, q6_K)
#undef AVX2
        break;
    }
    case SLM_ISA_AVX512_VNNI: {
#define VNNI(T, t_)                                                                                                  \
    t[SLM_TYPE_##T].gemm = slm_packed_gemm_##t_##_avx512vnni;                                                        \
    t[SLM_TYPE_##T].gemv = slm_packed_gemv_##t_##_avx512vnni;                                                        \
    t[SLM_TYPE_##T].gemm_stream = slm_packed_gemm_stream_##t_##_avx512vnni;
        VNNI(Q4_0, q4_0) VNNI(Q4_1, q4_1) VNNI(Q5_0, q5_0) VNNI(Q5_1, q5_1) VNNI(Q8_0, q8_0) VNNI(Q4_K, q4_K)
        VNNI(Q6_K, q6_K)
#undef VNNI
#define VNNI16(T, t_)                                                                                                \
    t[SLM_TYPE_##T].gemm16 = slm_packed_gemm16_##t_##_avx512vnni;                                                    \
    t[SLM_TYPE_##T].gemm_stream16 = slm_packed_gemm_stream16_##t_##_avx512vnni;
        VNNI16(Q4_0, q4_0) VNNI16(Q4_1, q4_1) VNNI16(Q5_0, q5_0) VNNI16(Q5_1, q5_1) VNNI16(Q8_0, q8_0)
#undef VNNI16
        break;
    }
#endif
    default:
        break;
    }
}

const slm_packed_traits *slm_packed_traits_of(slm_type type, slm_isa isa) {
    const slm_kernel_table *k = slm_kernel_table_of(isa);
    const slm_type base = slm_packed_base(type);
    if (!k || (int)base < 0 || base >= SLM_TYPE_COUNT || !k->packed[base].pack) return NULL;
    return &k->packed[base];
}

const slm_packed_traits *slm_get_packed_traits_isa(slm_type base, slm_isa isa) {
    return slm_packed_traits_of(base, slm_isa_runnable(isa));
}

const slm_packed_traits *slm_get_packed_traits(slm_type type) { return slm_packed_traits_of(type, slm_active_isa()); }

// ---- public API ----

int slm_type_is_packed(slm_type type) { return ((int)type & SLM_TYPE_PACKED_FLAG) != 0; }

slm_type slm_packed_base(slm_type type) { return (slm_type)((int)type & ~SLM_TYPE_PACKED_FLAG); }

slm_type slm_packed_type(slm_type base) {
    if (slm_type_is_packed(base)) return base;
    return slm_get_packed_traits_isa(base, SLM_ISA_REF) ? (slm_type)((int)base | SLM_TYPE_PACKED_FLAG) : base;
}

int slm_can_pack(slm_type base, int64_t n_out, int64_t n_in) {
    const slm_packed_traits *p = slm_get_packed_traits_isa(base, SLM_ISA_REF);
    const slm_type_traits *t = slm_get_type_traits_isa(slm_packed_base(base), SLM_ISA_REF);
    return p && t && n_out > 0 && n_in > 0 && n_out % SLM_PACK_ROWS == 0 && n_in % t->block_size == 0 &&
           n_in % p->act_block == 0;
}

size_t slm_packed_size(slm_type base, int64_t n_out, int64_t n_in) {
    if (!slm_can_pack(base, n_out, n_in)) return 0;
    return slm_get_packed_traits_isa(base, SLM_ISA_REF)->group_bytes(n_in) * (size_t)(n_out / SLM_PACK_ROWS);
}

void slm_pack_groups(slm_type base, const void *W, int64_t n_in, void *dst, int64_t g0, int64_t g1) {
    const slm_packed_traits *p = slm_get_packed_traits_isa(base, SLM_ISA_REF);
    if (!p) return;
    const size_t row = slm_row_size(slm_packed_base(base), n_in), group = p->group_bytes(n_in);
    for (int64_t g = g0; g < g1; g++)
        p->pack((const char *)W + (size_t)g * SLM_PACK_ROWS * row, row, n_in, (char *)dst + (size_t)g * group);
}

// slm_pack_matrices: chunks of about SLM_PACK_CHUNK_BYTES of source rows (whole groups), numbered across the jobs.
#define SLM_PACK_CHUNK_BYTES (64 * 1024)

typedef struct {
    const slm_pack_job *jobs;
    int n_jobs;
    const int64_t *first_chunk;  // job i's chunks: first_chunk[i] ..< first_chunk[i + 1]
    const int64_t *chunk_groups; // groups per chunk of job i
    atomic_llong next;
} pack_many_ctx;

// The whole pages inside the source rows of groups [g0, g1) leave the process (see slm_pack_job.drop_source). Pages
// shared with a neighbouring chunk stay until slm_pack_matrices drops the whole matrix once every chunk is packed.
static void drop_pages(const void *W, int64_t n_in, slm_type base, int64_t g0, int64_t g1) {
    static long page;
    if (!page) page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;  // benign race: same value
    const size_t group_src = SLM_PACK_ROWS * slm_row_size(base, n_in);
    const uintptr_t a = (uintptr_t)W + (uintptr_t)g0 * group_src, b = (uintptr_t)W + (uintptr_t)g1 * group_src;
    const uintptr_t start = (a + (uintptr_t)page - 1) / (uintptr_t)page * (uintptr_t)page;
    const uintptr_t end = b / (uintptr_t)page * (uintptr_t)page;
    if (end > start) madvise((void *)start, end - start, MADV_DONTNEED);
}

static void pack_many_task(void *p, int ith, int nth) {
    (void)ith; (void)nth;
    pack_many_ctx *c = p;
    const int64_t total = c->first_chunk[c->n_jobs];
    int i = 0;
    for (;;) {
        const int64_t k = atomic_fetch_add_explicit(&c->next, 1, memory_order_relaxed);
        if (k >= total) break;
        while (k >= c->first_chunk[i + 1]) i++;  // chunks are claimed in increasing order
        const slm_pack_job *j = &c->jobs[i];
        const int64_t g0 = (k - c->first_chunk[i]) * c->chunk_groups[i];
        const int64_t g1 = SLM_MIN(g0 + c->chunk_groups[i], j->n_out / SLM_PACK_ROWS);
        slm_pack_groups(j->base, j->W, j->n_in, j->dst, g0, g1);
        if (j->drop_source) drop_pages(j->W, j->n_in, j->base, g0, g1);
    }
}

int slm_pack_matrices(slm_threadpool *tp, const slm_pack_job *jobs, int n_jobs) {
    if (n_jobs <= 0) return 0;
    for (int i = 0; i < n_jobs; i++)
        if (!slm_can_pack(jobs[i].base, jobs[i].n_out, jobs[i].n_in)) return -1;
    int64_t *first = malloc(sizeof(int64_t) * (size_t)(2 * n_jobs + 1));
    if (!first) return -1;
    int64_t *per = first + n_jobs + 1;
    first[0] = 0;
    for (int i = 0; i < n_jobs; i++) {
        const size_t group_src = SLM_PACK_ROWS * slm_row_size(jobs[i].base, jobs[i].n_in);
        const int64_t groups = jobs[i].n_out / SLM_PACK_ROWS;
        per[i] = SLM_MAX((int64_t)1, (int64_t)(SLM_PACK_CHUNK_BYTES / group_src));
        first[i + 1] = first[i] + (groups + per[i] - 1) / per[i];
    }
    pack_many_ctx c = {jobs, n_jobs, first, per, 0};
    atomic_init(&c.next, 0);
    slm_threadpool_run(tp, pack_many_task, &c);  // a NULL pool runs the task on this thread
    for (int i = 0; i < n_jobs; i++)  // the pages chunks shared
        if (jobs[i].drop_source) drop_pages(jobs[i].W, jobs[i].n_in, jobs[i].base, 0, jobs[i].n_out / SLM_PACK_ROWS);
    free(first);
    return 0;
}

void slm_unpack_row(slm_type base, const void *packed, int64_t n_in, int64_t row, void *dst_row) {
    const slm_packed_traits *p = slm_get_packed_traits_isa(base, SLM_ISA_REF);
    if (!p) return;
    const size_t group = p->group_bytes(n_in);
    p->unpack((const char *)packed + (size_t)(row / SLM_PACK_ROWS) * group, n_in, (int)(row % SLM_PACK_ROWS), dst_row);
}

// rows16: pairs of groups through gemm16 (-1 when there is none).
static int packed_matmul(slm_isa isa, slm_type base, const void *packed, int64_t n_out, int64_t n_in, const float *X,
                         int64_t n_tokens, int64_t tok_block, float *Y, int rows16) {
    const slm_packed_traits *p = slm_get_packed_traits_isa(base, isa);
    if (!p || !p->gemm || (rows16 && !p->gemm16) || !slm_can_pack(base, n_out, n_in) || n_tokens <= 0 ||
        tok_block <= 0)
        return -1;
    const size_t a_row = (size_t)(n_in / p->act_block) * p->act_block_bytes;
    char *act = malloc(a_row * (size_t)n_tokens);
    if (!act) return -1;
    for (int64_t t = 0; t < n_tokens; t++) p->act_quant(X + t * n_in, act + (size_t)t * a_row, n_in);
    const size_t group = p->group_bytes(n_in);
    for (int64_t t0 = 0; t0 < n_tokens; t0 += tok_block) {
        const int64_t nt = SLM_MIN(tok_block, n_tokens - t0);
        int64_t g = 0;
        if (rows16)
            for (; g + 2 <= n_out / SLM_PACK_ROWS; g += 2)
                p->gemm16(n_in, (const char *)packed + (size_t)g * group, act + (size_t)t0 * a_row, a_row, nt,
                          Y + t0 * n_out + g * SLM_PACK_ROWS, (size_t)n_out);
        for (; g < n_out / SLM_PACK_ROWS; g++)
            p->gemm(n_in, (const char *)packed + (size_t)g * group, act + (size_t)t0 * a_row, a_row, nt,
                    Y + t0 * n_out + g * SLM_PACK_ROWS, (size_t)n_out);
    }
    free(act);
    return 0;
}

int slm_packed_matmul_isa(slm_isa isa, slm_type base, const void *packed, int64_t n_out, int64_t n_in,
                          const float *X, int64_t n_tokens, int64_t tok_block, float *Y) {
    return packed_matmul(isa, base, packed, n_out, n_in, X, n_tokens, tok_block, Y, 0);
}

int slm_packed_matmul16_isa(slm_isa isa, slm_type base, const void *packed, int64_t n_out, int64_t n_in,
                            const float *X, int64_t n_tokens, int64_t tok_block, float *Y) {
    return packed_matmul(isa, base, packed, n_out, n_in, X, n_tokens, tok_block, Y, 1);
}

int slm_packed_stream_matmul_isa(slm_isa isa, slm_type base, const void *packed, int64_t n_out, int64_t n_in,
                                 const float *X, int64_t n_tokens, float *Y, int rows16) {
    const slm_packed_traits *p = slm_get_packed_traits_isa(base, isa);
    if (!p || !p->gemm_stream || (rows16 && !p->gemm_stream16) || slm_isa_runnable(isa) != isa ||
        !slm_can_pack(base, n_out, n_in) || n_tokens < 1 || n_tokens > 8)
        return -1;
    const size_t a_row = (size_t)(n_in / p->act_block) * p->act_block_bytes;
    char *act = malloc(a_row * (size_t)n_tokens);
    if (!act) return -1;
    for (int64_t t = 0; t < n_tokens; t++) p->act_quant(X + t * n_in, act + (size_t)t * a_row, n_in);
    const size_t group = p->group_bytes(n_in);
    slm_pf_stream s = {.n = 1, .k = -1};
    s.begin[0] = packed;
    s.end[0] = (const char *)packed + group * (size_t)(n_out / SLM_PACK_ROWS);
    slm_pf_advance(&s, 4096);
    int64_t g = 0;
    if (rows16)
        for (; g + 2 <= n_out / SLM_PACK_ROWS; g += 2)
            p->gemm_stream16(n_in, (const char *)packed + (size_t)g * group, act, a_row, n_tokens,
                             Y + g * SLM_PACK_ROWS, (size_t)n_out, &s);
    for (; g < n_out / SLM_PACK_ROWS; g++)
        p->gemm_stream(n_in, (const char *)packed + (size_t)g * group, act, a_row, n_tokens, Y + g * SLM_PACK_ROWS,
                       (size_t)n_out, &s);
    free(act);
    return 0;
}
