// A persistent thread pool: workers spin briefly, then park on a condition variable.
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slm_threadpool slm_threadpool;

// fn(ctx, ith, nth) is called exactly once for each ith in [0, nth), possibly concurrently; the calling thread runs
// ith 0 and may also run indices no worker has claimed yet (one after another), so tasks must never wait for
// each other (no barriers inside fn).
typedef void (*slm_task_fn)(void *ctx, int ith, int nth);

// n_threads >= 1 (clamped to [1, 256]). Returns NULL only if thread creation fails.
slm_threadpool *slm_threadpool_create(int n_threads);
void slm_threadpool_destroy(slm_threadpool *tp);
int slm_threadpool_n_threads(const slm_threadpool *tp);
// Runs fn on every worker and returns when all have finished. tp may be NULL: then fn(ctx, 0, 1) runs inline.
// Not re-entrant: one run at a time per pool.
void slm_threadpool_run(slm_threadpool *tp, slm_task_fn fn, void *ctx);

// Niceness (Linux: per thread) of the pool's workers, now and for any that start later: 0 on success, -1 when the
// system refused (lowering it needs privileges). slm_thread_set_nice sets the calling thread's, slm_thread_nice
// reads it.
int slm_threadpool_set_nice(slm_threadpool *tp, int nice);
int slm_thread_set_nice(int nice);
int slm_thread_nice(void);

// Memory for the pool's caller between or around runs (the pool's owner uses it from one thread at a time, as it
// does runs): at least `bytes`, 64-byte aligned, kept until the next call or slm_threadpool_destroy; grown by
// doubling and never shrunk, so that a per-token caller allocates only while its need grows. NULL when tp is NULL
// or memory runs out.
void *slm_threadpool_scratch(slm_threadpool *tp, size_t bytes);

// Splits [0, n) into nth nearly equal contiguous ranges, each a multiple of `align` except the last.
void slm_split_range(int64_t n, int64_t align, int ith, int nth, int64_t *begin, int64_t *end);

#ifdef __cplusplus
}
#endif
