// Element-wise and attention kernels. Each has a scalar twin (`_ref`) with the same signature; the unsuffixed name
// dispatches to the active ISA's version.
#pragma once
#include <stdint.h>
#include "slm_cpu.h"
#include "slm_threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

// y[i] = x[i] / sqrt(mean(x^2) + eps) * w[i]; y may alias x. w may be NULL (no weight).
void slm_rmsnorm(const float *x, const float *w, float *y, int64_t n, float eps);
// Rotary embedding in place on x: [n_heads, head_dim] at position pos; rotates the first n_rot dims of each head.
// theta_i = pos * freq_base^(-2i/n_rot). neox=0: pairs (x[2i], x[2i+1]) (llama); neox=1: pairs (x[i], x[i+n_rot/2]).
void slm_rope(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base, int neox);
// The two halves of slm_rope, so that a forward pass computes a position's angles once for all its layers:
// cos_out/sin_out[i] = cos/sin(theta_i), i < n_rot/2, evaluated in double and rounded once to f32;
void slm_rope_angles(int64_t n_rot, int64_t pos, float freq_base, float *cos_out, float *sin_out);
// and the rotation of x by those tables (slm_rope = slm_rope_angles + slm_rope_apply, bit for bit).
void slm_rope_apply(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float *cos_in,
                    const float *sin_in, int neox);
// out[i] = silu(gate[i]) * up[i]; out may alias gate or up.
void slm_swiglu(const float *gate, const float *up, float *out, int64_t n);
// out[i] = gelu(gate[i]) * up[i] with gelu's tanh approximation; out may alias.
void slm_geglu(const float *gate, const float *up, float *out, int64_t n);
// In place: x = exp(x - max) / sum.
void slm_softmax(float *x, int64_t n);
// y[i] += x[i]
void slm_add(float *y, const float *x, int64_t n);
// The first i in [0, n) with x[i] > t, or n (NaN is never above): a top-k scan of a vocabulary-sized row skips to its
// few candidates many values at a time.
int64_t slm_first_above(const float *x, int64_t n, float t);
// y[i] *= s
void slm_scale(float *y, float s, int64_t n);
// f32 <-> f16 rows (KV cache stores f16).
void slm_fp32_to_fp16_row(const float *x, uint16_t *y, int64_t n);
void slm_fp16_to_fp32_row(const uint16_t *x, float *y, int64_t n);

// Causal grouped-query attention for n_tokens query positions pos0 .. pos0+n_tokens-1 over a KV cache in f16.
//   q:   [n_tokens, n_head * head_dim] f32 (already rotated)
//   k,v: base pointers; position p of kv head h is at k + p * kv_stride + h * head_dim (kv_stride in elements)
//   out: [n_tokens, n_head * head_dim] f32
// Query t (at position pos0 + t) attends to positions max(0, pos0 + t - window + 1) .. pos0 + t (window <= 0:
// unlimited), with query head h reading kv head h / (n_head / n_head_kv). scores = q.k * scale, softmax in f32.
// The KV rows for all attended positions must already be written.
// The attended positions are cut into chunks of SLM_ATTN_CHUNK counted from the first one; each chunk gives a partial
// softmax (its own maximum, sum and weighted V), and the partials are merged in chunk order. Chunks depend on the
// position only, so a token's output is bit-identical in a prefill batch, in chunks or alone, whatever the number of
// threads; the pool splits a long decode over chunks and a batch over (kv head, token) pairs.
#define SLM_ATTN_CHUNK 128
void slm_attention(slm_threadpool *tp, const float *q, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                   int64_t n_tokens, int64_t pos0, int64_t n_head, int64_t n_head_kv, int64_t head_dim,
                   int64_t window, float scale, float *out);
// One sequence's queries in slm_attention_seqs: q and out [n_tokens, n_head * head_dim], at positions
// pos0 .. pos0 + n_tokens - 1 relative to row 0 of this sequence's K/V rows (row r at k + r * kv_stride).
typedef struct {
    const float *q;
    const uint16_t *k, *v;
    int64_t n_tokens, pos0;
    float *out;
} slm_attn_seq;
// Attention of several sequences (a batched decode step) in one pool run, each over its own cache; every result is
// bit-identical to slm_attention of that sequence alone (same chunk partials, merged in the same order).
void slm_attention_seqs(slm_threadpool *tp, const slm_attn_seq *seqs, int64_t n_seqs, int64_t kv_stride,
                        int64_t n_head, int64_t n_head_kv, int64_t head_dim, int64_t window, float scale);
// slm_attention and slm_attention_seqs with soft-capped scores (gemma2): s = softcap * tanh(q.k * scale / softcap)
// before the softmax; softcap <= 0 is plain attention (the same bits as slm_attention). The capped chunk partials are
// computed by a scalar kernel; chunking, schedules and merge order are those of slm_attention, so the result is
// bit-identical across batch splits, thread counts and batched sequences too.
void slm_attention_softcap(slm_threadpool *tp, const float *q, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                           int64_t n_tokens, int64_t pos0, int64_t n_head, int64_t n_head_kv, int64_t head_dim,
                           int64_t window, float scale, float softcap, float *out);
void slm_attention_seqs_softcap(slm_threadpool *tp, const slm_attn_seq *seqs, int64_t n_seqs, int64_t kv_stride,
                                int64_t n_head, int64_t n_head_kv, int64_t head_dim, int64_t window, float scale,
                                float softcap);
// slm_attention with the chunk kernel of the given ISA (falls back to a lower ISA when unsupported), for tests.
void slm_attention_isa(slm_isa isa, slm_threadpool *tp, const float *q, const uint16_t *k, const uint16_t *v,
                       int64_t kv_stride, int64_t n_tokens, int64_t pos0, int64_t n_head, int64_t n_head_kv,
                       int64_t head_dim, int64_t window, float scale, float *out);

// Scalar twins (the dispatched versions above must match these within float rounding).
void slm_rmsnorm_ref(const float *x, const float *w, float *y, int64_t n, float eps);
void slm_rope_ref(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base, int neox);
void slm_rope_apply_ref(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float *cos_in,
                        const float *sin_in, int neox);
void slm_swiglu_ref(const float *gate, const float *up, float *out, int64_t n);
void slm_geglu_ref(const float *gate, const float *up, float *out, int64_t n);
void slm_softmax_ref(float *x, int64_t n);
void slm_attention_ref(const float *q, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                       int64_t n_tokens, int64_t pos0, int64_t n_head, int64_t n_head_kv, int64_t head_dim,
                       int64_t window, float scale, float *out);

// Most query heads per kv head one attn_chunk call takes; slm_attention calls it for sub-groups of larger groups.
#define SLM_ATTN_GROUP_MAX 8

// Per-ISA variants for tests: the function the given ISA would use (falls back to a lower ISA when unsupported).
typedef struct {
    void (*rmsnorm)(const float *, const float *, float *, int64_t, float);
    void (*swiglu)(const float *, const float *, float *, int64_t);
    void (*geglu)(const float *, const float *, float *, int64_t);
    void (*softmax)(float *, int64_t);
    void (*rope_apply)(float *, int64_t, int64_t, int64_t, const float *, const float *, int);
    // One chunk's partial softmax for the g query heads of one token that share one kv head (q: g rows of head_dim)
    // over positions [p0, p0 + n), 1 <= n <= SLM_ATTN_CHUNK, 1 <= g <= SLM_ATTN_GROUP_MAX:
    //   ml[h] = m_h = max_p s_hp, ml[g + h] = sum_p e^(s_hp - m_h), acc[h * head_dim + d] = sum_p e^(s_hp - m_h) v_pd.
    // prefetch: how many halves of each K/V row, from k / v on, to request from memory ahead of use (this chunk's V,
    // the next chunk's K); a hint that never changes the result.
    void (*attn_chunk)(const float *q, int64_t g, const uint16_t *k, const uint16_t *v, int64_t kv_stride, int64_t p0,
                       int64_t n, int64_t head_dim, float scale, int64_t prefetch, float *acc, float *ml);
} slm_ops_table;
const slm_ops_table *slm_get_ops_isa(slm_isa isa);

#ifdef __cplusplus
}
#endif
