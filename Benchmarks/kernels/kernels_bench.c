// Per-kernel micro-benchmarks of slm's CKernels, built straight from the sources (no Swift):
//   decode: slm_matvec GB/s (weight bytes streamed per second) for each weight type at the two reference models'
//           shapes, against the machine's measured read bandwidth (a 1 GiB sweep as in Benchmarks/membw.c);
//   prefill: slm_matmul GFLOP/s (2 * n_out * n_in * n_tokens per call) against OpenBLAS sgemm on the same shape in f32;
//   sequence (KB_ONLY=sequence): ms per token for a whole model's matvecs in a runner's order, weights packed;
//           KB_BATCH=n runs each step over n tokens at once (a batched decode step of n sequences).
// The matrices of one shape are replicated until they exceed the last-level cache (64 MiB), and consecutive calls walk
// through the copies, so each matvec reads its weights from DRAM as it does in a real decode.
//
// Build and run:
//   Benchmarks/kernels/run.sh [THREADS...]        (default: 1 2)
#include <cblas.h>
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "slm_kernels.h"

// KB_CPU=1: the calling thread's CPU time instead of the wall clock (single-thread runs on a shared machine: time
// spent descheduled does not count).
static double now_s(void) {
    static int cpu = -1;
    if (cpu < 0) cpu = getenv("KB_CPU") != NULL;
    struct timespec t;
    clock_gettime(cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

// ---- memory read bandwidth (as Benchmarks/membw.c) ----

#define BW_BYTES (1ull << 30)
static char *g_bw_buf;

__attribute__((target("avx2"))) static void bw_task(void *ctx, int ith, int nth) {
    (void)ctx;
    int64_t b, e;
    slm_split_range((int64_t)(BW_BYTES / 128), 1, ith, nth, &b, &e);
    const __m256i *p = (const __m256i *)g_bw_buf;
    __m256i acc = _mm256_setzero_si256();
    for (int64_t k = b * 4; k < e * 4; k += 4) {
        acc = _mm256_xor_si256(acc, _mm256_load_si256(p + k));
        acc = _mm256_xor_si256(acc, _mm256_load_si256(p + k + 1));
        acc = _mm256_xor_si256(acc, _mm256_load_si256(p + k + 2));
        acc = _mm256_xor_si256(acc, _mm256_load_si256(p + k + 3));
    }
    volatile int sink = _mm256_extract_epi32(acc, 0);
    (void)sink;
}

static double bandwidth(slm_threadpool *tp) {
    g_bw_buf = aligned_alloc(64, BW_BYTES);
    memset(g_bw_buf, 1, BW_BYTES);
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_s();
        slm_threadpool_run(tp, bw_task, NULL);
        double gbs = BW_BYTES / (now_s() - t0) / 1e9;
        if (gbs > best) best = gbs;
    }
    free(g_bw_buf);
    return best;
}

// ---- matrices ----

static float frand(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

// `copies` quantized copies of a random [n_out, n_in] matrix, back to back.
static char *make_weights(slm_type type, int64_t n_out, int64_t n_in, int copies, size_t *row_bytes) {
    const slm_type_traits *tt = slm_get_type_traits(type);
    *row_bytes = slm_row_size(type, n_in);
    // 4 KiB pages, as the model file's mapping has (no transparent huge pages): page walks and prefetch stops at
    // page boundaries are part of what a decode pays.
    size_t bytes = (*row_bytes * (size_t)n_out * (size_t)copies + 4095) / 4096 * 4096;
    char *w = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    madvise(w, bytes, getenv("KB_HUGE") ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    float *row = malloc((size_t)n_in * sizeof(float));
    uint64_t s = 42;
    for (int64_t r = 0; r < n_out; r++) {
        for (int64_t i = 0; i < n_in; i++) row[i] = frand(&s);
        tt->quant(row, w + (size_t)r * *row_bytes, n_in);
    }
    for (int c = 1; c < copies; c++) memcpy(w + (size_t)c * *row_bytes * (size_t)n_out, w, *row_bytes * (size_t)n_out);
    free(row);
    return w;
}

// KB_PACKED=1: the weights repacked in place into slm's packed layout (slm_packed.h) when the type has one; returns
// the type to multiply with.
static slm_type maybe_pack(slm_type type, char *w, int64_t n_out, int64_t n_in, int copies) {
    if (!getenv("KB_PACKED") || !slm_can_pack(type, n_out, n_in)) return type;
    size_t bytes = slm_packed_size(type, n_out, n_in);
    char *tmp = malloc(bytes);
    for (int c = 0; c < copies; c++) {
        slm_pack_groups(type, w + (size_t)c * bytes, n_in, tmp, 0, n_out / SLM_PACK_ROWS);
        memcpy(w + (size_t)c * bytes, tmp, bytes);
    }
    free(tmp);
    return slm_packed_type(type);
}

typedef struct {
    const char *what;
    slm_type type;
    int64_t n_out, n_in;
} shape;

static const shape k_shapes[] = {
    {"smollm2 q/o", SLM_TYPE_Q4_1, 576, 576},
    {"smollm2 gate/up", SLM_TYPE_Q4_1, 1536, 576},
    {"smollm2 down", SLM_TYPE_Q4_1, 576, 1536},
    {"smollm2 output", SLM_TYPE_Q8_0, 49152, 576},
    {"gemma3 q", SLM_TYPE_Q5_0, 1024, 640},
    {"gemma3 gate/up", SLM_TYPE_Q5_0, 2048, 640},
    {"gemma3 o", SLM_TYPE_Q4_K, 640, 1024},
    {"gemma3 down", SLM_TYPE_Q6_K, 640, 2048},
    {"gemma3 v", SLM_TYPE_Q8_0, 256, 640},
    {"gemma3 output", SLM_TYPE_Q8_0, 262144, 640},
};

static void bench_matvec(slm_threadpool *tp, double bw) {
    printf("\n## decode: slm_matvec, %d thread(s); DRAM read bandwidth %.1f GB/s\n", slm_threadpool_n_threads(tp), bw);
    printf("| shape | type | n_out x n_in | us/call | GB/s | of bandwidth |\n| --- | --- | --- | ---: | ---: | ---: |\n");
    for (size_t k = 0; k < sizeof k_shapes / sizeof k_shapes[0]; k++) {
        const shape *s = &k_shapes[k];
        if (getenv("KB_MATCH") && !strstr(s->what, getenv("KB_MATCH"))) continue;  // KB_MATCH: shapes to run
        size_t row_bytes;
        size_t mat_bytes = slm_row_size(s->type, s->n_in) * (size_t)s->n_out;
        // KB_HOT=1: one copy, so matrices that fit stay in cache and the kernel's compute speed shows
        int copies = getenv("KB_HOT") ? 1 : (int)((64u << 20) / mat_bytes + 1);
        char *w = make_weights(s->type, s->n_out, s->n_in, copies, &row_bytes);
        const slm_type mtype = maybe_pack(s->type, w, s->n_out, s->n_in, copies);
        float *x = malloc((size_t)s->n_in * sizeof(float)), *y = malloc((size_t)s->n_out * sizeof(float));
        uint64_t seed = 7;
        for (int64_t i = 0; i < s->n_in; i++) x[i] = frand(&seed);
        void *work = malloc(slm_matmul_work_size(mtype, s->n_in, 1, slm_threadpool_n_threads(tp)));
        // ~2 GB of weights streamed per measurement, best of 3
        int calls = (int)(2e9 / (double)mat_bytes);
        if (calls < 4) calls = 4;
        double best = 1e30;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = now_s();
            for (int c = 0; c < calls; c++) {
                slm_matvec(tp, mtype, w + (size_t)(c % copies) * mat_bytes, s->n_out, s->n_in, x, y, work);
            }
            double t = (now_s() - t0) / calls;
            if (t < best) best = t;
        }
        double gbs = (double)mat_bytes / best / 1e9;
        printf("| %s | %s | %lld x %lld | %.1f | %.1f | %.0f%% |\n", s->what, slm_get_type_traits(s->type)->name,
               (long long)s->n_out, (long long)s->n_in, best * 1e6, gbs, 100 * gbs / bw);
        munmap(w, (row_bytes * (size_t)s->n_out * (size_t)copies + 4095) / 4096 * 4096);
        free(x); free(y); free(work);
    }
}

static void bench_matmul(slm_threadpool *tp, int64_t n_tokens) {
    printf("\n## prefill: slm_matmul vs OpenBLAS sgemm (f32 weights), %lld tokens, %d thread(s)\n", (long long)n_tokens,
           slm_threadpool_n_threads(tp));
    printf("| shape | type | n_out x n_in | slm GFLOP/s | sgemm GFLOP/s | ratio |\n| --- | --- | --- | ---: | ---: | ---: |\n");
    openblas_set_num_threads(slm_threadpool_n_threads(tp));
    for (size_t k = 0; k < sizeof k_shapes / sizeof k_shapes[0]; k++) {
        const shape *s = &k_shapes[k];
        if (s->n_out > 4096) continue;  // output matrices: prefill computes the last row's logits only
        size_t row_bytes;
        char *w = make_weights(s->type, s->n_out, s->n_in, 1, &row_bytes);
        float *wf = malloc((size_t)s->n_out * (size_t)s->n_in * sizeof(float));
        for (int64_t r = 0; r < s->n_out; r++) slm_get_row(s->type, w, s->n_in, r, wf + r * s->n_in);
        const slm_type mtype = maybe_pack(s->type, w, s->n_out, s->n_in, 1);
        float *X = malloc((size_t)(n_tokens * s->n_in) * sizeof(float));
        float *Y = malloc((size_t)(n_tokens * s->n_out) * sizeof(float));
        uint64_t seed = 9;
        for (int64_t i = 0; i < n_tokens * s->n_in; i++) X[i] = frand(&seed);
        void *work = malloc(slm_matmul_work_size(mtype, s->n_in, n_tokens, slm_threadpool_n_threads(tp)));
        double flop = 2.0 * (double)s->n_out * (double)s->n_in * (double)n_tokens;
        double best_slm = 1e30, best_blas = 1e30;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = now_s();
            slm_matmul(tp, mtype, w, s->n_out, s->n_in, X, n_tokens, Y, work);
            double t1 = now_s();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)n_tokens, (blasint)s->n_out, (blasint)s->n_in,
                        1.0f, X, (blasint)s->n_in, wf, (blasint)s->n_in, 0.0f, Y, (blasint)s->n_out);
            double t2 = now_s();
            if (t1 - t0 < best_slm) best_slm = t1 - t0;
            if (t2 - t1 < best_blas) best_blas = t2 - t1;
        }
        printf("| %s | %s | %lld x %lld | %.1f | %.1f | %.2f |\n", s->what, slm_get_type_traits(s->type)->name,
               (long long)s->n_out, (long long)s->n_in, flop / best_slm / 1e9, flop / best_blas / 1e9,
               best_blas / best_slm);
        munmap(w, (row_bytes * (size_t)s->n_out + 4095) / 4096 * 4096);
        free(wf); free(X); free(Y); free(work);
    }
}

// ---- decode sequence: a whole model's matvecs per token (KB_ONLY=sequence) ----
// Each layer's matrices live in their own memory, as in a model, and a token runs them in the order a runner does
// (Q/K/V in one run, O, gate/up in one run, down; then the output matrix), so the cost of many small pool runs,
// their ramp-up and the gaps between them shows, not just one shape's streaming speed.

typedef struct {
    const char *what;
    int layers;
    int64_t embd, qdim, kvdim, ff, vocab;
    slm_type tq, tk, tv, to, tgate, tup, tdown, tout;
} seq_model;

static const seq_model k_seq[] = {
    {"smollm2-135m", 30, 576, 576, 192, 1536, 49152,
     SLM_TYPE_Q4_1, SLM_TYPE_Q4_1, SLM_TYPE_Q4_1, SLM_TYPE_Q4_1, SLM_TYPE_Q4_1, SLM_TYPE_Q4_1, SLM_TYPE_Q4_1, SLM_TYPE_Q8_0},
    {"gemma3-270m", 18, 640, 1024, 256, 2048, 262144,
     SLM_TYPE_Q5_0, SLM_TYPE_Q5_0, SLM_TYPE_Q8_0, SLM_TYPE_Q4_K, SLM_TYPE_Q5_0, SLM_TYPE_Q5_0, SLM_TYPE_Q6_K, SLM_TYPE_Q8_0},
};

typedef struct {
    slm_type type;
    char *w;
    int64_t n_out, n_in;
} seq_mat;

static seq_mat seq_make(slm_type type, int64_t n_out, int64_t n_in, int pack) {
    size_t row_bytes;
    seq_mat m = {type, make_weights(type, n_out, n_in, 1, &row_bytes), n_out, n_in};
    if (pack && slm_can_pack(type, n_out, n_in)) {
        size_t bytes = slm_packed_size(type, n_out, n_in);
        char *tmp = malloc(bytes);
        slm_pack_groups(type, m.w, n_in, tmp, 0, n_out / SLM_PACK_ROWS);
        memcpy(m.w, tmp, bytes);
        free(tmp);
        m.type = slm_packed_type(type);
    }
    return m;
}

static size_t seq_bytes(const seq_mat *m) { return slm_row_size(slm_packed_base(m->type), m->n_in) * (size_t)m->n_out; }

static void bench_sequence(slm_threadpool *tp, double bw) {
    printf("\n## decode sequence: a model's matvecs per token, %d thread(s); DRAM read bandwidth %.1f GB/s\n",
           slm_threadpool_n_threads(tp), bw);
    printf("| model | tokens/step | MB/step | ms/step | tok/s | GB/s | of bandwidth |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (size_t k = 0; k < sizeof k_seq / sizeof k_seq[0]; k++) {
        const seq_model *s = &k_seq[k];
        if (getenv("KB_MATCH") && !strstr(s->what, getenv("KB_MATCH"))) continue;
        seq_mat (*L)[7] = malloc(sizeof(seq_mat[7]) * (size_t)s->layers);
        size_t bytes = 0;
        for (int l = 0; l < s->layers; l++) {
            L[l][0] = seq_make(s->tq, s->qdim, s->embd, 1);
            L[l][1] = seq_make(s->tk, s->kvdim, s->embd, 1);
            L[l][2] = seq_make(s->tv, s->kvdim, s->embd, 1);
            L[l][3] = seq_make(s->to, s->embd, s->qdim, 1);
            L[l][4] = seq_make(s->tgate, s->ff, s->embd, 1);
            L[l][5] = seq_make(s->tup, s->ff, s->embd, 1);
            L[l][6] = seq_make(s->tdown, s->embd, s->ff, 1);
            for (int i = 0; i < 7; i++) bytes += seq_bytes(&L[l][i]);
        }
        seq_mat out = seq_make(s->tout, s->vocab, s->embd, 1);  // packed, as slm loads the output matrix
        bytes += seq_bytes(&out);
        int64_t big = s->vocab;
        const char *batch = getenv("KB_BATCH");
        const int64_t nt = batch && atoi(batch) > 1 ? atoi(batch) : 1;  // tokens per step
        float *x = malloc((size_t)(s->ff * nt) * sizeof(float)), *y = malloc((size_t)(big * nt) * sizeof(float) * 4);
        uint64_t seed = 7;
        for (int64_t i = 0; i < s->ff * nt; i++) x[i] = frand(&seed) * 0.1f;
        const int nth = slm_threadpool_n_threads(tp);
        size_t wb = slm_matmul_work_size(SLM_TYPE_Q8_0, s->ff, nt, nth) * 4 + (1 << 20);
        void *work = malloc(wb);
        int tokens = (int)(1e9 / (double)bytes) + 2;
        if (getenv("KB_TOKENS")) tokens = atoi(getenv("KB_TOKENS"));  // tokens per repetition
        enum { REPS = 7 };
        double times[REPS];
        for (int rep = 0; rep < REPS; rep++) {
            double t0 = now_s();
            for (int t = 0; t < tokens; t++) {
                for (int l = 0; l < s->layers; l++) {
                    seq_mat *m = L[l];
                    slm_matmul_job qkv[3] = {{m[0].type, m[0].w, m[0].n_out, y},
                                             {m[1].type, m[1].w, m[1].n_out, y + s->qdim * nt},
                                             {m[2].type, m[2].w, m[2].n_out, y + (s->qdim + s->kvdim) * nt}};
                    slm_matmul_multi(tp, qkv, 3, s->embd, x, nt, work);
                    slm_matmul(tp, m[3].type, m[3].w, m[3].n_out, m[3].n_in, x, nt, y, work);
                    slm_matmul_job gu[2] = {{m[4].type, m[4].w, m[4].n_out, y}, {m[5].type, m[5].w, m[5].n_out, y + s->ff * nt}};
                    slm_matmul_multi(tp, gu, 2, s->embd, x, nt, work);
                    slm_matmul(tp, m[6].type, m[6].w, m[6].n_out, m[6].n_in, x, nt, y, work);
                }
                slm_matmul(tp, out.type, out.w, out.n_out, out.n_in, x, nt, y, work);
            }
            times[rep] = (now_s() - t0) / tokens;
        }
        for (int a = 0; a < REPS; a++)  // median of the repetitions: the machine is shared
            for (int b = a + 1; b < REPS; b++)
                if (times[b] < times[a]) { double t = times[a]; times[a] = times[b]; times[b] = t; }
        const double med = times[REPS / 2], gbs = (double)bytes / med / 1e9;
        printf("| %s | %lld | %.1f | %.2f | %.1f | %.1f | %.0f%% |\n", s->what, (long long)nt, bytes / 1e6, med * 1e3,
               (double)nt / med, gbs, 100 * gbs / bw);
        free(L); free(x); free(y); free(work);  // the weights' mappings are left to process exit
    }
}

int main(int argc, char **argv) {
    slm_kernels_init();
    printf("ISA: %s\n", slm_isa_name(slm_active_isa()));
    int threads[8] = {1, 2}, n = 2;
    if (argc > 1) {
        n = 0;
        for (int i = 1; i < argc && n < 8; i++) threads[n++] = atoi(argv[i]);
    }
    const char *only = getenv("KB_ONLY");  // "decode" or "prefill"
    for (int i = 0; i < n; i++) {
        slm_threadpool *tp = slm_threadpool_create(threads[i]);
        if (!only || strcmp(only, "decode") == 0) bench_matvec(tp, bandwidth(tp));
        if (!only || strcmp(only, "prefill") == 0) bench_matmul(tp, 512);
        if (only && strcmp(only, "sequence") == 0) bench_sequence(tp, bandwidth(tp));
        slm_threadpool_destroy(tp);
    }
    return 0;
}
