// Packed layouts: packing and unpacking (ISA-independent byte permutations), the activation quantizer, and the per-ISA
// tables of packed kernels.
//
// Q4_1, per block b of a group of 8 rows (160 bytes = 8 x 20):
//   d[8]   f16 scales of rows 0..7
//   m[8]   f16 minimums of rows 0..7
//   qs[4][32]: vector k, byte 4r + e = qs[4k + e] of row r, i.e. low nibble = element 4k + e, high nibble = element
//          16 + 4k + e (GGUF's nibble order), so one byte vector yields elements 4k..4k+3 of all 8 rows (low nibbles)
//          and elements 16+4k..16+4k+3 (high nibbles), matching one 4-byte broadcast of the activation each.
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>
#include "slm_internal.h"
#include "slm_packed_internal.h"
#include "slm_quants_internal.h"

// ---- activation format ----

static void add_sums(void *dst, int64_t n) {
    slm_block_q8_s *b = dst;
    for (int64_t i = 0; i < n / 32; i++) {
        int s = 0;
        for (int j = 0; j < 32; j++) s += b[i].qs[j];
        b[i].sum = (int16_t)s;
    }
}

// Q8_1's quantizer gives Q8_0's scale and quants (its `s` field is then replaced by the exact integer sum).
void slm_quant_q8_s_ref(const float *restrict src, void *restrict dst, int64_t n) {
    slm_quant_q8_1_ref(src, dst, n);
    add_sums(dst, n);
}

#if SLM_HAVE_X86
void slm_quant_q8_s_avx2(const float *restrict src, void *restrict dst, int64_t n) {
    slm_quant_q8_1_avx2(src, dst, n);
    add_sums(dst, n);
}
#endif

// ---- Q4_1 ----

#define Q4_1_GROUP_BLOCK (SLM_PACK_ROWS * sizeof(slm_block_q4_1))

static size_t group_bytes_q4_1(int64_t n_in) { return (size_t)(n_in / 32) * Q4_1_GROUP_BLOCK; }

static void pack_q4_1(const void *restrict src, size_t src_row, int64_t n_in, void *restrict dst) {
    uint8_t *o = dst;
    for (int64_t b = 0; b < n_in / 32; b++, o += Q4_1_GROUP_BLOCK) {
        for (int r = 0; r < SLM_PACK_ROWS; r++) {
            const slm_block_q4_1 *x = (const slm_block_q4_1 *)((const char *)src + (size_t)r * src_row) + b;
            memcpy(o + 2 * r, &x->d, 2);
            memcpy(o + 16 + 2 * r, &x->m, 2);
            for (int k = 0; k < 4; k++) memcpy(o + 32 + 32 * k + 4 * r, x->qs + 4 * k, 4);
        }
    }
}

static void unpack_q4_1(const void *restrict group, int64_t n_in, int r, void *restrict dst_row) {
    const uint8_t *g = group;
    slm_block_q4_1 *x = dst_row;
    for (int64_t b = 0; b < n_in / 32; b++, g += Q4_1_GROUP_BLOCK) {
        memcpy(&x[b].d, g + 2 * r, 2);
        memcpy(&x[b].m, g + 16 + 2 * r, 2);
        for (int k = 0; k < 4; k++) memcpy(x[b].qs + 4 * k, g + 32 + 32 * k + 4 * r, 4);
    }
}

// ---- tables ----

enum { N_LAYOUTS = 7 };
static slm_packed_traits g_tables[SLM_ISA_COUNT][N_LAYOUTS];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void init_tables(void) {
    slm_packed_traits *ref = g_tables[SLM_ISA_REF];
    ref[0] = (slm_packed_traits){SLM_TYPE_Q4_1, SLM_ACT_Q8_S, 32, sizeof(slm_block_q8_s), slm_quant_q8_s_ref,
                                 group_bytes_q4_1, pack_q4_1, unpack_q4_1, slm_packed_gemm_q4_1_ref};
    const slm_quant_row_fn q8_K_ref = slm_type_traits_of(SLM_TYPE_Q8_K, SLM_ISA_REF)->quant;
    ref[1] = (slm_packed_traits){SLM_TYPE_Q4_K, SLM_TYPE_Q8_K, SLM_QK_K, sizeof(slm_block_q8_K), q8_K_ref,
                                 slm_packed_group_bytes_q4_K, slm_pack_q4_K, slm_unpack_q4_K, slm_packed_gemm_q4_K_ref};
    ref[2] = (slm_packed_traits){SLM_TYPE_Q6_K, SLM_TYPE_Q8_K, SLM_QK_K, sizeof(slm_block_q8_K), q8_K_ref,
                                 slm_packed_group_bytes_q6_K, slm_pack_q6_K, slm_unpack_q6_K, slm_packed_gemm_q6_K_ref};
    ref[3] = (slm_packed_traits){SLM_TYPE_Q4_0, SLM_ACT_Q8_S, 32, sizeof(slm_block_q8_s), slm_quant_q8_s_ref,
                                 slm_packed_group_bytes_q4_0, slm_pack_q4_0, slm_unpack_q4_0, slm_packed_gemm_q4_0_ref};
    ref[4] = (slm_packed_traits){SLM_TYPE_Q5_0, SLM_ACT_Q8_S, 32, sizeof(slm_block_q8_s), slm_quant_q8_s_ref,
                                 slm_packed_group_bytes_q5_0, slm_pack_q5_0, slm_unpack_q5_0, slm_packed_gemm_q5_0_ref};
    ref[5] = (slm_packed_traits){SLM_TYPE_Q8_0, SLM_ACT_Q8_S, 32, sizeof(slm_block_q8_s), slm_quant_q8_s_ref,
                                 slm_packed_group_bytes_q8_0, slm_pack_q8_0, slm_unpack_q8_0, slm_packed_gemm_q8_0_ref};
    ref[6] = (slm_packed_traits){SLM_TYPE_Q5_1, SLM_ACT_Q8_S, 32, sizeof(slm_block_q8_s), slm_quant_q8_s_ref,
                                 slm_packed_group_bytes_q5_1, slm_pack_q5_1, slm_unpack_q5_1, slm_packed_gemm_q5_1_ref};
    for (int isa = SLM_ISA_AVX2; isa < SLM_ISA_COUNT; isa++) memcpy(g_tables[isa], ref, sizeof g_tables[isa]);
#if SLM_HAVE_X86
    // AVX-512 machines run the AVX2 kernels (no AVX-512 packed kernels yet).
    for (int isa = SLM_ISA_AVX2; isa < SLM_ISA_COUNT; isa++) {
        slm_packed_traits *t = g_tables[isa];
        t[0].act_quant = slm_quant_q8_s_avx2;
        t[0].gemm = slm_packed_gemm_q4_1_avx2;
        t[0].gemv = slm_packed_gemv_q4_1_avx2;
        t[1].act_quant = t[2].act_quant = slm_type_traits_of(SLM_TYPE_Q8_K, (slm_isa)isa)->quant;
        t[1].gemm = slm_packed_gemm_q4_K_avx2;
        t[2].gemm = slm_packed_gemm_q6_K_avx2;
        t[1].gemv = slm_packed_gemv_q4_K_avx2;
        t[2].gemv = slm_packed_gemv_q6_K_avx2;
        for (int i = 3; i <= 6; i++) t[i].act_quant = slm_quant_q8_s_avx2;
        t[3].gemm = slm_packed_gemm_q4_0_avx2;
        t[4].gemm = slm_packed_gemm_q5_0_avx2;
        t[5].gemm = slm_packed_gemm_q8_0_avx2;
        t[6].gemm = slm_packed_gemm_q5_1_avx2;
        t[3].gemv = slm_packed_gemv_q4_0_avx2;
        t[4].gemv = slm_packed_gemv_q5_0_avx2;
        t[5].gemv = slm_packed_gemv_q8_0_avx2;
        t[6].gemv = slm_packed_gemv_q5_1_avx2;
    }
#endif
}

const slm_packed_traits *slm_packed_traits_of(slm_type base, slm_isa isa) {
    pthread_once(&g_once, init_tables);
    base = slm_packed_base(base);
    if ((int)isa < 0 || isa >= SLM_ISA_COUNT) return NULL;
    for (int i = 0; i < N_LAYOUTS; i++) {
        if (g_tables[isa][i].base == base) return &g_tables[isa][i];
    }
    return NULL;
}

const slm_packed_traits *slm_get_packed_traits_isa(slm_type base, slm_isa isa) {
    return slm_packed_traits_of(base, slm_isa_runnable(isa));
}

const slm_packed_traits *slm_get_packed_traits(slm_type type) {
    return slm_get_packed_traits_isa(type, slm_active_isa());
}

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

int slm_packed_matmul_isa(slm_isa isa, slm_type base, const void *packed, int64_t n_out, int64_t n_in,
                          const float *X, int64_t n_tokens, int64_t tok_block, float *Y) {
    const slm_packed_traits *p = slm_get_packed_traits_isa(base, isa);
    if (!p || !p->gemm || !slm_can_pack(base, n_out, n_in) || n_tokens <= 0 || tok_block <= 0) return -1;
    const size_t a_row = (size_t)(n_in / p->act_block) * p->act_block_bytes;
    char *act = malloc(a_row * (size_t)n_tokens);
    if (!act) return -1;
    for (int64_t t = 0; t < n_tokens; t++) p->act_quant(X + t * n_in, act + (size_t)t * a_row, n_in);
    const size_t group = p->group_bytes(n_in);
    for (int64_t t0 = 0; t0 < n_tokens; t0 += tok_block) {
        const int64_t nt = SLM_MIN(tok_block, n_tokens - t0);
        for (int64_t g = 0; g < n_out / SLM_PACK_ROWS; g++)
            p->gemm(n_in, (const char *)packed + (size_t)g * group, act + (size_t)t0 * a_row, a_row, nt,
                    Y + t0 * n_out + g * SLM_PACK_ROWS, (size_t)n_out);
    }
    free(act);
    return 0;
}
