// Packed-weight kernels (see include/slm_packed.h), put into the dispatch table by slm_packed.c (not public).
#pragma once
#include <stdint.h>
#include <stddef.h>
#include "slm_packed.h"
#include "slm_quants.h"
#include "slm_kquants.h"
#include "slm_prefetch.h"

// Activation format of the packed 32-element block types: Q8_0's quants and f16 scale (the same rounding as the
// Q8_0 / Q8_1 quantizers) and the exact integer sum of the block's quants, which the kernels use for the zero-point
// terms (Q4_0's -8, Q5_0's -16) without rounding. The scale is stored widened to f32, and with it the product
// d * (float)sum that Q4_1's and Q5_1's minimum term takes: the tiles of several tokens broadcast both from memory
// instead of converting and multiplying per token and block (the same values, so the same bits).
typedef struct {
    float d;         // the f16 scale, widened (exact)
    float dsum;      // d * (float)sum, one f32 multiply
    int16_t sum;     // sum of qs (|sum| <= 32 * 127)
    int16_t pad;
    int8_t qs[32];
} slm_block_q8_s;
_Static_assert(sizeof(slm_block_q8_s) == 44, "q8_s block size");
// Activation-format ids for deduplicating conversions in slm_matmul (never a tensor type).
#define SLM_ACT_Q8_S ((slm_type)0x200)

// Dot products of one packed group (8 rows) with n_tok activation rows `act_row` bytes apart:
// out[t * out_tok + r] for r < 8, t < n_tok. Every output's operations do not depend on n_tok.
typedef void (*slm_packed_gemm_fn)(int64_t n_in, const void *restrict group, const void *restrict act,
                                   size_t act_row, int64_t n_tok, float *restrict out, size_t out_tok);
// One token (decode): out[r] for r < 8, the outputs of gemm with n_tok = 1, advancing the decode prefetch stream `pf`
// (slm_prefetch.h) by each block's bytes as it goes (the group's bytes in all).
typedef void (*slm_packed_gemv_fn)(int64_t n_in, const void *restrict group, const void *restrict act,
                                   float *restrict out, slm_pf_stream *pf);
// 8 rows `src_row` bytes apart -> one group; one row of a group -> the base layout.
typedef void (*slm_pack_group_fn)(const void *restrict src, size_t src_row, int64_t n_in, void *restrict dst);
typedef void (*slm_unpack_row_fn)(const void *restrict group, int64_t n_in, int r, void *restrict dst_row);

// A batched decode step's products (n_tok <= 8): gemm's outputs, advancing the decode prefetch stream `pf` as gemv does.
typedef void (*slm_packed_gemm_stream_fn)(int64_t n_in, const void *restrict group, const void *restrict act,
                                          size_t act_row, int64_t n_tok, float *restrict out, size_t out_tok,
                                          slm_pf_stream *pf);

typedef struct {
    slm_type base;
    slm_type act_type;          // SLM_ACT_Q8_S or SLM_TYPE_Q8_K
    int64_t act_block;          // elements per activation block
    size_t act_block_bytes;     // bytes per activation block
    slm_quant_row_fn act_quant; // f32 row -> activation row (the active ISA's)
    size_t (*group_bytes)(int64_t n_in);  // bytes of one packed group of 8 rows (a multiple of 8; may exceed 8 rows)
    slm_pack_group_fn pack;
    slm_unpack_row_fn unpack;
    slm_packed_gemm_fn gemm;
    slm_packed_gemv_fn gemv;    // NULL: decode calls gemm after prefetching the group's bytes at once
    slm_packed_gemm_stream_fn gemm_stream;  // NULL: a batched decode step runs gemm in prefill's row chunks
    // gemm and gemm_stream over the group at `group` and the next one (16 rows: out rows 0..15) on 512-bit vectors, with
    // the same outputs; NULL: none
    slm_packed_gemm_fn gemm16;
    slm_packed_gemm_stream_fn gemm_stream16;
} slm_packed_traits;

// The packed layout of `base` (or its packed type) in the table of `isa` whatever this CPU runs (never call its kernels
// without checking), or NULL; slm_get_packed_traits_isa is this capped to the CPU.
const slm_packed_traits *slm_packed_traits_of(slm_type base, slm_isa isa);
const slm_packed_traits *slm_get_packed_traits_isa(slm_type base, slm_isa isa);
const slm_packed_traits *slm_get_packed_traits(slm_type type);  // active ISA; accepts base or packed type

// Activation quantizers (slm_packed.c)
void slm_quant_q8_s_ref(const float *restrict src, void *restrict dst, int64_t n);
void slm_quant_q8_s_avx2(const float *restrict src, void *restrict dst, int64_t n);

// One-token kernels (slm_packed_gemv_fn) of the SIMD files.
#define SLM_PACKED_GEMV_DECL(t)                                                                                      \
    void slm_packed_gemv_##t##_avx2(int64_t n_in, const void *restrict group, const void *restrict act,            \
                                    float *restrict out, slm_pf_stream *pf);                                         \
    void slm_packed_gemv_##t##_avx512vnni(int64_t n_in, const void *restrict group, const void *restrict act,      \
                                          float *restrict out, slm_pf_stream *pf);
SLM_PACKED_GEMV_DECL(q4_1)
SLM_PACKED_GEMV_DECL(q4_K)
SLM_PACKED_GEMV_DECL(q6_K)
SLM_PACKED_GEMV_DECL(q4_0)
SLM_PACKED_GEMV_DECL(q5_0)
SLM_PACKED_GEMV_DECL(q5_1)
SLM_PACKED_GEMV_DECL(q8_0)
// Batched-decode kernels (slm_packed_gemm_stream_fn) of the SIMD files.
#define SLM_PACKED_GEMM_STREAM_DECL(t, sfx)                                                                          \
    void slm_packed_gemm_stream_##t##_##sfx(int64_t n_in, const void *restrict group, const void *restrict act,    \
                                            size_t act_row, int64_t n_tok, float *restrict out, size_t out_tok,      \
                                            slm_pf_stream *pf);
#define SLM_PACKED_GEMM_STREAM_DECLS(sfx)                                                                            \
    SLM_PACKED_GEMM_STREAM_DECL(q4_0, sfx) SLM_PACKED_GEMM_STREAM_DECL(q4_1, sfx)                                   \
    SLM_PACKED_GEMM_STREAM_DECL(q5_0, sfx) SLM_PACKED_GEMM_STREAM_DECL(q5_1, sfx)                                   \
    SLM_PACKED_GEMM_STREAM_DECL(q8_0, sfx) SLM_PACKED_GEMM_STREAM_DECL(q4_K, sfx)                                   \
    SLM_PACKED_GEMM_STREAM_DECL(q6_K, sfx)
SLM_PACKED_GEMM_STREAM_DECLS(avx2)
SLM_PACKED_GEMM_STREAM_DECLS(avx512vnni)
// The 16-row twins of the 32-element layouts' AVX-512 VNNI gemm and gemm_stream (slm_packed_traits.gemm16 and
// gemm_stream16).
#define SLM_PACKED_GEMM_STREAM16_DECL(t)                                                                             \
    void slm_packed_gemm16_##t##_avx512vnni(int64_t n_in, const void *restrict group, const void *restrict act,    \
                                            size_t act_row, int64_t n_tok, float *restrict out, size_t out_tok);   \
    void slm_packed_gemm_stream16_##t##_avx512vnni(int64_t n_in, const void *restrict group, const void *restrict act, \
                                                   size_t act_row, int64_t n_tok, float *restrict out,                \
                                                   size_t out_tok, slm_pf_stream *pf);
SLM_PACKED_GEMM_STREAM16_DECL(q4_0)
SLM_PACKED_GEMM_STREAM16_DECL(q4_1)
SLM_PACKED_GEMM_STREAM16_DECL(q5_0)
SLM_PACKED_GEMM_STREAM16_DECL(q5_1)
SLM_PACKED_GEMM_STREAM16_DECL(q8_0)

// K-quant layouts (slm_packed_kq.c) with activations Q8_K; kernels in slm_packed_kq_ref.c and slm_packed_kq_avx2.c.
size_t slm_packed_group_bytes_q4_K(int64_t n_in);
void slm_pack_q4_K(const void *restrict src, size_t src_row, int64_t n_in, void *restrict dst);
void slm_unpack_q4_K(const void *restrict group, int64_t n_in, int r, void *restrict dst_row);
size_t slm_packed_group_bytes_q6_K(int64_t n_in);
void slm_pack_q6_K(const void *restrict src, size_t src_row, int64_t n_in, void *restrict dst);
void slm_unpack_q6_K(const void *restrict group, int64_t n_in, int r, void *restrict dst_row);
void slm_q6_K_quants(const slm_block_q6_K *x, uint8_t q[SLM_QK_K]);  // the 256 unsigned 6-bit quants in element order
#define SLM_PACKED_KQ_GEMMS(sfx)                                                                                     \
    void slm_packed_gemm_q4_K_##sfx(int64_t n_in, const void *restrict group, const void *restrict act,            \
                                    size_t act_row, int64_t n_tok, float *restrict out, size_t out_tok);           \
    void slm_packed_gemm_q6_K_##sfx(int64_t n_in, const void *restrict group, const void *restrict act,            \
                                    size_t act_row, int64_t n_tok, float *restrict out, size_t out_tok);
SLM_PACKED_KQ_GEMMS(ref)
SLM_PACKED_KQ_GEMMS(avx2)
SLM_PACKED_KQ_GEMMS(avx512vnni)
// Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q8_0: layouts in slm_packed_q32.c, kernels in slm_packed_q32_ref.c and
// slm_packed_q32_avx2.c.
#define SLM_PACKED_Q32_LAYOUT(t)                                                                                     \
    size_t slm_packed_group_bytes_##t(int64_t n_in);                                                                \
    void slm_pack_##t(const void *restrict src, size_t src_row, int64_t n_in, void *restrict dst);                  \
    void slm_unpack_##t(const void *restrict group, int64_t n_in, int r, void *restrict dst_row);
SLM_PACKED_Q32_LAYOUT(q4_0)
SLM_PACKED_Q32_LAYOUT(q4_1)
SLM_PACKED_Q32_LAYOUT(q5_0)
SLM_PACKED_Q32_LAYOUT(q5_1)
SLM_PACKED_Q32_LAYOUT(q8_0)
#define SLM_PACKED_Q32_GEMMS(sfx)                                                                                    \
    void slm_packed_gemm_q4_0_##sfx(int64_t n_in, const void *restrict group, const void *restrict act,            \
                                    size_t act_row, int64_t n_tok, float *restrict out, size_t out_tok);            \
    void slm_packed_gemm_q4_1_##sfx(int64_t n_in, const void *restrict group, const void *restrict act,            \
                                    size_t act_row, int64_t n_tok, float *restrict out, size_t out_tok);            \
    void slm_packed_gemm_q5_0_##sfx(int64_t n_in, const void *restrict group, const void *restrict act,            \
                                    size_t act_row, int64_t n_tok, float *restrict out, size_t out_tok);            \
    void slm_packed_gemm_q5_1_##sfx(int64_t n_in, const void *restrict group, const void *restrict act,            \
                                    size_t act_row, int64_t n_tok, float *restrict out, size_t out_tok);            \
    void slm_packed_gemm_q8_0_##sfx(int64_t n_in, const void *restrict group, const void *restrict act,            \
                                    size_t act_row, int64_t n_tok, float *restrict out, size_t out_tok);
SLM_PACKED_Q32_GEMMS(ref)
SLM_PACKED_Q32_GEMMS(avx2)
SLM_PACKED_Q32_GEMMS(avx512vnni)
