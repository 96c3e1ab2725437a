// Causal grouped-query attention over the f16 KV cache, split across the thread pool by (head, token) pairs; each
// pair is one call of the active ISA's attn_head.
#include "slm_internal.h"
#include "slm_ops.h"
#include "slm_ops_impl.h"

typedef struct {
    const float *q;
    const uint16_t *k, *v;
    int64_t kv_stride, n_tokens, pos0, n_head, n_head_kv, head_dim, window;
    float scale;
    float *out;
    void (*attn_head)(const float *, const uint16_t *, const uint16_t *, int64_t, int64_t, int64_t, int64_t, float,
                      float *);
} attn_task;

static void attn_worker(void *ctx, int ith, int nth) {
    const attn_task *a = ctx;
    const int64_t group = a->n_head / a->n_head_kv;  // query heads per kv head
    // Pairs are numbered head-major (i = h * n_tokens + t) and split into contiguous ranges: every head costs the
    // same summed over its tokens, so the ranges are balanced even in a prefill where later tokens attend to more
    // positions, and consecutive pairs share a kv head, which stays in this core's cache.
    int64_t begin, end;
    slm_split_range(a->n_head * a->n_tokens, 1, ith, nth, &begin, &end);
    for (int64_t i = begin; i < end; i++) {
        const int64_t h = i / a->n_tokens, t = i % a->n_tokens;
        const int64_t pos = a->pos0 + t;
        const int64_t kvh = h / group;
        const int64_t off = (t * a->n_head + h) * a->head_dim;
        a->attn_head(a->q + off, a->k + kvh * a->head_dim, a->v + kvh * a->head_dim, a->kv_stride,
                     slm_attn_first_pos(pos, a->window), pos + 1, a->head_dim, a->scale, a->out + off);
    }
}

void slm_attention(slm_threadpool *tp, const float *q, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                   int64_t n_tokens, int64_t pos0, int64_t n_head, int64_t n_head_kv, int64_t head_dim,
                   int64_t window, float scale, float *out) {
    // Shapes come from the model's validated hyperparameters; n_head must be a positive multiple of n_head_kv.
    if (n_tokens <= 0 || n_head <= 0 || n_head_kv <= 0 || n_head % n_head_kv != 0) return;
    attn_task task = {q, k, v, kv_stride, n_tokens, pos0, n_head, n_head_kv, head_dim, window, scale, out,
                      slm_active_ops()->pub.attn_head};
    slm_threadpool_run(tp, attn_worker, &task);
}
