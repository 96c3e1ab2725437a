// AVX2 kernels of the packed layouts (slm_packed.c): one 32-bit lane per row of the group, so a block's 8 partial dot
// products come out of one multiply-add chain and its scales are one vector; no horizontal sums. Tokens come in tiles
// of up to 4 sharing the unpacked weights. Per output the float operations are those of the scalar twins in
// slm_packed_ref.c, in the same order (bit-identical); integer sums are exact.
// Bounds: maddubs of a nibble (0..15) by an activation quant (|y| <= 127) gives pairs <= 3810 in magnitude, so the 8
// pair sums of a 32-element block added in 16 bits stay below 32767.
#include "slm_internal.h"
#include "slm_packed_internal.h"

#if SLM_HAVE_X86
#include "slm_packed_avx2_impl.h"

// ---- Q4_1 ----

// The minimums' terms (mins_step) run beside the blocks for one token, as a second pass for several.
PK_INLINE void q4_1_tile(int64_t nb, const uint8_t *group, const char *act, size_t act_row, float *out,
                         size_t out_tok, const int NT, slm_pf_cursor *pf) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
    __m256 acc[4], mins1 = _mm256_setzero_ps();
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();
    const uint8_t *g = group;
    for (int64_t b = 0; b < nb; b++, g += 160) {
        if (pf) slm_pf_step(pf, 160);
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
        if (NT == 1) mins1 = mins_step(g, y[0], mins1);
    }
    if (NT == 1) {
        _mm256_storeu_ps(out, _mm256_add_ps(acc[0], mins1));
        return;
    }
    for (int t = 0; t < NT; t++) {
        const slm_block_q8_s *y = (const slm_block_q8_s *)(act + (size_t)t * act_row);
        __m256 mins = _mm256_setzero_ps();
        g = group;
        for (int64_t b = 0; b < nb; b++, g += 160) mins = mins_step(g, &y[b], mins);
        _mm256_storeu_ps(out + (size_t)t * out_tok, _mm256_add_ps(acc[t], mins));
    }
}


SLM_PACKED_GEMM(slm_packed_gemm_q4_1_avx2, q4_1_tile, 32, 4)
SLM_PACKED_GEMV(slm_packed_gemv_q4_1_avx2, q4_1_tile, 32)

#endif  // SLM_HAVE_X86
