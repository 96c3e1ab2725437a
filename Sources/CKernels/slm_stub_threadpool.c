// TEMPORARY link stub: runs every task inline. Replaced by slm_threadpool.c; delete this file when it lands.
#include <stdlib.h>
#include "slm_threadpool.h"
struct slm_threadpool { int n; };
slm_threadpool *slm_threadpool_create(int n_threads) { slm_threadpool *tp = malloc(sizeof *tp); tp->n = 1; (void)n_threads; return tp; }
void slm_threadpool_destroy(slm_threadpool *tp) { free(tp); }
int slm_threadpool_n_threads(const slm_threadpool *tp) { return tp ? tp->n : 1; }
void slm_threadpool_run(slm_threadpool *tp, slm_task_fn fn, void *ctx) { (void)tp; fn(ctx, 0, 1); }
void slm_split_range(int64_t n, int64_t align, int ith, int nth, int64_t *begin, int64_t *end) {
    (void)align; (void)ith; (void)nth; *begin = 0; *end = n;
}
