// AVX2 kernels of the packed Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q8_0 layouts (slm_packed_q32.c): one 32-bit lane per row of the
// group, a block's 8 partial dots from one multiply-add chain, its 8 scales one vector. Tokens come in tiles sharing
// the unpacked weights: Q4_0 and Q8_0 walk a block's weight vectors once, each meeting up to 4 tokens; Q5_0 and Q5_1,
// whose 5th bits make unpacking dearer, unpack a block's 8 weight vectors first and then run up to 8 tokens over them
// (the unpacking is paid once per 8 tokens). Per output the float operations are those of the scalar
// twins (slm_packed_q32_ref.c) in the same order (bit-identical); integer sums are exact:
//   Q4_0, Q4_1: maddubs of a nibble (0..15) by an activation quant (|y| <= 127): pairs <= 3810, so a block's 8 results add
//         in 16 bits (<= 30480); the -8 is taken off as isum - 8 * sum_a in 32 bits.
//   Q5_0, Q5_1: 5-bit quants (0..31): pairs <= 7874, so at most 4 results add in 16 bits (<= 31496) before widening;
//         isum - 16 * sum_a for Q5_0.
//   Q8_0: signed quants: maddubs(|w|, sign(y, w)), |w| <= 128 (a stored -128 included): pairs <= 32512, so every
//         result is widened (madd) before adding.
#include "slm_internal.h"
#include "slm_packed_internal.h"

#if SLM_HAVE_X86
#include "slm_packed_simd.h"

// ---- Q4_0 ----

PK_INLINE void q4_0_tile(int64_t nb, const uint8_t *group, const char *act, size_t act_row, float *out,
                         size_t out_tok, const int NT, slm_pf_cursor *pf) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
    __m256 acc[4];
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();
    const uint8_t *g = group;
    for (int64_t b = 0; b < nb; b++, g += 144) {
        if (pf) slm_pf_step(pf, 144);
        const slm_block_q8_s *y[4];
        __m256i s[4];
        for (int t = 0; t < NT; t++) {
            y[t] = act_block(act, act_row, t, b);
            s[t] = _mm256_setzero_si256();
        }
        for (int k = 0; k < 4; k++) {
            const __m256i p = _mm256_loadu_si256((const __m256i *)(g + 16 + 32 * k));
            const __m256i lo = _mm256_and_si256(p, m4), hi = _mm256_and_si256(_mm256_srli_epi16(p, 4), m4);
            for (int t = 0; t < NT; t++) {
                const __m256i a = _mm256_maddubs_epi16(lo, bcast4(y[t]->qs + 4 * k));
                const __m256i c = _mm256_maddubs_epi16(hi, bcast4(y[t]->qs + 16 + 4 * k));
                s[t] = _mm256_add_epi16(s[t], _mm256_add_epi16(a, c));
            }
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)g));
        for (int t = 0; t < NT; t++) {
            const __m256i isum = _mm256_sub_epi32(_mm256_madd_epi16(s[t], ones), _mm256_set1_epi32(8 * y[t]->sum));
            acc[t] = scale_add(isum, dw, y[t], acc[t]);
        }
    }
    for (int t = 0; t < NT; t++) _mm256_storeu_ps(out + (size_t)t * out_tok, acc[t]);
}

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
            acc[t] = _mm256_fmadd_ps(isum, _mm256_mul_ps(dw, _mm256_broadcast_ss(&y[t]->d)), acc[t]);
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

// ---- Q5_0, Q5_1 ----

// MIN = 0: Q5_0 (176-byte blocks, isum - 16 * sum_a); MIN = 1: Q5_1 (192-byte blocks with m[8] after d[8]; the
// minimums' term as for Q4_1, mins_step).
PK_INLINE void q5_tile(int64_t nb, const uint8_t *group, const char *act, size_t act_row, float *out, size_t out_tok,
                       const int NT, const int MIN, slm_pf_cursor *pf) {
    const int block = MIN ? 192 : 176, h_off = MIN ? 32 : 16, q_off = MIN ? 64 : 48;
    const __m256i m4 = _mm256_set1_epi8(0x0f), m5 = _mm256_set1_epi8(0x10), ones = _mm256_set1_epi16(1);
    __m256 acc[8], mins1 = _mm256_setzero_ps();
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();
    const uint8_t *g = group;
    for (int64_t b = 0; b < nb; b++, g += block) {
        if (pf) slm_pf_step(pf, block);
        const __m256i h = _mm256_loadu_si256((const __m256i *)(g + h_off));
        __m256i lo[4], hi[4];
        for (int k = 0; k < 4; k++) {
            const __m256i p = _mm256_loadu_si256((const __m256i *)(g + q_off + 32 * k));
            lo[k] = _mm256_or_si256(_mm256_and_si256(p, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4 - k), m5));
            hi[k] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(p, 4), m4),
                                    _mm256_and_si256(_mm256_srli_epi16(h, k), m5));
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)g));
        for (int t = 0; t < NT; t++) {
            const slm_block_q8_s *y = act_block(act, act_row, t, b);
            __m256i s[4];
            for (int k = 0; k < 4; k++)
                s[k] = _mm256_add_epi16(_mm256_maddubs_epi16(lo[k], bcast4(y->qs + 4 * k)),
                                        _mm256_maddubs_epi16(hi[k], bcast4(y->qs + 16 + 4 * k)));
            __m256i dot = _mm256_add_epi32(_mm256_madd_epi16(_mm256_add_epi16(s[0], s[1]), ones),
                                           _mm256_madd_epi16(_mm256_add_epi16(s[2], s[3]), ones));
            if (!MIN) dot = _mm256_sub_epi32(dot, _mm256_set1_epi32(16 * y->sum));
            acc[t] = scale_add(dot, dw, y, acc[t]);
        }
        if (MIN && NT == 1) mins1 = mins_step(g, act_block(act, act_row, 0, b), mins1);
    }
    for (int t = 0; t < NT; t++) {
        if (MIN && NT == 1) {
            acc[t] = _mm256_add_ps(acc[t], mins1);
        } else if (MIN) {
            const slm_block_q8_s *y = act_block(act, act_row, t, 0);
            __m256 mins = _mm256_setzero_ps();
            g = group;
            for (int64_t b = 0; b < nb; b++, g += block) mins = mins_step(g, &y[b], mins);
            acc[t] = _mm256_add_ps(acc[t], mins);
        }
        _mm256_storeu_ps(out + (size_t)t * out_tok, acc[t]);
    }
}

PK_INLINE void q5_0_tile(int64_t nb, const uint8_t *group, const char *act, size_t act_row, float *out,
                         size_t out_tok, const int NT, slm_pf_cursor *pf) {
    q5_tile(nb, group, act, act_row, out, out_tok, NT, 0, pf);
}

PK_INLINE void q5_1_tile(int64_t nb, const uint8_t *group, const char *act, size_t act_row, float *out,
                         size_t out_tok, const int NT, slm_pf_cursor *pf) {
    q5_tile(nb, group, act, act_row, out, out_tok, NT, 1, pf);
}

// ---- Q8_0 ----

PK_INLINE void q8_0_tile(int64_t nb, const uint8_t *group, const char *act, size_t act_row, float *out,
                         size_t out_tok, const int NT, slm_pf_cursor *pf) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[4];
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();
    const uint8_t *g = group;
    for (int64_t b = 0; b < nb; b++, g += 272) {
        if (pf) slm_pf_step(pf, 272);
        const slm_block_q8_s *y[4];
        __m256i s[4];
        for (int t = 0; t < NT; t++) {
            y[t] = act_block(act, act_row, t, b);
            s[t] = _mm256_setzero_si256();
        }
        for (int k = 0; k < 8; k++) {
            const __m256i w = _mm256_loadu_si256((const __m256i *)(g + 16 + 32 * k));
            const __m256i aw = _mm256_sign_epi8(w, w);
            for (int t = 0; t < NT; t++) {
                const __m256i p = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(bcast4(y[t]->qs + 4 * k), w));
                s[t] = _mm256_add_epi32(s[t], _mm256_madd_epi16(p, ones));
            }
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)g));
        for (int t = 0; t < NT; t++) acc[t] = scale_add(s[t], dw, y[t], acc[t]);
    }
    for (int t = 0; t < NT; t++) _mm256_storeu_ps(out + (size_t)t * out_tok, acc[t]);
}


SLM_PACKED_GEMM(slm_packed_gemm_q4_0_avx2, q4_0_tile, 32, 4)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream_q4_0_avx2, q4_0_tile, 32, 4)
SLM_PACKED_GEMM(slm_packed_gemm_q4_1_avx2, q4_1_tile, 32, 4)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream_q4_1_avx2, q4_1_tile, 32, 4)
SLM_PACKED_GEMM(slm_packed_gemm_q5_0_avx2, q5_0_tile, 32, 8)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream_q5_0_avx2, q5_0_tile, 32, 8)
SLM_PACKED_GEMM(slm_packed_gemm_q5_1_avx2, q5_1_tile, 32, 8)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream_q5_1_avx2, q5_1_tile, 32, 8)
SLM_PACKED_GEMM(slm_packed_gemm_q8_0_avx2, q8_0_tile, 32, 4)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream_q8_0_avx2, q8_0_tile, 32, 4)
SLM_PACKED_GEMV(slm_packed_gemv_q4_0_avx2, q4_0_tile, 32)
SLM_PACKED_GEMV(slm_packed_gemv_q4_1_avx2, q4_1_tile, 32)
SLM_PACKED_GEMV(slm_packed_gemv_q5_0_avx2, q5_0_tile, 32)
SLM_PACKED_GEMV(slm_packed_gemv_q5_1_avx2, q5_1_tile, 32)
SLM_PACKED_GEMV(slm_packed_gemv_q8_0_avx2, q8_0_tile, 32)

#endif  // SLM_HAVE_X86
