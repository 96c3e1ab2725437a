// AVX2 kernels of the packed layouts (slm_packed.c): one 32-bit lane per row of the group, so a block's 8 partial dot
// products come out of one multiply-add chain and its scales are one vector; no horizontal sums. Tokens come in tiles
// of up to 4 sharing the unpacked weights. Per output the float operations are those of the scalar twins in
// slm_packed_ref.c, in the same order (bit-identical); integer sums are exact.
// Bounds: maddubs of a nibble (0..15) by an activation quant (|y| <= 127) gives pairs <= 3810 in magnitude, so the 8
// pair sums of a 32-element block added in 16 bits stay below 32767.
#include "slm_internal.h"
#include "slm_packed_internal.h"

#if SLM_HAVE_X86
#include <immintrin.h>

#define PK_INLINE SLM_TARGET_AVX2 static inline __attribute__((always_inline))

PK_INLINE __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

// ---- Q4_1 ----

PK_INLINE void q4_1_tile(int64_t nb, const uint8_t *group, const char *act, size_t act_row, float *out,
                         size_t out_tok, const int NT) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
    __m256 acc[4];
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();
    const uint8_t *g = group;
    for (int64_t b = 0; b < nb; b++, g += 160) {
        const slm_block_q8_s *y[4];
        __m256i s[4];
        for (int t = 0; t < NT; t++) {
            y[t] = (const slm_block_q8_s *)(act + (size_t)t * act_row) + b;
            s[t] = _mm256_setzero_si256();
        }
        for (int k = 0; k < 4; k++) {
            const __m256i p = _mm256_loadu_si256((const __m256i *)(g + 32 + 32 * k));
            const __m256i lo = _mm256_and_si256(p, m4), hi = _mm256_and_si256(_mm256_srli_epi16(p, 4), m4);
            for (int t = 0; t < NT; t++) {
                const __m256i a = _mm256_maddubs_epi16(lo, bcast4(y[t]->qs + 4 * k));
                const __m256i c = _mm256_maddubs_epi16(hi, bcast4(y[t]->qs + 16 + 4 * k));
                s[t] = _mm256_add_epi16(s[t], _mm256_add_epi16(a, c));
            }
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)g));
        for (int t = 0; t < NT; t++) {
            const __m256 isum = _mm256_cvtepi32_ps(_mm256_madd_epi16(s[t], ones));
            acc[t] = _mm256_fmadd_ps(isum, _mm256_mul_ps(dw, _mm256_set1_ps(slm_fp16_table[y[t]->d])), acc[t]);
        }
    }
    for (int t = 0; t < NT; t++) {
        const slm_block_q8_s *y = (const slm_block_q8_s *)(act + (size_t)t * act_row);
        __m256 mins = _mm256_setzero_ps();
        g = group;
        for (int64_t b = 0; b < nb; b++, g += 160) {
            const __m256 mw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + 16)));
            mins = _mm256_fmadd_ps(mw, _mm256_set1_ps(slm_fp16_table[y[b].d] * (float)y[b].sum), mins);
        }
        _mm256_storeu_ps(out + (size_t)t * out_tok, _mm256_add_ps(acc[t], mins));
    }
}

// Tiles of 4 tokens, then the remainder as one tile of 1..3.
#define PACKED_GEMM(NAME, TILE)                                                                                      \
    SLM_TARGET_AVX2 void NAME(int64_t n_in, const void *restrict group, const void *restrict act, size_t act_row,    \
                              int64_t n_tok, float *restrict out, size_t out_tok) {                                  \
        const int64_t nb = n_in / 32;                                                                                \
        int64_t t = 0;                                                                                               \
        for (; t + 4 <= n_tok; t += 4)                                                                               \
            TILE(nb, group, (const char *)act + (size_t)t * act_row, act_row, out + (size_t)t * out_tok, out_tok, 4); \
        const char *a = (const char *)act + (size_t)t * act_row;                                                     \
        float *o = out + (size_t)t * out_tok;                                                                        \
        switch (n_tok - t) {                                                                                         \
        case 3: TILE(nb, group, a, act_row, o, out_tok, 3); break;                                                   \
        case 2: TILE(nb, group, a, act_row, o, out_tok, 2); break;                                                   \
        case 1: TILE(nb, group, a, act_row, o, out_tok, 1); break;                                                   \
        default: break;                                                                                              \
        }                                                                                                            \
    }

PACKED_GEMM(slm_packed_gemm_q4_1_avx2, q4_1_tile)

#endif  // SLM_HAVE_X86
