// Causal grouped-query attention over the f16 KV cache, split across the thread pool by (kv head, token) pairs; each
// pair is one call of the active ISA's attn_group (the query heads sharing that kv head in one pass over K/V).
#include "slm_internal.h"
#include "slm_ops.h"
#include "slm_ops_impl.h"

typedef struct {
    const float *q;
    const uint16_t *k, *v;
    int64_t kv_stride, n_tokens, pos0, n_head, n_head_kv, head_dim, window;
    int64_t sub;  // query heads per attn_group call (a divisor of n_head / n_head_kv)
    float scale;
    float *out;
    void (*attn_group)(const float *, int64_t, const uint16_t *, const uint16_t *, int64_t, int64_t, int64_t, int64_t,
                       float, float *);
} attn_task;

static void attn_worker(void *ctx, int ith, int nth) {
    const attn_task *a = ctx;
    const int64_t group = a->n_head / a->n_head_kv;  // query heads per kv head
    // Work items are (kv head, sub-group of its query heads, token), numbered in that order and split into contiguous
    // ranges: every sub-group costs the same summed over its tokens, so the ranges are balanced even in a prefill where
    // later tokens attend to more positions, and consecutive items share a kv head, which stays in this core's cache.
    int64_t begin, end;
    slm_split_range(a->n_head / a->sub * a->n_tokens, 1, ith, nth, &begin, &end);
    for (int64_t i = begin; i < end; i++) {
        const int64_t sg = i / a->n_tokens, t = i % a->n_tokens;
        const int64_t h0 = sg * a->sub, kvh = h0 / group;
        const int64_t pos = a->pos0 + t;
        const int64_t off = (t * a->n_head + h0) * a->head_dim;
        a->attn_group(a->q + off, a->sub, a->k + kvh * a->head_dim, a->v + kvh * a->head_dim, a->kv_stride,
                      slm_attn_first_pos(pos, a->window), pos + 1, a->head_dim, a->scale, a->out + off);
    }
}

void slm_attention(slm_threadpool *tp, const float *q, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                   int64_t n_tokens, int64_t pos0, int64_t n_head, int64_t n_head_kv, int64_t head_dim,
                   int64_t window, float scale, float *out) {
    // Shapes come from the model's validated hyperparameters; n_head must be a positive multiple of n_head_kv.
    if (n_tokens <= 0 || n_head <= 0 || n_head_kv <= 0 || n_head % n_head_kv != 0) return;
    // One pass over K/V per kv head, unless that leaves threads idle (a decode with one kv head): then halve the
    // sub-groups. Each head's result does not depend on how heads are grouped (attn_group computes every head with
    // the same operations whatever g), so this choice never changes the output.
    const int nth = slm_threadpool_n_threads(tp);
    int64_t sub = n_head / n_head_kv;
    while (sub % 2 == 0 && n_head / sub * n_tokens < nth) sub /= 2;
    attn_task task = {q, k, v, kv_stride, n_tokens, pos0, n_head, n_head_kv, head_dim, window, sub, scale, out,
                      slm_active_ops()->attn_group};
    slm_threadpool_run(tp, attn_worker, &task);
}
