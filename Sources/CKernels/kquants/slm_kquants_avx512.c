// AVX-512 (F/BW/VL/DQ) kernels of the K-quant family and Q5_0/Q5_1: the AVX2 algorithms of slm_kquants_avx2.c on
// 64-byte vectors (integer bounds as noted there). Twins of slm_kquants_ref.c; the tests compare them where the CPU
// has AVX-512 and skip otherwise.
#include "slm_kquants_internal.h"

#if SLM_HAVE_X86
#include <immintrin.h>

// f16 -> f32 through vmovd + vcvtph2ps (clang compiles _cvtsh_ss to a vpinsrw merging into a live register, which
// can tie the block scale to the accumulator's dependency chain).
SLM_TARGET_AVX512 static inline float half_to_float(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

// [a repeated in 16-bit lanes 0..15, b in lanes 16..31]
SLM_TARGET_AVX512 static inline __m512i pair_epi16(int a, int b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16((short)a)), _mm256_set1_epi16((short)b), 1);
}

// [32 bytes at p, 32 bytes at q]
SLM_TARGET_AVX512 static inline __m512i load_2x256(const void *p, const void *q) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)p)),
                              _mm256_loadu_si256((const __m256i *)q), 1);
}

// Q6_K x Q8_K. In half h, the 64 bytes ql[64h..] give elements 0..63 of the half in their low nibbles and 64..127 in
// their high nibbles, in order; qh (32 bytes, broadcast) gives their 2 high bits at shifts 0/2 and 4/6. A maddubs
// result holds 4 sub-blocks of 16 (8 i16 lanes each), scaled by a permutation of the 16 scales.
SLM_TARGET_AVX512 void slm_vec_dot_q6_K_q8_K_avx512(int64_t n, const void *restrict w, const void *restrict act,
                                                    float *restrict out) {
    const slm_block_q6_K *x = w;
    const slm_block_q8_K *y = act;
    const __m512i m4 = _mm512_set1_epi8(0x0f), m2 = _mm512_set1_epi8(3);
    const __m512i shift_lo = pair_epi16(0, 2), shift_hi = pair_epi16(4, 6);
    // lane i of sub-block index vector k: scale k + i/8
    const __m512i lane_sub = _mm512_srli_epi16(
        _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16,
                         15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), 3);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / SLM_QK_K; i++) {
        const float d = y[i].d * half_to_float(x[i].d);
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales));
        const __m512i sc512 = _mm512_castsi256_si512(sc16);  // only lanes 0..15 are read by the permutes below
        const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)y[i].bsums)), 5);
        __m512i sumi = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_sub_epi32(_mm256_setzero_si256(), offset), 0);
        const int8_t *q8 = y[i].qs;
        for (int h = 0; h < 2; h++) {
            const __m512i ql = _mm512_loadu_si512((const void *)(x[i].ql + 64 * h));
            const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x[i].qh + 32 * h)));
            const __m512i hb_lo = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shift_lo), m2), 4);
            const __m512i hb_hi = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shift_hi), m2), 4);
            const __m512i q_lo = _mm512_or_si512(_mm512_and_si512(ql, m4), hb_lo);                          // 0..63
            const __m512i q_hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4), hb_hi);    // 64..127
            const __m512i a_lo = _mm512_loadu_si512((const void *)(q8 + 128 * h));
            const __m512i a_hi = _mm512_loadu_si512((const void *)(q8 + 128 * h + 64));
            const __m512i s_lo = _mm512_permutexvar_epi16(_mm512_add_epi16(lane_sub, _mm512_set1_epi16((short)(8 * h))), sc512);
            const __m512i s_hi = _mm512_permutexvar_epi16(_mm512_add_epi16(lane_sub, _mm512_set1_epi16((short)(8 * h + 4))), sc512);
            sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(_mm512_maddubs_epi16(q_lo, a_lo), s_lo));
            sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(_mm512_maddubs_epi16(q_hi, a_hi), s_hi));
        }
        acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
    }
    *out = _mm512_reduce_add_ps(acc);
}

// 64 bytes: the 5-bit quants of two Q5_0/Q5_1 blocks in element order (block a in bytes 0..31, b in 32..63).
SLM_TARGET_AVX512 static inline __m512i q5_pair(const uint8_t qs_a[16], const uint8_t qh_a[4], const uint8_t qs_b[16],
                                                const uint8_t qh_b[4]) {
    const __m128i m4 = _mm_set1_epi8(0x0f);
    const __m128i a = _mm_loadu_si128((const __m128i *)qs_a), b = _mm_loadu_si128((const __m128i *)qs_b);
    const __m256i nib_a = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(a, 4), m4), _mm_and_si128(a, m4));
    const __m256i nib_b = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m4), _mm_and_si128(b, m4));
    uint32_t ha, hb;
    memcpy(&ha, qh_a, 4);
    memcpy(&hb, qh_b, 4);
    const __mmask64 high = (__mmask64)ha | ((__mmask64)hb << 32);  // bit j = 5th bit of byte j
    const __m512i nib = _mm512_inserti64x4(_mm512_castsi256_si512(nib_a), nib_b, 1);
    return _mm512_mask_add_epi8(nib, high, nib, _mm512_set1_epi8(16));
}

// [a in f32 lanes 0..7, b in lanes 8..15]
SLM_TARGET_AVX512 static inline __m512 pair_ps(float a, float b) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(a)), _mm256_set1_ps(b), 1);
}

// Q5_1 x Q8_1, two blocks per step; an odd last block goes through the AVX2 kernel.
SLM_TARGET_AVX512 void slm_vec_dot_q5_1_q8_1_avx512(int64_t n, const void *restrict w, const void *restrict act,
                                                    float *restrict out) {
    const slm_block_q5_1 *x = w;
    const slm_block_q8_1 *y = act;
    const int64_t nb = n / SLM_QK5_1;
    const __m512i ones = _mm512_set1_epi16(1);
    __m512 acc = _mm512_setzero_ps();
    float summs = 0;
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        const __m512i q = q5_pair(x[i].qs, x[i].qh, x[i + 1].qs, x[i + 1].qh);
        const __m512i a = load_2x256(y[i].qs, y[i + 1].qs);
        const __m512i p = _mm512_madd_epi16(_mm512_maddubs_epi16(q, a), ones);
        const __m512 dd = pair_ps(half_to_float(x[i].d) * half_to_float(y[i].d), half_to_float(x[i + 1].d) * half_to_float(y[i + 1].d));
        acc = _mm512_fmadd_ps(dd, _mm512_cvtepi32_ps(p), acc);
        summs += half_to_float(x[i].m) * half_to_float(y[i].s) + half_to_float(x[i + 1].m) * half_to_float(y[i + 1].s);
    }
    float tail = 0;
    if (i < nb) slm_vec_dot_q5_1_q8_1_avx2(SLM_QK5_1, &x[i], &y[i], &tail);
    *out = _mm512_reduce_add_ps(acc) + summs + tail;
}

#endif  // SLM_HAVE_X86
