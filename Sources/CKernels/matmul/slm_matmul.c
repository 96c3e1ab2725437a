// Weight x activation products. Every quantized product goes through the weight type's vec_dot on one (weight row,
// token) pair, so a token's output never depends on how many tokens share the call: decode equals prefill, and a
// prompt split into batches gives bit-identical results. The OpenBLAS path (SLM_MATMUL=blas) trades that
// invariance for GEMM speed on long prompts and is therefore opt-in; the library is loaded (dlopen) only then, so
// no other run maps it (its pages and its thread server cost an idle server ~3 MB) and slm runs where it is missing.
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "slm_matmul.h"
#include "slm_internal.h"
#include "slm_quants_internal.h"
#include "slm_packed_internal.h"
#include "slm_prefetch.h"
#include "slm_dispatch.h"

// Weight rows per BLAS tile: TILE * n_in floats per thread of scratch (64 x 1536 x 4 = 384 KiB).
#define SLM_BLAS_TILE 64
// Tokens per inner block: their quantized rows (~1-2 KiB each) stay in L1/L2 while a chunk of weight rows passes.
#define SLM_TOKEN_BLOCK 32
#define SLM_WORK_ALIGN 64
// Decode streams weights from DRAM: each thread prefetches (into L1) this many bytes ahead of its kernels; 1-2 KiB
// start too late, 16 KiB and more overrun L1 on gemma3's output matrix (Benchmarks/kernels, KB_ONLY=sequence).
#define SLM_PREFETCH_BYTES 4096
// Decode: units (8 rows) a thread claims from its own slice at a time, and the threads that have claim slots (larger
// pools run static slices).
#define SLM_DECODE_CLAIM 2
#define SLM_DECODE_MAX_THREADS 32
// Up to this many tokens (a batched decode step: one row per sequence) quantize their activations on the calling
// thread: a pool run of its own, four per layer, cost more than the quantization (~1 us per row).
#define SLM_QUANT_INLINE_TOKENS 8
// Up to this many tokens with every matrix packed, the products run as a decode's (per-thread slices, prefetched
// streams, stealing) through the stream kernels (slm_packed_gemm_stream_fn), not in prefill's row chunks.
#define SLM_STREAM_TOKENS 8


// CBLAS's enum values (the CBLAS interface fixes them) and OpenBLAS's two entry points, resolved at run time.
enum { SLM_CBLAS_ROW_MAJOR = 101, SLM_CBLAS_NO_TRANS = 111, SLM_CBLAS_TRANS = 112 };
typedef void (*sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*set_threads_fn)(int n);

static sgemm_fn g_sgemm = NULL;  // set once OpenBLAS is loaded: the BLAS path is on
static pthread_once_t g_mode_once = PTHREAD_ONCE_INIT;

static void read_mode(void) {
    const char *env = getenv("SLM_MATMUL");
    if (!env || strcmp(env, "blas") != 0) return;
    const char *chosen = getenv("SLM_OPENBLAS");  // a path or name for dlopen; default: the system's OpenBLAS
    const char *names[] = {chosen && *chosen ? chosen : "libopenblas.so.0", chosen && *chosen ? NULL : "libopenblas.so"};
    void *lib = NULL;
    for (size_t i = 0; i < 2 && names[i] && !lib; i++) lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    sgemm_fn sgemm = lib ? (sgemm_fn)dlsym(lib, "cblas_sgemm") : NULL;
    set_threads_fn set_threads = lib ? (set_threads_fn)dlsym(lib, "openblas_set_num_threads") : NULL;
    if (!sgemm || !set_threads) {
        fprintf(stderr, "warning: SLM_MATMUL=blas: cannot load OpenBLAS from %s (%s); using slm's own kernels\n",
                names[0], lib ? "no cblas_sgemm / openblas_set_num_threads in it" : "dlopen failed");
        return;
    }
    set_threads(1);  // our pool provides the parallelism
    g_sgemm = sgemm;
}

static int use_blas(void) {
    pthread_once(&g_mode_once, read_mode);
    return g_sgemm != NULL;
}

int slm_matmul_uses_blas(void) { return use_blas(); }

static size_t align_up(size_t n) { return (n + SLM_WORK_ALIGN - 1) / SLM_WORK_ALIGN * SLM_WORK_ALIGN; }

// Bytes of the converted activations (0 when vec_dot takes f32 directly).
static size_t act_bytes(const slm_type_traits *tt, int64_t n_in, int64_t n_tokens) {
    if (!tt || tt->vec_dot_type == SLM_TYPE_F32) return 0;
    return align_up(slm_row_size(tt->vec_dot_type, n_in) * (size_t)n_tokens);
}

static size_t packed_act_row(const slm_packed_traits *p, int64_t n_in) {
    return (size_t)(n_in / p->act_block) * p->act_block_bytes;
}

size_t slm_matmul_work_size(slm_type wtype, int64_t n_in, int64_t n_tokens, int n_threads) {
    if (n_in <= 0 || n_tokens <= 0) return 0;
    if (slm_type_is_packed(wtype)) {
        const slm_packed_traits *p = slm_get_packed_traits(wtype);
        return p ? align_up(packed_act_row(p, n_in) * (size_t)n_tokens) + SLM_WORK_ALIGN : 0;
    }
    const slm_type_traits *tt = slm_get_type_traits(wtype);
    if (!tt) return 0;
    size_t bytes = act_bytes(tt, n_in, n_tokens) + SLM_WORK_ALIGN;
    if (use_blas() && n_tokens > 1 && wtype != SLM_TYPE_F32) {
        bytes += (size_t)SLM_MAX(n_threads, 1) * align_up((size_t)SLM_BLAS_TILE * (size_t)n_in * sizeof(float));
    }
    return bytes;
}

static void *aligned_work(void *work) {
    uintptr_t p = (uintptr_t)work;
    return (void *)((p + SLM_WORK_ALIGN - 1) & ~(uintptr_t)(SLM_WORK_ALIGN - 1));
}

// ---- quantized dot products, rows handed out in chunks ----

// One weight matrix of a run: Y[t * n_out + r] = dot(row r of W, activation row t).
typedef struct {
    slm_vec_dot_fn vec_dot;
    const slm_dot_tiles *tiles;  // register tiles bit-identical to vec_dot, or NULL
    slm_packed_gemm_fn packed;   // packed weights (slm_packed.h): groups of 8 rows, w_row = group bytes / 8
    slm_packed_gemm_fn packed16; // the same over two groups on 512-bit vectors, or NULL (not taken)
    slm_packed_gemv_fn packed_gemv;  // its one-token kernel that advances the prefetch stream, or NULL
    slm_packed_gemm_stream_fn packed_stream;  // its few-token kernel that advances the prefetch stream, or NULL
    slm_packed_gemm_stream_fn packed_stream16;  // the same over two groups on 512-bit vectors, or NULL (not taken)
    const char *W;
    size_t w_row;                // bytes per weight row
    const char *act;             // [n_tokens] rows of the vec_dot type
    size_t a_row;                // bytes per activation row
    int64_t n_out;
    float *Y;
    int64_t chunk;               // rows per grab (a multiple of 4)
    int64_t n_chunks;
} dot_job;

typedef struct {
    dot_job jobs[SLM_MATMUL_MAX_JOBS];
    int n_jobs;
    int64_t n_in, n_tokens;
    int64_t total_chunks;
    int64_t pf_window;           // decode: bytes the prefetch runs ahead of the kernels
    atomic_llong next;           // next unclaimed chunk, numbered across the jobs
    // decode: per thread, the front (low 32 bits) and back (high 32 bits) of its unclaimed units
    struct { _Alignas(64) atomic_ullong fb; } slot[SLM_DECODE_MAX_THREADS];
} dot_ctx;

// Prefill: tokens in blocks that stay in cache while the chunk's rows pass; 2 rows x 4 tokens per tile call.
static void rows_prefill(const dot_job *j, int64_t n_in, int64_t n_tokens, int64_t r0, int64_t r1) {
    const int64_t ys = j->n_out;
    for (int64_t t0 = 0; t0 < n_tokens; t0 += SLM_TOKEN_BLOCK) {
        const int64_t t1 = SLM_MIN(t0 + SLM_TOKEN_BLOCK, n_tokens);
        if (j->packed) {
            int64_t r = r0;
            if (j->packed16)
                for (; r + 2 * SLM_PACK_ROWS <= r1; r += 2 * SLM_PACK_ROWS)
                    j->packed16(n_in, j->W + (size_t)r * j->w_row, j->act + (size_t)t0 * j->a_row, j->a_row, t1 - t0,
                                j->Y + t0 * ys + r, (size_t)ys);
            for (; r < r1; r += SLM_PACK_ROWS)
                j->packed(n_in, j->W + (size_t)r * j->w_row, j->act + (size_t)t0 * j->a_row, j->a_row, t1 - t0,
                          j->Y + t0 * ys + r, (size_t)ys);
            continue;
        }
        int64_t r = r0;
        if (j->tiles) {
            for (; r + 2 <= r1; r += 2) {
                const char *w = j->W + (size_t)r * j->w_row;
                int64_t t = t0;
                for (; t + 4 <= t1; t += 4)
                    j->tiles->r2t4(n_in, w, j->w_row, j->act + (size_t)t * j->a_row, j->a_row, j->Y + t * ys + r, 1, (size_t)ys);
                for (; t < t1; t++) j->tiles->r2t1(n_in, w, j->w_row, j->act + (size_t)t * j->a_row, 0, j->Y + t * ys + r, 1, 0);
            }
            for (; r < r1; r++) {
                const char *w = j->W + (size_t)r * j->w_row;
                int64_t t = t0;
                for (; t + 4 <= t1; t += 4)
                    j->tiles->r1t4(n_in, w, 0, j->act + (size_t)t * j->a_row, j->a_row, j->Y + t * ys + r, 0, (size_t)ys);
                for (; t < t1; t++) j->vec_dot(n_in, w, j->act + (size_t)t * j->a_row, j->Y + t * ys + r);
            }
        }
        for (; r < r1; r++) {
            const char *w = j->W + (size_t)r * j->w_row;
            for (int64_t t = t0; t < t1; t++) j->vec_dot(n_in, w, j->act + (size_t)t * j->a_row, j->Y + t * ys + r);
        }
    }
}

// ---- decode: each thread streams one contiguous slice of every job ----
// A stream over rows [r0[i], r1[i]) of each job, started c->pf_window bytes ahead.
static void pf_init(slm_pf_stream *s, const dot_ctx *c, const int64_t *r0, const int64_t *r1) {
    s->n = c->n_jobs;
    s->k = -1;
    for (int i = 0; i < c->n_jobs; i++) {
        s->begin[i] = c->jobs[i].W + (size_t)r0[i] * c->jobs[i].w_row;
        s->end[i] = c->jobs[i].W + (size_t)r1[i] * c->jobs[i].w_row;
    }
    s->p = s->lim = NULL;  // empty: the first step moves to the first segment
    s->credit = 0;
    slm_pf_advance(s, c->pf_window);
}

// Rows [r, r_end) of job j for one token (or a batched step's few, with a stream kernel), advancing the prefetch
// stream by their bytes: packed kernels with a gemv block by block, the others before each call.
static void decode_rows(const dot_job *j, int64_t n_in, int64_t n_tokens, int64_t r, int64_t r_end, slm_pf_stream *pf) {
    if (n_tokens > 1) {
        if (j->packed_stream16)
            for (; r + 2 * SLM_PACK_ROWS <= r_end; r += 2 * SLM_PACK_ROWS)
                j->packed_stream16(n_in, j->W + (size_t)r * j->w_row, j->act, j->a_row, n_tokens, j->Y + r,
                                   (size_t)j->n_out, pf);
        for (; r < r_end; r += SLM_PACK_ROWS)
            j->packed_stream(n_in, j->W + (size_t)r * j->w_row, j->act, j->a_row, n_tokens, j->Y + r, (size_t)j->n_out, pf);
        return;
    }
    if (j->packed_gemv) {  // advances the stream block by block
        for (; r < r_end; r += SLM_PACK_ROWS) j->packed_gemv(n_in, j->W + (size_t)r * j->w_row, j->act, j->Y + r, pf);
        return;
    }
    if (j->packed) {
        const int64_t group = SLM_PACK_ROWS * (int64_t)j->w_row;
        for (; r < r_end; r += SLM_PACK_ROWS) {
            slm_pf_advance(pf, group);
            j->packed(n_in, j->W + (size_t)r * j->w_row, j->act, 0, 1, j->Y + r, 0);
        }
        return;
    }
    if (j->tiles) {
        for (; r + 2 <= r_end; r += 2) j->tiles->decode(n_in, j->W + (size_t)r * j->w_row, j->w_row, j->act, j->Y + r, pf);
    }
    for (; r < r_end; r++) {
        slm_pf_advance(pf, (int64_t)j->w_row);
        j->vec_dot(n_in, j->W + (size_t)r * j->w_row, j->act, j->Y + r);
    }
}

// Thread `owner`'s slice of job i: rows [*r0, *r1), groups of 8 rows (packed groups and 2-row tiles are never split).
static void decode_slice(const dot_ctx *c, int i, int owner, int nth, int64_t *r0, int64_t *r1) {
    slm_split_range(c->jobs[i].n_out, SLM_PACK_ROWS, owner, nth, r0, r1);
}

// Runs units [u0, u1) of a thread's stream, whose slices are rows [r0[i], r1[i]) of job i (unit k: rows 8k.. of the
// slices, numbered across the jobs in order). pf: the stream to advance, or NULL to prefetch these units on their own.
static void decode_units(const dot_ctx *c, const int64_t *r0, const int64_t *r1, int64_t u0, int64_t u1,
                         slm_pf_stream *pf) {
    int64_t ra[SLM_MATMUL_MAX_JOBS], rb[SLM_MATMUL_MAX_JOBS];
    for (int i = 0; i < c->n_jobs; i++) {
        ra[i] = SLM_MIN(r0[i] + u0 * SLM_PACK_ROWS, r1[i]);
        rb[i] = SLM_MIN(r0[i] + u1 * SLM_PACK_ROWS, r1[i]);
        const int64_t units = (r1[i] - r0[i] + SLM_PACK_ROWS - 1) / SLM_PACK_ROWS;
        u0 = SLM_MAX(u0 - units, (int64_t)0);
        u1 = SLM_MAX(u1 - units, (int64_t)0);
    }
    slm_pf_stream own;
    if (!pf) {
        pf_init(&own, c, ra, rb);
        pf = &own;
    }
    for (int i = 0; i < c->n_jobs; i++) {
        if (rb[i] > ra[i]) decode_rows(&c->jobs[i], c->n_in, c->n_tokens, ra[i], rb[i], pf);
    }
}

#define FB_FRONT(x) ((int64_t)((x) & 0xffffffffu))
#define FB_BACK(x) ((int64_t)((x) >> 32))

// Decode (one token, or a batched step's few with stream kernels): thread ith owns slice ith of every job and walks them as one prefetched stream, claiming
// SLM_DECODE_CLAIM units at a time from the front; a thread that runs out takes half of what another has left from
// the back of that thread's stream, so both finish together even when one core is slower or was descheduled. Rows
// come out exactly as from any other split: each is one kernel call's dot product.
static void decode_task(void *p, int ith, int nth) {
    dot_ctx *c = p;
    int64_t r0[SLM_MATMUL_MAX_JOBS], r1[SLM_MATMUL_MAX_JOBS];
    for (int i = 0; i < c->n_jobs; i++) decode_slice(c, i, ith, nth, &r0[i], &r1[i]);
    slm_pf_stream s;
    pf_init(&s, c, r0, r1);
    if (nth > SLM_DECODE_MAX_THREADS) {  // no claim slots: the whole slice, no stealing
        decode_units(c, r0, r1, 0, INT32_MAX, &s);
        return;
    }
    for (;;) {
        const uint64_t fb = atomic_fetch_add_explicit(&c->slot[ith].fb, SLM_DECODE_CLAIM, memory_order_relaxed);
        const int64_t f = FB_FRONT(fb), b = FB_BACK(fb);
        if (f >= b) break;
        decode_units(c, r0, r1, f, SLM_MIN(f + SLM_DECODE_CLAIM, b), &s);
    }
    for (int d = 1; d < nth; d++) {
        const int v = (ith + d) % nth;
        int64_t v0[SLM_MATMUL_MAX_JOBS], v1[SLM_MATMUL_MAX_JOBS];
        for (int i = 0; i < c->n_jobs; i++) decode_slice(c, i, v, nth, &v0[i], &v1[i]);
        unsigned long long fb = atomic_load_explicit(&c->slot[v].fb, memory_order_relaxed);  // atomic_ullong's type
        for (;;) {
            const int64_t f = FB_FRONT(fb), b = FB_BACK(fb);
            if (b - f < 2) break;  // its owner is about to take the last unit
            const int64_t take = (b - f) / 2;
            const uint64_t want = (uint64_t)f | ((uint64_t)(b - take) << 32);
            if (!atomic_compare_exchange_weak_explicit(&c->slot[v].fb, &fb, want, memory_order_relaxed,
                                                       memory_order_relaxed))
                continue;  // fb reloaded
            decode_units(c, v0, v1, b - take, b, NULL);
            fb = atomic_load_explicit(&c->slot[v].fb, memory_order_relaxed);
        }
    }
}

// Prefill: chunks of rows handed out from a counter (~8 per thread), so a thread that was descheduled delays the run
// by one chunk at most.
static void prefill_task(void *p, int ith, int nth) {
    (void)ith; (void)nth;
    dot_ctx *c = p;
    for (;;) {
        int64_t k = atomic_fetch_add_explicit(&c->next, 1, memory_order_relaxed);
        if (k >= c->total_chunks) break;
        const dot_job *j = c->jobs;
        while (k >= j->n_chunks) { k -= j->n_chunks; j++; }
        const int64_t r0 = k * j->chunk, r1 = SLM_MIN(r0 + j->chunk, j->n_out);
        rows_prefill(j, c->n_in, c->n_tokens, r0, r1);
    }
}

typedef struct {
    slm_quant_row_fn quant;
    const float *X;
    char *act;
    size_t a_row;
    int64_t n_in, n_tokens;
} quant_ctx;

static void quant_task(void *p, int ith, int nth) {
    quant_ctx *c = p;
    int64_t t0, t1;
    slm_split_range(c->n_tokens, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) c->quant(c->X + t * c->n_in, c->act + (size_t)t * c->a_row, c->n_in);
}

static void fill_nan(float *Y, int64_t n) {
    for (int64_t i = 0; i < n; i++) Y[i] = NAN;
}

// Converts X once per distinct vec_dot type (in parallel when there are several tokens), then runs the dot products
// of every job in one pool run. Jobs whose type has no vec_dot get NaN outputs.
static void matmul_dots(slm_threadpool *tp, const slm_matmul_job *jobs, int n_jobs, int64_t n_in, const float *X,
                        int64_t n_tokens, void *work) {
    dot_ctx c;
    c.n_jobs = 0;
    c.n_in = n_in;
    c.n_tokens = n_tokens;
    c.total_chunks = 0;
    c.pf_window = SLM_PREFETCH_BYTES;
    slm_type conv_type[SLM_MATMUL_MAX_JOBS];
    const char *conv_act[SLM_MATMUL_MAX_JOBS];
    int n_conv = 0;
    char *buf = aligned_work(work);
    const int nth = slm_threadpool_n_threads(tp);
    for (int i = 0; i < n_jobs && i < SLM_MATMUL_MAX_JOBS; i++) {
        if (slm_type_is_packed(jobs[i].wtype)) {
            const slm_packed_traits *p = slm_get_packed_traits(jobs[i].wtype);
            if (!p || !p->gemm || jobs[i].n_out % SLM_PACK_ROWS != 0) {
                fill_nan(jobs[i].Y, jobs[i].n_out * n_tokens);
                continue;
            }
            const size_t a_row = packed_act_row(p, n_in);
            int k = 0;
            while (k < n_conv && conv_type[k] != p->act_type) k++;
            if (k == n_conv) {
                quant_ctx q = {p->act_quant, X, buf, a_row, n_in, n_tokens};
                if (n_tokens <= SLM_QUANT_INLINE_TOKENS) quant_task(&q, 0, 1);
                else slm_threadpool_run(tp, quant_task, &q);
                conv_type[n_conv] = p->act_type;
                conv_act[n_conv++] = buf;
                buf += align_up(a_row * (size_t)n_tokens);
            }
            // Groups of 8 rows (pairs for the 16-row kernels), ~8 chunks per thread, at least 16 rows per grab.
            const int wide = slm_cpu_wide_zmm();
            const int64_t unit = wide && p->gemm16 ? 2 * SLM_PACK_ROWS : SLM_PACK_ROWS;
            int64_t chunk = SLM_MAX((int64_t)16, jobs[i].n_out / ((int64_t)nth * 8));
            chunk = (chunk + unit - 1) / unit * unit;
            dot_job *j = &c.jobs[c.n_jobs++];
            *j = (dot_job){NULL, NULL, p->gemm, wide ? p->gemm16 : NULL, p->gemv, p->gemm_stream,
                           wide ? p->gemm_stream16 : NULL, jobs[i].W, p->group_bytes(n_in) / SLM_PACK_ROWS, conv_act[k], a_row,
                           jobs[i].n_out, jobs[i].Y, chunk, (jobs[i].n_out + chunk - 1) / chunk};
            c.total_chunks += j->n_chunks;
            // A 16-row kernel consumes two groups side by side while it steps the stream by both: the window runs one
            // group further ahead, so that the second group's blocks are requested as far ahead of their use as the
            // first's.
            if (n_tokens > 1 && j->packed_stream16)
                c.pf_window = SLM_MAX(c.pf_window, SLM_PREFETCH_BYTES + SLM_PACK_ROWS * (int64_t)j->w_row);
            continue;
        }
        const slm_type_traits *tt = slm_get_type_traits(jobs[i].wtype);
        if (!tt || !tt->vec_dot) { fill_nan(jobs[i].Y, jobs[i].n_out * n_tokens); continue; }
        const char *act = (const char *)X;
        size_t a_row = (size_t)n_in * sizeof(float);
        if (tt->vec_dot_type != SLM_TYPE_F32) {
            a_row = slm_row_size(tt->vec_dot_type, n_in);
            int k = 0;
            while (k < n_conv && conv_type[k] != tt->vec_dot_type) k++;
            if (k == n_conv) {
                quant_ctx q = {slm_get_type_traits(tt->vec_dot_type)->quant, X, buf, a_row, n_in, n_tokens};
                if (n_tokens <= SLM_QUANT_INLINE_TOKENS) quant_task(&q, 0, 1);
                else slm_threadpool_run(tp, quant_task, &q);
                conv_type[n_conv] = tt->vec_dot_type;
                conv_act[n_conv++] = buf;
                buf += act_bytes(tt, n_in, n_tokens);
            }
            act = conv_act[k];
        }
        // ~8 chunks per thread balance a thread that was descheduled; at least 16 rows amortise the grab.
        int64_t chunk = SLM_MAX((int64_t)16, jobs[i].n_out / ((int64_t)nth * 8));
        chunk = (chunk + 3) / 4 * 4;
        dot_job *j = &c.jobs[c.n_jobs++];
        *j = (dot_job){tt->vec_dot, slm_kernels()->tiles[jobs[i].wtype], NULL, NULL, NULL, NULL, NULL, jobs[i].W,
                       (size_t)(n_in / tt->block_size) * (size_t)tt->type_size, act, a_row, jobs[i].n_out, jobs[i].Y,
                       chunk, (jobs[i].n_out + chunk - 1) / chunk};
        c.total_chunks += j->n_chunks;
    }
    atomic_init(&c.next, 0);
    if (c.total_chunks == 0) return;
    // A batched decode step reads every weight once from DRAM, as a decode does: its threads stream their slices
    // with the decode's prefetch when every matrix has a stream kernel.
    int stream = n_tokens == 1;
    if (n_tokens <= SLM_STREAM_TOKENS) {
        stream = 1;
        for (int i = 0; i < c.n_jobs; i++) stream &= c.jobs[i].packed_stream != NULL;
    }
    if (stream) {
        for (int t = 0; t < nth && t < SLM_DECODE_MAX_THREADS; t++) {
            int64_t units = 0;
            for (int i = 0; i < c.n_jobs; i++) {
                int64_t r0, r1;
                decode_slice(&c, i, t, nth, &r0, &r1);
                units += (r1 - r0 + SLM_PACK_ROWS - 1) / SLM_PACK_ROWS;
            }
            atomic_init(&c.slot[t].fb, (uint64_t)units << 32);
        }
        if (nth == 1) decode_task(&c, 0, 1);
        else slm_threadpool_run(tp, decode_task, &c);
    } else if (nth == 1 || c.total_chunks == 1) {
        prefill_task(&c, 0, 1);
    } else {
        slm_threadpool_run(tp, prefill_task, &c);
    }
}

void slm_matvec(slm_threadpool *tp, slm_type wtype, const void *W, int64_t n_out, int64_t n_in,
                const float *x, float *y, void *work) {
    slm_matmul_job job = {wtype, W, n_out, y};
    matmul_dots(tp, &job, 1, n_in, x, 1, work);
}

// ---- optional OpenBLAS path: dequantized weight tiles times X^T ----

typedef struct {
    const slm_type_traits *tt;
    const char *W;
    size_t w_row;
    int64_t n_out, n_in, n_tokens;
    const float *X;
    float *Y;
    float *tiles;        // n_threads tiles of SLM_BLAS_TILE * n_in floats (unused for F32 weights)
    size_t tile_stride;  // floats between tiles
} blas_ctx;

static void blas_task(void *p, int ith, int nth) {
    blas_ctx *c = p;
    int64_t r0, r1;
    slm_split_range(c->n_out, SLM_BLAS_TILE, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r += SLM_BLAS_TILE) {
        int64_t rows = SLM_MIN((int64_t)SLM_BLAS_TILE, r1 - r);
        const float *B;
        if (c->tt->vec_dot_type == SLM_TYPE_F32 && c->tt->block_size == 1 && c->tt->type_size == 4) {
            B = (const float *)(c->W + (size_t)r * c->w_row);
        } else {
            float *tile = c->tiles + (size_t)ith * c->tile_stride;
            for (int64_t i = 0; i < rows; i++) c->tt->dequant(c->W + (size_t)(r + i) * c->w_row, tile + i * c->n_in, c->n_in);
            B = tile;
        }
        // Y[:, r:r+rows] = X [n_tokens, n_in] * B^T [n_in, rows]
        g_sgemm(SLM_CBLAS_ROW_MAJOR, SLM_CBLAS_NO_TRANS, SLM_CBLAS_TRANS, (int)c->n_tokens, (int)rows, (int)c->n_in,
                1.0f, c->X, (int)c->n_in, B, (int)c->n_in, 0.0f, c->Y + r, (int)c->n_out);
    }
}

void slm_matmul(slm_threadpool *tp, slm_type wtype, const void *W, int64_t n_out, int64_t n_in,
                const float *X, int64_t n_tokens, float *Y, void *work) {
    const slm_type_traits *tt = slm_get_type_traits(slm_packed_base(wtype));
    if (!tt || !tt->vec_dot || !tt->dequant) { fill_nan(Y, n_out * n_tokens); return; }
    if (n_tokens > 1 && use_blas() && !slm_type_is_packed(wtype)) {
        size_t w_row = (size_t)(n_in / tt->block_size) * (size_t)tt->type_size;
        float *tiles = (float *)((char *)aligned_work(work) + act_bytes(tt, n_in, n_tokens));
        size_t stride = align_up((size_t)SLM_BLAS_TILE * (size_t)n_in * sizeof(float)) / sizeof(float);
        blas_ctx c = {tt, W, w_row, n_out, n_in, n_tokens, X, Y, tiles, stride};
        slm_threadpool_run(tp, blas_task, &c);
        return;
    }
    slm_matmul_job job = {wtype, W, n_out, Y};
    matmul_dots(tp, &job, 1, n_in, X, n_tokens, work);
}

void slm_matmul_multi(slm_threadpool *tp, const slm_matmul_job *jobs, int n_jobs, int64_t n_in, const float *X,
                      int64_t n_tokens, void *work) {
    if (n_jobs > SLM_MATMUL_MAX_JOBS) n_jobs = SLM_MATMUL_MAX_JOBS;
    int any_packed = 0;
    for (int i = 0; i < n_jobs; i++) any_packed |= slm_type_is_packed(jobs[i].wtype);
    if (n_tokens > 1 && use_blas() && !any_packed) {
        for (int i = 0; i < n_jobs; i++) slm_matmul(tp, jobs[i].wtype, jobs[i].W, jobs[i].n_out, n_in, X, n_tokens, jobs[i].Y, work);
        return;
    }
    matmul_dots(tp, jobs, n_jobs, n_in, X, n_tokens, work);
}

// ---- dispatch description ----

// The ISA a kernel of `isa`'s table is written for: the lowest ISA whose table holds the same function (each ISA's
// table starts as a copy of the one below). Every type has a table entry on every ISA.
static slm_isa vec_dot_isa(slm_isa isa, slm_type type) {
    const slm_vec_dot_fn f = slm_type_traits_of(type, isa)->vec_dot;
    int i = 0;
    while (slm_type_traits_of(type, (slm_isa)i)->vec_dot != f) i++;
    return (slm_isa)i;
}

static slm_isa packed_isa(slm_isa isa, slm_type base, int gemv) {
    const slm_packed_traits *p = slm_packed_traits_of(base, isa);
    int i = 0;
    if (gemv && p->gemv) {
        while (slm_packed_traits_of(base, (slm_isa)i)->gemv != p->gemv) i++;
    } else {
        while (slm_packed_traits_of(base, (slm_isa)i)->gemm != p->gemm) i++;
    }
    return (slm_isa)i;
}

int slm_kernel_choice_of(slm_isa isa, slm_type type, slm_kernel_choice *out) {
    if ((int)isa < 0 || isa >= SLM_ISA_COUNT) return -1;
    if (slm_type_is_packed(type)) {
        const slm_packed_traits *p = slm_packed_traits_of(type, isa);
        if (!p || !p->gemm) return -1;
        *out = (slm_kernel_choice){packed_isa(isa, type, 1), packed_isa(isa, type, 0), 0, p->gemv != NULL};
        return 0;
    }
    const slm_type_traits *t = slm_type_traits_of(type, isa);
    if (!t || !t->vec_dot) return -1;
    const int tiles = slm_kernel_table_of(isa)->tiles[type] != NULL;
    const slm_isa k = vec_dot_isa(isa, type);
    *out = (slm_kernel_choice){k, k, tiles, tiles};
    return 0;
}

// ---- reference and row access ----

void slm_matmul_ref(slm_type wtype, const void *W, int64_t n_out, int64_t n_in,
                    const float *X, int64_t n_tokens, float *Y) {
    const slm_type_traits *tt = slm_get_type_traits_isa(wtype, SLM_ISA_REF);
    float *row = tt && tt->dequant ? malloc((size_t)n_in * sizeof(float)) : NULL;
    if (!row) { fill_nan(Y, n_out * n_tokens); return; }
    size_t w_row = (size_t)(n_in / tt->block_size) * (size_t)tt->type_size;
    for (int64_t o = 0; o < n_out; o++) {
        tt->dequant((const char *)W + (size_t)o * w_row, row, n_in);
        for (int64_t t = 0; t < n_tokens; t++) {
            const float *x = X + t * n_in;
            double s = 0;
            for (int64_t i = 0; i < n_in; i++) s += (double)row[i] * x[i];
            Y[t * n_out + o] = (float)s;
        }
    }
    free(row);
}

// A packed table (slm_packed.h): the row's blocks come back in the base layout a span of at most 256 elements at a
// time (a group's bytes are block-major, so a span is a group of its own at an offset), then dequantize as above; the
// bits are the file's (unpack(pack(x)) == x), so the floats are too.
static void get_packed_row(slm_type type, const void *W, int64_t n, int64_t row, float *dst) {
    const slm_type base = slm_packed_base(type);
    const slm_type_traits *tt = slm_get_type_traits(base);
    const slm_packed_traits *p = slm_get_packed_traits_isa(base, SLM_ISA_REF);
    if (!tt || !tt->dequant || !p || n % tt->block_size != 0 || n % p->act_block != 0) { fill_nan(dst, n); return; }
    const int64_t span = 256;  // a multiple of every packed type's block (32 or 256), and n of those blocks
    const char *group = (const char *)W + (size_t)(row / SLM_PACK_ROWS) * p->group_bytes(n);
    _Alignas(64) uint8_t blocks[512];  // 256 elements of any packed base type (Q8_0: 272 bytes)
    for (int64_t i = 0; i < n; i += span) {
        const int64_t m = SLM_MIN(span, n - i);
        p->unpack(group + p->group_bytes(i), m, (int)(row % SLM_PACK_ROWS), blocks);
        tt->dequant(blocks, dst + i, m);
    }
}

void slm_get_row(slm_type wtype, const void *W, int64_t n, int64_t row, float *dst) {
    if (slm_type_is_packed(wtype)) { get_packed_row(wtype, W, n, row, dst); return; }
    const slm_type_traits *tt = slm_get_type_traits(wtype);
    if (!tt || !tt->dequant) { fill_nan(dst, n); return; }
    size_t w_row = (size_t)(n / tt->block_size) * (size_t)tt->type_size;
    tt->dequant((const char *)W + (size_t)row * w_row, dst, n);
}
