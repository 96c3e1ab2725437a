// AVX2 kernels of the packed K-quant layouts (slm_packed_kq.c) with Q8_K activations: one 32-bit lane per row of the
// group, tokens in tiles of up to 4 sharing the decoded weights and scales. Per output the float operations are those
// of the scalar twins in slm_packed_kq_ref.c, in the same order (bit-identical); integer sums are exact:
//   Q4_K: maddubs of nibbles (0..15) by activation quants (|y| <= 127) gives pairs <= 3810; the 8 of a sub-block
//         added in 16 bits stay <= 30480. madd with the sub-block scale (<= 63) in both halves of a row's lane gives
//         scale * sum per row in 32 bits (|isum| <= 8 * 63 * 30480 < 2^24).
//   Q6_K: maddubs of unsigned 6-bit quants (0..63) gives pairs <= 16002, so only 2 are added in 16 bits before the
//         madd with the int8 sub-block scale; the -32 is 32 * sum_s sc_s * bsums_s, madd of scale pairs with bsum
//         pairs (|32 * corr| <= 32 * 16 * 128 * 2032 < 2^27).
#include "slm_internal.h"
#include "slm_packed_internal.h"

#if SLM_HAVE_X86
#include "slm_packed_simd.h"

// ---- Q4_K ----

PK_INLINE void q4_K_tile(int64_t nb, const uint8_t *group, const char *act, size_t act_row, float *out,
                         size_t out_tok, const int NT, slm_pf_cursor *pf) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 acc[4], mins[4];
    for (int t = 0; t < NT; t++) acc[t] = mins[t] = _mm256_setzero_ps();
    const uint8_t *g = group;
    for (int64_t b = 0; b < nb; b++, g += SLM_PACK_ROWS * sizeof(slm_block_q4_K)) {
        const slm_block_q8_K *y[4];
        __m256i isum[4];
        for (int t = 0; t < NT; t++) {
            y[t] = (const slm_block_q8_K *)(act + (size_t)t * act_row) + b;
            isum[t] = _mm256_setzero_si256();
        }
        const q4_K_scales sc = q4_K_unpack_scales(g);
        for (int c = 0; c < 4; c++) {
            if (pf) slm_pf_step(pf, SLM_PACK_ROWS * sizeof(slm_block_q4_K) / 4);
            __m256i slo[4], shi[4];
            for (int t = 0; t < NT; t++) slo[t] = shi[t] = _mm256_setzero_si256();
            for (int k = 0; k < 8; k++) {
                const __m256i p = _mm256_loadu_si256((const __m256i *)(g + 128 + 32 * (8 * c + k)));
                const __m256i lo = _mm256_and_si256(p, m4), hi = _mm256_and_si256(_mm256_srli_epi16(p, 4), m4);
                for (int t = 0; t < NT; t++) {
                    slo[t] = _mm256_add_epi16(slo[t], _mm256_maddubs_epi16(lo, bcast4(y[t]->qs + 64 * c + 4 * k)));
                    shi[t] = _mm256_add_epi16(shi[t], _mm256_maddubs_epi16(hi, bcast4(y[t]->qs + 64 * c + 32 + 4 * k)));
                }
            }
            // scales of sub-blocks 2c, 2c+1 zero-extended into both 16-bit halves of each row's lane
            const __m256i sv = sc.sc[c / 2];
            const uint32_t e0 = (2 * c) % 4, e1 = e0 + 1;
            const __m256i s0 = _mm256_shuffle_epi8(sv, lane_pick(e0 | 0x80u << 8 | e0 << 16 | 0x80u << 24));
            const __m256i s1 = _mm256_shuffle_epi8(sv, lane_pick(e1 | 0x80u << 8 | e1 << 16 | 0x80u << 24));
            for (int t = 0; t < NT; t++) {
                isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_madd_epi16(slo[t], s0),
                                                                     _mm256_madd_epi16(shi[t], s1)));
            }
        }
        q4_K_block_end(g, &sc, y, isum, acc, mins, NT);
    }
    for (int t = 0; t < NT; t++) _mm256_storeu_ps(out + (size_t)t * out_tok, _mm256_sub_ps(acc[t], mins[t]));
}

// ---- Q6_K ----

PK_INLINE void q6_K_tile(int64_t nb, const uint8_t *group, const char *act, size_t act_row, float *out,
                         size_t out_tok, const int NT, slm_pf_cursor *pf) {
    __m256 acc[4];
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();
    const uint8_t *g = group;
    for (int64_t b = 0; b < nb; b++, g += SLM_PACK_ROWS * sizeof(slm_block_q6_K)) {
        const slm_block_q8_K *y[4];
        __m256i isum[4];
        for (int t = 0; t < NT; t++) {
            y[t] = (const slm_block_q8_K *)(act + (size_t)t * act_row) + b;
            isum[t] = _mm256_setzero_si256();
        }
        for (int s = 0; s < 16; s++) {
            if (pf && s % 4 == 0) slm_pf_step(pf, SLM_PACK_ROWS * sizeof(slm_block_q6_K) / 4);
            // scale s (int8) into the high bytes of both 16-bit halves of each row's lane, then sign-extended
            const __m256i sv = _mm256_loadu_si256((const __m256i *)(g + 16 + 32 * (s / 4)));
            const uint32_t e = (uint32_t)(s % 4);
            const __m256i sc = _mm256_srai_epi16(
                _mm256_shuffle_epi8(sv, lane_pick(0x80u | e << 8 | 0x80u << 16 | e << 24)), 8);
            __m256i q[4];
            q6_K_quants(g, s, q);
            for (int t = 0; t < NT; t++) {
                const int8_t *x8 = y[t]->qs + 16 * s;
                const __m256i p01 = _mm256_add_epi16(_mm256_maddubs_epi16(q[0], bcast4(x8)),
                                                     _mm256_maddubs_epi16(q[1], bcast4(x8 + 4)));
                const __m256i p23 = _mm256_add_epi16(_mm256_maddubs_epi16(q[2], bcast4(x8 + 8)),
                                                     _mm256_maddubs_epi16(q[3], bcast4(x8 + 12)));
                isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_madd_epi16(p01, sc), _mm256_madd_epi16(p23, sc)));
            }
        }
        q6_K_block_end(g, y, isum, acc, NT);
    }
    for (int t = 0; t < NT; t++) _mm256_storeu_ps(out + (size_t)t * out_tok, acc[t]);
}


SLM_PACKED_GEMM(slm_packed_gemm_q4_K_avx2, q4_K_tile, SLM_QK_K, 4)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream_q4_K_avx2, q4_K_tile, SLM_QK_K, 4)
SLM_PACKED_GEMM(slm_packed_gemm_q6_K_avx2, q6_K_tile, SLM_QK_K, 4)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream_q6_K_avx2, q6_K_tile, SLM_QK_K, 4)
SLM_PACKED_GEMV(slm_packed_gemv_q4_K_avx2, q4_K_tile, SLM_QK_K)
SLM_PACKED_GEMV(slm_packed_gemv_q6_K_avx2, q6_K_tile, SLM_QK_K)

#endif  // SLM_HAVE_X86
