// Weight x activation products. Every quantized product goes through the weight type's vec_dot on one (weight row,
// token) pair, so a token's output never depends on how many tokens share the call: decode equals prefill, and a
// prompt split into batches gives bit-identical results. The OpenBLAS path (SLM_MATMUL=blas) trades that
// invariance for GEMM speed on long prompts and is therefore opt-in.
#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "slm_matmul.h"
#include "slm_internal.h"
#include "slm_quants_internal.h"

// Weight rows per BLAS tile: TILE * n_in floats per thread of scratch (64 x 1536 x 4 = 384 KiB).
#define SLM_BLAS_TILE 64
// Tokens per inner block: their quantized rows (~1-2 KiB each) stay in L1/L2 while a chunk of weight rows passes.
#define SLM_TOKEN_BLOCK 32
#define SLM_WORK_ALIGN 64
// Decode streams weights from DRAM: prefetching the row this many rows ahead measured 11-12 -> 14-17 GB/s on one
// thread for Q8_0 49152x576 (hardware prefetch alone stops at page boundaries and starts late on each chunk).
#define SLM_PREFETCH_ROWS 4

static int g_use_blas = 0;
static pthread_once_t g_mode_once = PTHREAD_ONCE_INIT;

static void read_mode(void) {
    const char *env = getenv("SLM_MATMUL");
    g_use_blas = env && strcmp(env, "blas") == 0;
    if (g_use_blas) openblas_set_num_threads(1);  // our pool provides the parallelism
}

static int use_blas(void) {
    pthread_once(&g_mode_once, read_mode);
    return g_use_blas;
}

static size_t align_up(size_t n) { return (n + SLM_WORK_ALIGN - 1) / SLM_WORK_ALIGN * SLM_WORK_ALIGN; }

// Bytes of the converted activations (0 when vec_dot takes f32 directly).
static size_t act_bytes(const slm_type_traits *tt, int64_t n_in, int64_t n_tokens) {
    if (!tt || tt->vec_dot_type == SLM_TYPE_F32) return 0;
    return align_up(slm_row_size(tt->vec_dot_type, n_in) * (size_t)n_tokens);
}

size_t slm_matmul_work_size(slm_type wtype, int64_t n_in, int64_t n_tokens, int n_threads) {
    const slm_type_traits *tt = slm_get_type_traits(wtype);
    if (!tt || n_in <= 0 || n_tokens <= 0) return 0;
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

typedef struct {
    slm_vec_dot_fn vec_dot;
    slm_vec_dot4_fn vec_dot4;  // bit-identical 4-token twin of vec_dot, or NULL
    const char *W;
    size_t w_row;        // bytes per weight row
    const char *act;     // [n_tokens] rows of the vec_dot type
    size_t a_row;        // bytes per activation row
    int64_t n_out, n_in, n_tokens;
    float *Y;            // [n_tokens, n_out]
    int64_t chunk;       // weight rows per grab
    atomic_llong next;   // first row of the next unclaimed chunk
} dot_ctx;

static void dot_task(void *p, int ith, int nth) {
    (void)ith; (void)nth;
    dot_ctx *c = p;
    for (;;) {
        int64_t r0 = atomic_fetch_add_explicit(&c->next, c->chunk, memory_order_relaxed);
        if (r0 >= c->n_out) break;
        int64_t r1 = SLM_MIN(r0 + c->chunk, c->n_out);
        for (int64_t t0 = 0; t0 < c->n_tokens; t0 += SLM_TOKEN_BLOCK) {
            int64_t t1 = SLM_MIN(t0 + SLM_TOKEN_BLOCK, c->n_tokens);
            for (int64_t r = r0; r < r1; r++) {
                const char *w = c->W + (size_t)r * c->w_row;
                if (t0 == 0 && r + SLM_PREFETCH_ROWS < c->n_out) {
                    const char *ahead = w + SLM_PREFETCH_ROWS * c->w_row;
                    for (size_t off = 0; off < c->w_row; off += 64) __builtin_prefetch(ahead + off, 0, 0);
                }
                int64_t t = t0;
                if (c->vec_dot4) {
                    for (; t + 4 <= t1; t += 4) {
                        c->vec_dot4(c->n_in, w, c->act + (size_t)t * c->a_row, c->a_row, &c->Y[t * c->n_out + r],
                                    (size_t)c->n_out);
                    }
                }
                for (; t < t1; t++) c->vec_dot(c->n_in, w, c->act + (size_t)t * c->a_row, &c->Y[t * c->n_out + r]);
            }
        }
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

// Converts X to the vec_dot type (in parallel when there are several tokens) and runs the dot products.
static void matmul_dots(slm_threadpool *tp, const slm_type_traits *tt, const void *W, int64_t n_out, int64_t n_in,
                        const float *X, int64_t n_tokens, float *Y, void *work) {
    const slm_type_traits *at = slm_get_type_traits(tt->vec_dot_type);
    const char *act = (const char *)X;
    size_t a_row = (size_t)n_in * sizeof(float);
    if (tt->vec_dot_type != SLM_TYPE_F32) {
        a_row = slm_row_size(tt->vec_dot_type, n_in);
        char *buf = aligned_work(work);
        quant_ctx q = {at->quant, X, buf, a_row, n_in, n_tokens};
        if (n_tokens == 1) quant_task(&q, 0, 1);
        else slm_threadpool_run(tp, quant_task, &q);
        act = buf;
    }
    int nth = slm_threadpool_n_threads(tp);
    // ~8 chunks per thread balance a thread that was descheduled; at least 16 rows amortise the grab.
    int64_t chunk = SLM_MAX((int64_t)16, n_out / ((int64_t)nth * 8));
    size_t w_row = (size_t)(n_in / tt->block_size) * (size_t)tt->type_size;
    dot_ctx c = {tt->vec_dot, n_tokens >= 4 ? slm_vec_dot4_for(tt->vec_dot) : NULL, W, w_row, act, a_row, n_out, n_in, n_tokens, Y, chunk, 0};
    atomic_init(&c.next, 0);
    if (nth == 1 || n_out <= chunk) dot_task(&c, 0, 1);
    else slm_threadpool_run(tp, dot_task, &c);
}

void slm_matvec(slm_threadpool *tp, slm_type wtype, const void *W, int64_t n_out, int64_t n_in,
                const float *x, float *y, void *work) {
    const slm_type_traits *tt = slm_get_type_traits(wtype);
    if (!tt || !tt->vec_dot) { fill_nan(y, n_out); return; }
    matmul_dots(tp, tt, W, n_out, n_in, x, 1, y, work);
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
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)c->n_tokens, (blasint)rows, (blasint)c->n_in,
                    1.0f, c->X, (blasint)c->n_in, B, (blasint)c->n_in, 0.0f, c->Y + r, (blasint)c->n_out);
    }
}

void slm_matmul(slm_threadpool *tp, slm_type wtype, const void *W, int64_t n_out, int64_t n_in,
                const float *X, int64_t n_tokens, float *Y, void *work) {
    const slm_type_traits *tt = slm_get_type_traits(wtype);
    if (!tt || !tt->vec_dot || !tt->dequant) { fill_nan(Y, n_out * n_tokens); return; }
    if (n_tokens > 1 && use_blas()) {
        size_t w_row = (size_t)(n_in / tt->block_size) * (size_t)tt->type_size;
        float *tiles = (float *)((char *)aligned_work(work) + act_bytes(tt, n_in, n_tokens));
        size_t stride = align_up((size_t)SLM_BLAS_TILE * (size_t)n_in * sizeof(float)) / sizeof(float);
        blas_ctx c = {tt, W, w_row, n_out, n_in, n_tokens, X, Y, tiles, stride};
        slm_threadpool_run(tp, blas_task, &c);
        return;
    }
    matmul_dots(tp, tt, W, n_out, n_in, X, n_tokens, Y, work);
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

void slm_get_row(slm_type wtype, const void *W, int64_t n, int64_t row, float *dst) {
    const slm_type_traits *tt = slm_get_type_traits(wtype);
    if (!tt || !tt->dequant) { fill_nan(dst, n); return; }
    size_t w_row = (size_t)(n / tt->block_size) * (size_t)tt->type_size;
    tt->dequant((const char *)W + (size_t)row * w_row, dst, n);
}
