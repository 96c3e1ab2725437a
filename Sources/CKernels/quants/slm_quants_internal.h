// Per-ISA row kernels of the basic types, put into the dispatch table by slm_quants.c (not public).
#pragma once
#include <stdint.h>
#include "slm_quants.h"
#include "slm_internal.h"
#include "slm_prefetch.h"

#define SLM_ROW_KERNELS(sfx)                                                                        \
    void slm_dequant_f32_##sfx(const void *restrict src, float *restrict dst, int64_t n);          \
    void slm_dequant_f16_##sfx(const void *restrict src, float *restrict dst, int64_t n);          \
    void slm_dequant_bf16_##sfx(const void *restrict src, float *restrict dst, int64_t n);         \
    void slm_dequant_q4_0_##sfx(const void *restrict src, float *restrict dst, int64_t n);         \
    void slm_dequant_q4_1_##sfx(const void *restrict src, float *restrict dst, int64_t n);         \
    void slm_dequant_q8_0_##sfx(const void *restrict src, float *restrict dst, int64_t n);         \
    void slm_dequant_q8_1_##sfx(const void *restrict src, float *restrict dst, int64_t n);         \
    void slm_quant_q8_0_##sfx(const float *restrict src, void *restrict dst, int64_t n);           \
    void slm_quant_q8_1_##sfx(const float *restrict src, void *restrict dst, int64_t n);           \
    void slm_vec_dot_f32_##sfx(int64_t n, const void *restrict w, const void *restrict a, float *restrict out);  \
    void slm_vec_dot_f16_##sfx(int64_t n, const void *restrict w, const void *restrict a, float *restrict out);  \
    void slm_vec_dot_bf16_##sfx(int64_t n, const void *restrict w, const void *restrict a, float *restrict out); \
    void slm_vec_dot_q4_0_q8_0_##sfx(int64_t n, const void *restrict w, const void *restrict a, float *restrict out); \
    void slm_vec_dot_q4_1_q8_1_##sfx(int64_t n, const void *restrict w, const void *restrict a, float *restrict out); \
    void slm_vec_dot_q8_0_q8_0_##sfx(int64_t n, const void *restrict w, const void *restrict a, float *restrict out);

SLM_ROW_KERNELS(ref)
SLM_ROW_KERNELS(avx2)

// One 32-element block of activations as the Q8_0 / Q8_1 quantizers make it: the quants into q, their exact sum into
// *sum; returns the scale d unrounded (callers round it to f16). The packed layouts' quantizer builds on these.
float slm_quant_block_q8_ref(const float *restrict x, int8_t *restrict q, int *restrict sum);
float slm_quant_block_q8_avx2(const float *restrict x, int8_t *restrict q, int *restrict sum);

// Reference-only conversions (f32 -> storage type); the SIMD tables reuse them.
void slm_quant_f32_ref(const float *restrict src, void *restrict dst, int64_t n);
void slm_quant_f16_ref(const float *restrict src, void *restrict dst, int64_t n);
void slm_quant_bf16_ref(const float *restrict src, void *restrict dst, int64_t n);
void slm_quant_q4_0_ref(const float *restrict src, void *restrict dst, int64_t n);
void slm_quant_q4_1_ref(const float *restrict src, void *restrict dst, int64_t n);

// The traits of `type` in the table of `isa` whatever this CPU runs (never call its kernels without checking), or
// NULL; slm_get_type_traits_isa is this capped to the CPU.
const slm_type_traits *slm_type_traits_of(slm_type type, slm_isa isa);

// AVX-512 (slm_quants_avx512.c): the F16 dot and the activation quantizers.
void slm_vec_dot_f16_avx512(int64_t n, const void *restrict w, const void *restrict a, float *restrict out);
void slm_quant_q8_0_avx512(const float *restrict src, void *restrict dst, int64_t n);
void slm_quant_q8_1_avx512(const float *restrict src, void *restrict dst, int64_t n);

// A register tile of dot products: weight rows r < NR (`w_stride` bytes apart) times activation rows t < NT
// (`act_stride` bytes apart) -> out[r * out_row + t * out_tok], each output bit-identical to the single-row vec_dot
// the tiles belong to (slm_tiles_avx2.c).
typedef void (*slm_dot_tile_fn)(int64_t n, const void *restrict w, size_t w_stride, const void *restrict act,
                                size_t act_stride, float *restrict out, size_t out_row, size_t out_tok);
// Decode's 2 x 1 tile (r2t1 with out_row 1), advancing the decode prefetch stream (slm_prefetch.h) block by block.
typedef void (*slm_dot_decode_fn)(int64_t n, const void *restrict w, size_t w_stride, const void *restrict act,
                                  float *restrict out, slm_pf_stream *pf);
typedef struct {
    slm_dot_decode_fn decode;  // decode: 2 rows x 1 token with the prefetch stream
    slm_dot_tile_fn r2t1;  // prefill's last tokens
    slm_dot_tile_fn r2t4;  // prefill: 2 rows x 4 tokens
    slm_dot_tile_fn r1t4;  // prefill, last odd row
} slm_dot_tiles;
// The AVX2 tiles of the 32-element block types (slm_tiles_avx2.c), each bit-identical to that type's AVX2 vec_dot.
#if SLM_HAVE_X86
extern const slm_dot_tiles slm_tiles_q4_0_avx2, slm_tiles_q4_1_avx2, slm_tiles_q5_0_avx2, slm_tiles_q8_0_avx2;
#endif
