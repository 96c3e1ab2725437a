// Internal declarations of the ops family: the per-ISA functions that slm_ops.c puts into its dispatch tables.
#pragma once
#include <stdint.h>
#include "slm_ops.h"

// Largest head_dim the SIMD attention heads keep their accumulator for on the stack; larger heads use the scalar
// reference (no model we target comes close: llama/gemma use 64..256).
#define SLM_ATTN_MAX_HEAD_DIM 1024
// Positions scored per block in the SIMD attention heads: the scores live in a stack buffer of this size and the
// running maximum, sum and accumulator are rescaled between blocks (online softmax), so any context length works.
#define SLM_ATTN_BLOCK 256
// Grouped attention (slm_attn_group_*): at most this many query heads per kv head and this head_dim keep their
// accumulators on the stack (8 x 256 x 4 = 8 KiB); other shapes go head by head.
#define SLM_ATTN_GROUP_MAX 8
#define SLM_ATTN_GROUP_MAX_DIM 256
// Largest n_rot whose cos/sin tables the SIMD rope keeps on the stack; larger rotations use the scalar reference.
#define SLM_ROPE_MAX_ROT 1024

// What the public functions dispatch through: the header's table plus the entries that tests do not need per ISA.
typedef struct {
    slm_ops_table pub;
    void (*add)(float *y, const float *x, int64_t n);
    void (*scale)(float *y, float s, int64_t n);
    void (*fp32_to_fp16)(const float *x, uint16_t *y, int64_t n);
    void (*fp16_to_fp32)(const uint16_t *x, float *y, int64_t n);
    // One token's g query heads sharing one kv head (q, out: g rows of head_dim), over positions [p_begin, p_end).
    void (*attn_group)(const float *q, int64_t g, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                       int64_t p_begin, int64_t p_end, int64_t head_dim, float scale, float *out);
} slm_ops_impl;

// Reference (slm_ops_ref.c).
void slm_attn_head_ref(const float *q, const uint16_t *k, const uint16_t *v, int64_t kv_stride, int64_t p_begin,
                       int64_t p_end, int64_t head_dim, float scale, float *out);
void slm_add_ref(float *y, const float *x, int64_t n);
void slm_scale_ref(float *y, float s, int64_t n);
void slm_fp32_to_fp16_row_ref(const float *x, uint16_t *y, int64_t n);
void slm_fp16_to_fp32_row_ref(const uint16_t *x, float *y, int64_t n);
// The grouped twin: slm_attn_head_ref per head.
void slm_attn_group_ref(const float *q, int64_t g, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                        int64_t p_begin, int64_t p_end, int64_t head_dim, float scale, float *out);
// cos/sin of theta_i = pos * freq_base^(-2i/n_rot), i < n_rot/2, evaluated in double and rounded once.
void slm_rope_angles(int64_t n_rot, int64_t pos, float freq_base, float *cos_out, float *sin_out);

#if defined(__x86_64__) || defined(__i386__)
// AVX2 + FMA + F16C (slm_ops_avx2.c).
void slm_rmsnorm_avx2(const float *x, const float *w, float *y, int64_t n, float eps);
void slm_rope_avx2(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base, int neox);
void slm_swiglu_avx2(const float *gate, const float *up, float *out, int64_t n);
void slm_geglu_avx2(const float *gate, const float *up, float *out, int64_t n);
void slm_softmax_avx2(float *x, int64_t n);
void slm_attn_head_avx2(const float *q, const uint16_t *k, const uint16_t *v, int64_t kv_stride, int64_t p_begin,
                        int64_t p_end, int64_t head_dim, float scale, float *out);
void slm_add_avx2(float *y, const float *x, int64_t n);
void slm_scale_avx2(float *y, float s, int64_t n);
void slm_fp32_to_fp16_row_avx2(const float *x, uint16_t *y, int64_t n);
void slm_fp16_to_fp32_row_avx2(const uint16_t *x, float *y, int64_t n);
void slm_attn_group_avx2(const float *q, int64_t g, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                         int64_t p_begin, int64_t p_end, int64_t head_dim, float scale, float *out);

// AVX-512 F/BW/VL/DQ (slm_ops_avx512.c).
void slm_rmsnorm_avx512(const float *x, const float *w, float *y, int64_t n, float eps);
void slm_rope_avx512(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base,
                     int neox);
void slm_swiglu_avx512(const float *gate, const float *up, float *out, int64_t n);
void slm_geglu_avx512(const float *gate, const float *up, float *out, int64_t n);
void slm_softmax_avx512(float *x, int64_t n);
void slm_attn_head_avx512(const float *q, const uint16_t *k, const uint16_t *v, int64_t kv_stride, int64_t p_begin,
                          int64_t p_end, int64_t head_dim, float scale, float *out);
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
