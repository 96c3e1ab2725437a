// Causal grouped-query attention over the f16 KV cache, in chunks of SLM_ATTN_CHUNK positions (flash-decoding).
// Each (token, query-head sub-group, chunk) gives a partial softmax from the active ISA's attn_chunk; the partials of
// a (token, sub-group) are merged left to right by merge_chunk below, whatever thread computed them.
//
// Two schedules, chosen by the amount of work and the thread count; both compute the same partials and merge them in
// the same order, so they give identical bits:
//   whole: a batch has many (sub-group, token) pairs; each pair is one work item, its chunks run one after another
//          and are merged as they come (two stack buffers).
//   split: a decode has few pairs (SmolLM2: 3, gemma-3: 1) and would leave threads idle; every chunk is a work item,
//          partials go to the pool's scratch (slm_threadpool_scratch: grown only while the context grows, so a decode
//          allocates nothing per token), and the calling thread merges them once the pool is done.
#include <math.h>
#include <stdlib.h>
#include "slm_internal.h"
#include "slm_ops.h"
#include "slm_ops_impl.h"

// Floats of the stack buffers a whole-schedule item keeps: one partial's acc and ml (sub * head_dim + 2 * sub).
#define ATTN_STACK_PART (SLM_ATTN_GROUP_MAX * SLM_ATTN_MAX_HEAD_DIM + 2 * SLM_ATTN_GROUP_MAX)
// Largest split-schedule scratch taken from the pool (a 64K-position decode of either reference model needs ~1 MB).
#define ATTN_POOL_SCRATCH_MAX ((size_t)8 << 20)

typedef void (*attn_chunk_fn)(const float *q, int64_t g, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                              int64_t p0, int64_t n, int64_t head_dim, float scale, int64_t prefetch, float *acc,
                              float *ml);

typedef struct {
    const float *q;
    const uint16_t *k, *v;
    int64_t kv_stride, n_tokens, pos0, n_head, head_dim, window;
    int64_t group;  // query heads per kv head
    int64_t sub;    // query heads per attn_chunk call (a divisor of group, at most SLM_ATTN_GROUP_MAX)
    int64_t n_sub;  // n_head / sub
    int64_t part;   // floats per partial: acc [sub * head_dim], then ml [2 * sub], rounded up to 8
    float scale;
    float *out;
    attn_chunk_fn chunk;
    float softcap;  // > 0: soft-capped scores, through chunk_softcap instead of chunk
    // split schedule: token t's items are first_item[t] .. first_item[t + 1] - 1, numbered (chunk, sub-group)
    float *parts;
    const int64_t *first_item;
} attn_task;

static int64_t attended_begin(const attn_task *a, int64_t t) { return slm_attn_first_pos(a->pos0 + t, a->window); }
static int64_t n_chunks(const attn_task *a, int64_t t) {
    const int64_t len = a->pos0 + t + 1 - attended_begin(a, t);
    return (len + SLM_ATTN_CHUNK - 1) / SLM_ATTN_CHUNK;
}

// The chunk partial (slm_ops_table.attn_chunk) with soft-capped scores s = cap * tanh(q.k * scale / cap). Position
// outside, heads inside: each K and V row is widened to f32 once (slm_fp16_to_fp32_row) for the g heads that share it;
// dot products in 8 partial sums (a fixed order the compiler vectorizes).
// Heads wider than the row buffer: element by element.
static void chunk_softcap_wide(const float *q, int64_t g, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                               int64_t p0, int64_t n, int64_t D, float scale, float cap, float *acc, float *ml) {
    for (int64_t h = 0; h < g; h++) {
        const float *qh = q + h * D;
        float *ah = acc + h * D;
        float sc[SLM_ATTN_CHUNK], m = -INFINITY, l = 0.0f;
        for (int64_t j = 0; j < n; j++) {
            float s = 0.0f;
            for (int64_t d = 0; d < D; d++) s += qh[d] * slm_half_to_float(k[(p0 + j) * kv_stride + d]);
            sc[j] = cap * tanhf(s * scale / cap);
            m = sc[j] > m ? sc[j] : m;
        }
        for (int64_t d = 0; d < D; d++) ah[d] = 0.0f;
        for (int64_t j = 0; j < n; j++) {
            const float e = expf(sc[j] - m);
            l += e;
            for (int64_t d = 0; d < D; d++) ah[d] += e * slm_half_to_float(v[(p0 + j) * kv_stride + d]);
        }
        ml[h] = m;
        ml[g + h] = l;
    }
}

static void chunk_softcap(const float *q, int64_t g, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                          int64_t p0, int64_t n, int64_t D, float scale, float cap, float *acc, float *ml) {
    if (D > SLM_ATTN_MAX_HEAD_DIM) {
        chunk_softcap_wide(q, g, k, v, kv_stride, p0, n, D, scale, cap, acc, ml);
        return;
    }
    float sc[SLM_ATTN_GROUP_MAX * SLM_ATTN_CHUNK];
    float row[SLM_ATTN_MAX_HEAD_DIM] __attribute__((aligned(64)));
    for (int64_t j = 0; j < n; j++) {
        slm_fp16_to_fp32_row(k + (p0 + j) * kv_stride, row, D);
        for (int64_t h = 0; h < g; h++) {
            const float *qh = q + h * D;
            float part[8] = {0};
            int64_t d = 0;
            for (; d + 8 <= D; d += 8)
                for (int i = 0; i < 8; i++) part[i] += qh[d + i] * row[d + i];
            for (; d < D; d++) part[d & 7] += qh[d] * row[d];
            const float s = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
            sc[h * SLM_ATTN_CHUNK + j] = cap * tanhf(s * scale / cap);
        }
    }
    for (int64_t h = 0; h < g; h++) {
        const float *sh = sc + h * SLM_ATTN_CHUNK;
        float m = -INFINITY;
        for (int64_t j = 0; j < n; j++) m = sh[j] > m ? sh[j] : m;
        ml[h] = m;
        ml[g + h] = 0.0f;
        for (int64_t d = 0; d < D; d++) acc[h * D + d] = 0.0f;
    }
    for (int64_t j = 0; j < n; j++) {
        slm_fp16_to_fp32_row(v + (p0 + j) * kv_stride, row, D);
        for (int64_t h = 0; h < g; h++) {
            const float e = expf(sc[h * SLM_ATTN_CHUNK + j] - ml[h]);
            ml[g + h] += e;
            float *ah = acc + h * D;
            for (int64_t d = 0; d < D; d++) ah[d] += e * row[d];
        }
    }
}

// Partial of chunk c of sub-group sg of token t into acc / ml, prefetching `prefetch` halves of each row.
static void run_chunk(const attn_task *a, int64_t t, int64_t sg, int64_t c, int64_t prefetch, float *acc, float *ml) {
    const int64_t h0 = sg * a->sub, kvh = h0 / a->group, D = a->head_dim;
    const int64_t pos = a->pos0 + t, p0 = attended_begin(a, t) + c * SLM_ATTN_CHUNK;
    const int64_t n = SLM_MIN((int64_t)SLM_ATTN_CHUNK, pos + 1 - p0);
    if (a->softcap > 0) {
        chunk_softcap(a->q + (t * a->n_head + h0) * D, a->sub, a->k + kvh * D, a->v + kvh * D, a->kv_stride, p0, n, D,
                      a->scale, a->softcap, acc, ml);
        return;
    }
    a->chunk(a->q + (t * a->n_head + h0) * D, a->sub, a->k + kvh * D, a->v + kvh * D, a->kv_stride, p0, n, D,
             a->scale, prefetch, acc, ml);
}

// (acc, ml) <- the merge of (acc, ml) with the next chunk's (pacc, pml): both rescaled to the larger maximum.
// Plain C on purpose: the same operations on every ISA and in both schedules.
static void merge_chunk(float *acc, float *ml, const float *pacc, const float *pml, int64_t g, int64_t D) {
    for (int64_t h = 0; h < g; h++) {
        const float m = ml[h] > pml[h] ? ml[h] : pml[h];
        const float ra = expf(ml[h] - m), rb = expf(pml[h] - m);
        float *ah = acc + h * D;
        const float *bh = pacc + h * D;
        for (int64_t d = 0; d < D; d++) ah[d] = ah[d] * ra + bh[d] * rb;
        ml[g + h] = ml[g + h] * ra + pml[g + h] * rb;
        ml[h] = m;
    }
}

static void normalize(const float *acc, const float *ml, int64_t g, int64_t D, float *out) {
    for (int64_t h = 0; h < g; h++) {
        const float inv = 1.0f / ml[g + h];
        for (int64_t d = 0; d < D; d++) out[h * D + d] = acc[h * D + d] * inv;
    }
}

static float *out_rows(const attn_task *a, int64_t t, int64_t sg) {
    return a->out + (t * a->n_head + sg * a->sub) * a->head_dim;
}

static void whole_worker(void *ctx, int ith, int nth) {
    const attn_task *a = ctx;
    // Items are (sub-group, token), numbered in that order and dealt out round robin: in a prefill later tokens attend
    // to more positions, so contiguous ranges would give the last thread the costliest tokens (gemma-3, one
    // sub-group: 3x the first thread's work on 2 threads); dealt out, each thread's share of every sub-group costs
    // the same to within one token, and its successive items still share a kv head, which stays in its core's cache.
    float acc[ATTN_STACK_PART] __attribute__((aligned(32))), pacc[ATTN_STACK_PART] __attribute__((aligned(32)));
    float *ml = acc + a->sub * a->head_dim, *pml = pacc + a->sub * a->head_dim;
    const int64_t items = a->n_sub * a->n_tokens;
    for (int64_t i = ith; i < items; i += nth) {
        const int64_t sg = i / a->n_tokens, t = i % a->n_tokens, nc = n_chunks(a, t);
        run_chunk(a, t, sg, 0, a->head_dim, acc, ml);
        for (int64_t c = 1; c < nc; c++) {
            run_chunk(a, t, sg, c, a->head_dim, pacc, pml);
            merge_chunk(acc, ml, pacc, pml, a->sub, a->head_dim);
        }
        normalize(acc, ml, a->sub, a->head_dim, out_rows(a, t, sg));
    }
}

static void split_worker(void *ctx, int ith, int nth) {
    const attn_task *a = ctx;
    // Items numbered (token, chunk, sub-group): a contiguous range reads contiguous KV rows for all kv heads, so each
    // call prefetches whole rows (one stream through memory rather than one per head).
    int64_t begin, end;
    slm_split_range(a->first_item[a->n_tokens], 1, ith, nth, &begin, &end);
    int64_t t = 0;
    for (int64_t i = begin; i < end; i++) {
        while (i >= a->first_item[t + 1]) t++;
        const int64_t r = i - a->first_item[t];
        float *p = a->parts + i * a->part;
        run_chunk(a, t, r % a->n_sub, r / a->n_sub, a->kv_stride, p, p + a->sub * a->head_dim);
    }
}

static void attention(attn_chunk_fn chunk, slm_threadpool *tp, const float *q, const uint16_t *k, const uint16_t *v,
                      int64_t kv_stride, int64_t n_tokens, int64_t pos0, int64_t n_head, int64_t n_head_kv,
                      int64_t head_dim, int64_t window, float scale, float softcap, float *out) {
    // Shapes come from the model's validated hyperparameters; n_head must be a positive multiple of n_head_kv.
    if (n_tokens <= 0 || n_head <= 0 || n_head_kv <= 0 || n_head % n_head_kv != 0 || head_dim <= 0 || pos0 < 0) return;
    const int64_t group = n_head / n_head_kv;
    // The largest divisor of the group that attn_chunk takes and whose partial fits the stack buffers (heads wider
    // than SLM_ATTN_MAX_HEAD_DIM: one head at a time, with the split schedule). Depends on the model only.
    int64_t sub = SLM_MIN(group, (int64_t)SLM_ATTN_GROUP_MAX);
    while (group % sub != 0 || (sub > 1 && sub * head_dim + 2 * sub > ATTN_STACK_PART)) sub--;
    const int64_t D = head_dim, part = (sub * D + 2 * sub + 7) & ~(int64_t)7;
    const int stack_ok = part <= ATTN_STACK_PART;
    attn_task a = {q, k, v, kv_stride, n_tokens, pos0, n_head, D, window, group, sub, n_head / sub, part, scale, out,
                   chunk, softcap, NULL, NULL};
    const int nth = slm_threadpool_n_threads(tp);
    if (stack_ok && a.n_sub * n_tokens >= 4 * (int64_t)nth) {
        slm_threadpool_run(tp, whole_worker, &a);
        return;
    }
    // Split schedule: room for every partial, token t's items start at first_item[t]. The pool's scratch (a decode
    // allocates only while its context grows), or the heap without a pool and for needs beyond ATTN_POOL_SCRATCH_MAX
    // (prefill of heads too wide for the stack buffers), which the pool would otherwise keep for its lifetime.
    int64_t items = 0;
    for (int64_t t = 0; t < n_tokens; t++) items += n_chunks(&a, t) * a.n_sub;
    const size_t index_bytes = ((size_t)(n_tokens + 1) * sizeof(int64_t) + 63) & ~(size_t)63;
    const size_t bytes = index_bytes + (size_t)items * (size_t)part * sizeof(float);
    char *owned = NULL, *mem = bytes <= ATTN_POOL_SCRATCH_MAX ? slm_threadpool_scratch(tp, bytes) : NULL;
    if (!mem) mem = owned = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    if (!mem) {  // out of memory: the whole schedule needs none when the partial fits the stack
        if (stack_ok) {
            slm_threadpool_run(tp, whole_worker, &a);
        } else {
            for (int64_t i = 0; i < n_tokens * n_head * D; i++) out[i] = NAN;
        }
        return;
    }
    int64_t *first_item = (int64_t *)mem;
    float *parts = (float *)(mem + index_bytes);
    first_item[0] = 0;
    for (int64_t t = 0; t < n_tokens; t++) first_item[t + 1] = first_item[t] + n_chunks(&a, t) * a.n_sub;
    a.parts = parts;
    a.first_item = first_item;
    slm_threadpool_run(tp, split_worker, &a);
    for (int64_t t = 0; t < n_tokens; t++) {
        const int64_t nc = n_chunks(&a, t);
        for (int64_t sg = 0; sg < a.n_sub; sg++) {
            float *p0 = parts + (first_item[t] + sg) * part;
            for (int64_t c = 1; c < nc; c++) {
                const float *pc = parts + (first_item[t] + c * a.n_sub + sg) * part;
                merge_chunk(p0, p0 + sub * D, pc, pc + sub * D, sub, D);
            }
            normalize(p0, p0 + sub * D, sub, D, out_rows(&a, t, sg));
        }
    }
    free(owned);
}

void slm_attention(slm_threadpool *tp, const float *q, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                   int64_t n_tokens, int64_t pos0, int64_t n_head, int64_t n_head_kv, int64_t head_dim,
                   int64_t window, float scale, float *out) {
    attention(slm_active_ops()->pub.attn_chunk, tp, q, k, v, kv_stride, n_tokens, pos0, n_head, n_head_kv, head_dim,
              window, scale, 0.0f, out);
}

void slm_attention_softcap(slm_threadpool *tp, const float *q, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                           int64_t n_tokens, int64_t pos0, int64_t n_head, int64_t n_head_kv, int64_t head_dim,
                           int64_t window, float scale, float softcap, float *out) {
    attention(slm_active_ops()->pub.attn_chunk, tp, q, k, v, kv_stride, n_tokens, pos0, n_head, n_head_kv, head_dim,
              window, scale, softcap > 0 ? softcap : 0.0f, out);
}

void slm_attention_isa(slm_isa isa, slm_threadpool *tp, const float *q, const uint16_t *k, const uint16_t *v,
                       int64_t kv_stride, int64_t n_tokens, int64_t pos0, int64_t n_head, int64_t n_head_kv,
                       int64_t head_dim, int64_t window, float scale, float *out) {
    attention(slm_get_ops_isa(isa)->attn_chunk, tp, q, k, v, kv_stride, n_tokens, pos0, n_head, n_head_kv, head_dim,
              window, scale, 0.0f, out);
}

// Several sequences' split schedules as one pool run: items numbered (sequence, token, chunk, sub-group), each the
// same run_chunk call that slm_attention of that sequence alone makes, merged afterwards in the same order, so every
// sequence's result is bit-identical to running it alone. A batched decode step then pays one pool barrier per
// layer for attention instead of one per sequence.
typedef struct {
    attn_task *tasks;          // one per sequence, parts and first_item pointing into the shared scratch
    const int64_t *first_seq;  // sequence s's items are first_seq[s] .. first_seq[s + 1] - 1
    int64_t n_seqs;
} attn_multi;

static void multi_worker(void *ctx, int ith, int nth) {
    const attn_multi *m = ctx;
    int64_t begin, end;
    slm_split_range(m->first_seq[m->n_seqs], 1, ith, nth, &begin, &end);
    int64_t s = 0, t = 0;
    for (int64_t i = begin; i < end; i++) {
        while (i >= m->first_seq[s + 1]) { s++; t = 0; }
        const attn_task *a = &m->tasks[s];
        const int64_t local = i - m->first_seq[s];
        while (local >= a->first_item[t + 1]) t++;
        const int64_t r = local - a->first_item[t];
        float *p = a->parts + local * a->part;
        run_chunk(a, t, r % a->n_sub, r / a->n_sub, a->kv_stride, p, p + a->sub * a->head_dim);
    }
}

void slm_attention_seqs(slm_threadpool *tp, const slm_attn_seq *seqs, int64_t n_seqs, int64_t kv_stride,
                        int64_t n_head, int64_t n_head_kv, int64_t head_dim, int64_t window, float scale) {
    slm_attention_seqs_softcap(tp, seqs, n_seqs, kv_stride, n_head, n_head_kv, head_dim, window, scale, 0.0f);
}

void slm_attention_seqs_softcap(slm_threadpool *tp, const slm_attn_seq *seqs, int64_t n_seqs, int64_t kv_stride,
                                int64_t n_head, int64_t n_head_kv, int64_t head_dim, int64_t window, float scale,
                                float softcap) {
    if (n_seqs <= 0) return;
    if (!(softcap > 0)) softcap = 0.0f;
    const attn_chunk_fn chunk = slm_active_ops()->pub.attn_chunk;
    if (n_head <= 0 || n_head_kv <= 0 || n_head % n_head_kv != 0 || head_dim <= 0) return;
    const int64_t group = n_head / n_head_kv;
    int64_t sub = SLM_MIN(group, (int64_t)SLM_ATTN_GROUP_MAX);
    while (group % sub != 0 || (sub > 1 && sub * head_dim + 2 * sub > ATTN_STACK_PART)) sub--;
    const int64_t D = head_dim, part = (sub * D + 2 * sub + 7) & ~(int64_t)7;
    const int stack_ok = part <= ATTN_STACK_PART;
    const int nth = slm_threadpool_n_threads(tp);
    // Sequences that slm_attention would run with the whole schedule (prefill chunks), or alone when there is only
    // one, go through it unchanged; the rest (decodes) share one split-schedule run.
    int64_t shared = 0, tokens = 0, items = 0;
    for (int64_t s = 0; s < n_seqs; s++) {
        const slm_attn_seq *q = &seqs[s];
        if (q->n_tokens <= 0 || q->pos0 < 0) continue;
        if (stack_ok && (n_head / sub) * q->n_tokens >= 4 * (int64_t)nth) continue;
        attn_task a = {q->q, q->k, q->v, kv_stride, q->n_tokens, q->pos0, n_head, D, window, group, sub, n_head / sub,
                       part, scale, q->out, chunk, softcap, NULL, NULL};
        for (int64_t t = 0; t < q->n_tokens; t++) items += n_chunks(&a, t) * a.n_sub;
        tokens += q->n_tokens;
        shared++;
    }
    const size_t task_bytes = ((size_t)shared * sizeof(attn_task) + 63) & ~(size_t)63;
    const size_t index_bytes = (((size_t)(shared + 1) + (size_t)(tokens + shared)) * sizeof(int64_t) + 63) & ~(size_t)63;
    const size_t bytes = task_bytes + index_bytes + (size_t)items * (size_t)part * sizeof(float);
    char *mem = shared > 1 && bytes <= ATTN_POOL_SCRATCH_MAX ? slm_threadpool_scratch(tp, bytes) : NULL;
    if (!mem) {
        for (int64_t s = 0; s < n_seqs; s++) {
            attention(chunk, tp, seqs[s].q, seqs[s].k, seqs[s].v, kv_stride, seqs[s].n_tokens, seqs[s].pos0, n_head,
                      n_head_kv, head_dim, window, scale, softcap, seqs[s].out);
        }
        return;
    }
    attn_task *tasks = (attn_task *)mem;
    int64_t *first_seq = (int64_t *)(mem + task_bytes);
    int64_t *first_items = first_seq + shared + 1;
    float *parts = (float *)(mem + task_bytes + index_bytes);
    int64_t n = 0;
    first_seq[0] = 0;
    for (int64_t s = 0; s < n_seqs; s++) {
        const slm_attn_seq *q = &seqs[s];
        if (q->n_tokens <= 0 || q->pos0 < 0) continue;
        if (stack_ok && (n_head / sub) * q->n_tokens >= 4 * (int64_t)nth) {
            attention(chunk, tp, q->q, q->k, q->v, kv_stride, q->n_tokens, q->pos0, n_head, n_head_kv, head_dim, window,
                      scale, softcap, q->out);
            continue;
        }
        attn_task *a = &tasks[n];
        *a = (attn_task){q->q, q->k, q->v, kv_stride, q->n_tokens, q->pos0, n_head, D, window, group, sub, n_head / sub,
                         part, scale, q->out, chunk, softcap, NULL, NULL};
        int64_t *fi = first_items;
        first_items += q->n_tokens + 1;
        fi[0] = 0;
        for (int64_t t = 0; t < q->n_tokens; t++) fi[t + 1] = fi[t] + n_chunks(a, t) * a->n_sub;
        a->first_item = fi;
        a->parts = parts + first_seq[n] * part;
        first_seq[n + 1] = first_seq[n] + fi[q->n_tokens];
        n++;
    }
    attn_multi m = {tasks, first_seq, n};
    slm_threadpool_run(tp, multi_worker, &m);
    for (int64_t s = 0; s < n; s++) {
        const attn_task *a = &tasks[s];
        for (int64_t t = 0; t < a->n_tokens; t++) {
            const int64_t nc = n_chunks(a, t);
            for (int64_t sg = 0; sg < a->n_sub; sg++) {
                float *p0 = a->parts + (a->first_item[t] + sg) * part;
                for (int64_t c = 1; c < nc; c++) {
                    const float *pc = a->parts + (a->first_item[t] + c * a->n_sub + sg) * part;
                    merge_chunk(p0, p0 + sub * D, pc, pc + sub * D, sub, D);
                }
                normalize(p0, p0 + sub * D, sub, D, out_rows(a, t, sg));
            }
        }
    }
}
