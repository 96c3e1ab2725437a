// Weight-times-activation products over whole matrices, split across a thread pool.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include "slm_quants.h"
#include "slm_threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

// Bytes of scratch slm_matvec / slm_matmul need for these shapes (the caller allocates once and reuses).
size_t slm_matmul_work_size(slm_type wtype, int64_t n_in, int64_t n_tokens, int n_threads);

// Decode: W: [n_out, n_in] row-major in wtype (rows of slm_row_size(wtype, n_in) bytes), x: [n_in] -> y: [n_out].
// x is converted once to the type's vec_dot_type in `work`, then rows are split across the pool.
void slm_matvec(slm_threadpool *tp, slm_type wtype, const void *W, int64_t n_out, int64_t n_in,
                const float *x, float *y, void *work);

// Prefill: W as above, X: [n_tokens, n_in] -> Y: [n_tokens, n_out] (both row-major f32). The type's dot products,
// or, when slm_matmul_uses_blas(), OpenBLAS sgemm on dequantized weight tiles for unpacked weights.
void slm_matmul(slm_threadpool *tp, slm_type wtype, const void *W, int64_t n_out, int64_t n_in,
                const float *X, int64_t n_tokens, float *Y, void *work);

// 1 when SLM_MATMUL=blas: products of several tokens over unpacked weights (F32 / F16 / BF16 files; with SLM_PACK=0
// every type; a packed model's unpacked output matrix) run OpenBLAS sgemm. Faster prefill for unquantized weights,
// but a token's result then depends on how many tokens share the call (not batch-invariant).
int slm_matmul_uses_blas(void);

// Several products sharing one input X: [n_tokens, n_in] (Q, K and V; gate and up) in one pool run, X converted once
// per distinct vec_dot type: jobs[i].Y: [n_tokens, jobs[i].n_out] = X * W_i^T. Each result is bit-identical to
// slm_matvec / slm_matmul of that job alone. `work` holds at least n_jobs times the largest slm_matmul_work_size of
// the jobs' types for these shapes. At most SLM_MATMUL_MAX_JOBS jobs (more are ignored).
#define SLM_MATMUL_MAX_JOBS 4
typedef struct {
    slm_type wtype;
    const void *W;   // [n_out, n_in] row-major in wtype
    int64_t n_out;
    float *Y;        // [n_tokens, n_out]
} slm_matmul_job;
void slm_matmul_multi(slm_threadpool *tp, const slm_matmul_job *jobs, int n_jobs, int64_t n_in, const float *X,
                      int64_t n_tokens, void *work);

// Reference: y[t][o] = sum_i dequant(W)[o][i] * X[t][i], in double, single-threaded (tests only).
void slm_matmul_ref(slm_type wtype, const void *W, int64_t n_out, int64_t n_in,
                    const float *X, int64_t n_tokens, float *Y);

// Which kernels serve the products over a matrix of `type` (a tensor type, or its packed type slm_packed_type(base))
// in the tables of `isa`, each named by the ISA it is written for. A pure function of `isa`, whatever this CPU runs
// (nothing is called), so a test can check the dispatch of every ISA on any machine.
typedef struct {
    slm_isa decode;     // one token (slm_matvec)
    slm_isa prefill;    // several tokens (slm_matmul)
    int tiles;          // unpacked weights: register tiles (several rows and tokens per call)
    int stream;         // decode advances the prefetch stream block by block inside the kernel (packed gemv, tiles)
} slm_kernel_choice;
// 0, or -1 when `type` has no product kernel.
int slm_kernel_choice_of(slm_isa isa, slm_type type, slm_kernel_choice *out);

// One row of an embedding table: dst[0..n) = dequant(row `row` of W); W may be a packed matrix (slm_packed.h) of a
// packed type, whose rows come back bit for bit.
void slm_get_row(slm_type wtype, const void *W, int64_t n, int64_t row, float *dst);

#ifdef __cplusplus
}
#endif
