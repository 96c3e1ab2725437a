// Internal declarations of the ops family: the per-ISA functions that slm_ops.c puts into the dispatch table.
#pragma once
#include <stdint.h>
#include "slm_ops.h"

// slm_attention's batch schedule keeps two chunk partials of up to SLM_ATTN_GROUP_MAX heads of this many dims on the
// stack (2 x 16 KiB); wider heads are taken in smaller sub-groups, down to one head of 8 x this (beyond that: heap
// scratch). Llama and gemma models use 64..256.
#define SLM_ATTN_MAX_HEAD_DIM 512
// Largest n_rot whose tables slm_rope keeps on the stack and the SIMD rope_apply interleaves on the stack; larger
// rotations use the scalar reference.
#define SLM_ROPE_MAX_ROT 1024

// What the public functions dispatch through: the header's table plus the entries that tests do not need per ISA.
typedef struct {
    slm_ops_table pub;
    void (*add)(float *y, const float *x, int64_t n);
    void (*scale)(float *y, float s, int64_t n);
    void (*fp32_to_fp16)(const float *x, uint16_t *y, int64_t n);
    void (*fp16_to_fp32)(const uint16_t *x, float *y, int64_t n);
    int64_t (*first_above)(const float *x, int64_t n, float t);
} slm_ops_impl;

// Reference (slm_ops_ref.c).
// One head's attention over positions [p_begin, p_end) by a running (online) softmax, position by position: the
// unchunked oracle behind slm_attention_ref.
void slm_attn_head_ref(const float *q, const uint16_t *k, const uint16_t *v, int64_t kv_stride, int64_t p_begin,
                       int64_t p_end, int64_t head_dim, float scale, float *out);
void slm_attn_chunk_ref(const float *q, int64_t g, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                        int64_t p0, int64_t n, int64_t head_dim, float scale, int64_t prefetch, float *acc,
                        float *ml);
void slm_add_ref(float *y, const float *x, int64_t n);
void slm_scale_ref(float *y, float s, int64_t n);
void slm_fp32_to_fp16_row_ref(const float *x, uint16_t *y, int64_t n);
void slm_fp16_to_fp32_row_ref(const uint16_t *x, float *y, int64_t n);
int64_t slm_first_above_ref(const float *x, int64_t n, float t);

#if defined(__x86_64__) || defined(__i386__)
// AVX2 + FMA + F16C (slm_ops_avx2.c).
int64_t slm_first_above_avx2(const float *x, int64_t n, float t);
void slm_rmsnorm_avx2(const float *x, const float *w, float *y, int64_t n, float eps);
void slm_rope_apply_avx2(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float *cos_in,
                         const float *sin_in, int neox);
void slm_swiglu_avx2(const float *gate, const float *up, float *out, int64_t n);
void slm_geglu_avx2(const float *gate, const float *up, float *out, int64_t n);
void slm_softmax_avx2(float *x, int64_t n);
void slm_add_avx2(float *y, const float *x, int64_t n);
void slm_scale_avx2(float *y, float s, int64_t n);
void slm_fp32_to_fp16_row_avx2(const float *x, uint16_t *y, int64_t n);
void slm_fp16_to_fp32_row_avx2(const uint16_t *x, float *y, int64_t n);
// Fast for head_dim % 32 == 0 up to 256 (every model we target); other shapes go to slm_attn_chunk_ref.
void slm_attn_chunk_avx2(const float *q, int64_t g, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                         int64_t p0, int64_t n, int64_t head_dim, float scale, int64_t prefetch, float *acc,
                         float *ml);

// AVX-512 F/BW/VL/DQ (slm_ops_avx512.c).
void slm_rmsnorm_avx512(const float *x, const float *w, float *y, int64_t n, float eps);
void slm_rope_apply_avx512(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float *cos_in,
                           const float *sin_in, int neox);
void slm_swiglu_avx512(const float *gate, const float *up, float *out, int64_t n);
void slm_geglu_avx512(const float *gate, const float *up, float *out, int64_t n);
void slm_softmax_avx512(float *x, int64_t n);
void slm_add_avx512(float *y, const float *x, int64_t n);
void slm_scale_avx512(float *y, float s, int64_t n);
void slm_fp32_to_fp16_row_avx512(const float *x, uint16_t *y, int64_t n);
void slm_fp16_to_fp32_row_avx512(const uint16_t *x, float *y, int64_t n);
#endif

// The positions query position `pos` attends to: [begin, pos + 1), begin = max(0, pos - window + 1) for window > 0.
static inline int64_t slm_attn_first_pos(int64_t pos, int64_t window) {
    if (window <= 0 || pos - window + 1 < 0) return 0;
    return pos - window + 1;
}

// The active ISA's table (slm_ops.c); initialises the kernels on first use.
const slm_ops_impl *slm_active_ops(void);
