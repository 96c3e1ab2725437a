// AVX2 + FMA + F16C kernels of the K-quant family and Q5_0/Q5_1 (twins of slm_kquants_ref.c; layouts described
// there). Integer products use maddubs (u8 x s8 -> pairs summed to i16) then madd (i16 x i16 -> pairs summed to i32);
// every bound is noted where it is used. Floats are touched once per block.
#include "slm_kquants_internal.h"

#if SLM_HAVE_X86
#include <immintrin.h>

// f16 -> f32 through vmovd + vcvtph2ps (clang compiles _cvtsh_ss to a vpinsrw merging into a live register, which
// can tie the block scale to the accumulator's dependency chain).
SLM_TARGET_AVX2 static inline float half_to_float(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

SLM_TARGET_AVX2 static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

SLM_TARGET_AVX2 static inline float hsum_ps128(__m128 s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// 32 bytes, byte j = 0xff if bit j of qh is set, else 0 (the 5th bits of a Q5_0/Q5_1 block in element order).
SLM_TARGET_AVX2 static inline __m256i q5_bit_mask(const uint8_t qh_bytes[4]) {
    uint32_t qh;
    memcpy(&qh, qh_bytes, 4);
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x(0x8040201008040201LL);
    const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), spread);  // byte j = byte j/8 of qh
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);                     // bit j%8 of it
}

// 32 bytes of element-ordered low nibbles of a Q4_0-style block (qs[j] & 15 for j < 16, then qs[j] >> 4).
SLM_TARGET_AVX2 static inline __m256i q5_low_nibbles(const uint8_t qs[16]) {
    const __m128i b = _mm_loadu_si128((const __m128i *)qs);
    const __m128i m4 = _mm_set1_epi8(0x0f);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m4), _mm_and_si128(b, m4));
}

// Q8_K quantize, bit-identical to slm_quant_q8_K_ref (same iscale, same round-half-even conversion).
SLM_TARGET_AVX2 void slm_quant_q8_K_avx2(const float *restrict src, void *restrict dst, int64_t n) {
    slm_block_q8_K *b = dst;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t i = 0; i < n / SLM_QK_K; i++) {
        const float *x = src + i * SLM_QK_K;
        __m256 vmax = _mm256_setzero_ps();
        for (int l = 0; l < SLM_QK_K; l += 8) vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + l)));
        __m128 m = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
        m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        m = _mm_max_ss(m, _mm_movehdup_ps(m));
        const float amax = _mm_cvtss_f32(m);
        if (amax == 0) {
            memset(&b[i], 0, sizeof b[i]);
            continue;
        }
        const float iscale = 127.0f / amax;
        b[i].d = 1.0f / iscale;
        const __m256 vs = _mm256_set1_ps(iscale);
        const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
        for (int k = 0; k < 16; k++) {
            __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + 16 * k)));
            __m256i c = _mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + 16 * k + 8)));
            a = _mm256_min_epi32(_mm256_max_epi32(a, lo), hi);
            c = _mm256_min_epi32(_mm256_max_epi32(c, lo), hi);
            // pack 16 i32 -> 16 i8 in order (packs work per 128-bit lane, so fix the lane order with a permute)
            __m256i p16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, c), 0xd8);
            __m128i p8 = _mm_packs_epi16(_mm256_castsi256_si128(p16), _mm256_extracti128_si256(p16, 1));
            _mm_storeu_si128((__m128i *)(b[i].qs + 16 * k), p8);
            __m256i s = _mm256_add_epi32(a, c);
            __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
            s4 = _mm_hadd_epi32(s4, s4);
            s4 = _mm_hadd_epi32(s4, s4);
            b[i].bsums[k] = (int16_t)_mm_cvtsi128_si32(s4);
        }
    }
}

// Q4_K x Q8_K. Per 64 elements: maddubs(q4 <= 15, q8 in [-127,127]) -> i16 <= 3810; madd with sub-block scale
// <= 63 -> i32. Mins: pairwise sums of bsums (16 -> 8 sub-block sums) madd with the 8 mins.
SLM_TARGET_AVX2 void slm_vec_dot_q4_K_q8_K_avx2(int64_t n, const void *restrict w, const void *restrict act,
                                                float *restrict out) {
    const slm_block_q4_K *x = w;
    const slm_block_q8_K *y = act;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_m = _mm_setzero_ps();
    for (int64_t i = 0; i < n / SLM_QK_K; i++) {
        uint8_t sc[8], mn[8];
        slm_k4_unpack_scales(x[i].scales, sc, mn);
        const float d = y[i].d * half_to_float(x[i].d), dmin = -y[i].d * half_to_float(x[i].dmin);

        const __m128i bs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)y[i].bsums),
                                          _mm_loadu_si128((const __m128i *)(y[i].bsums + 8)));  // 8 sub-block sums
        const __m128i mins = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)mn));
        acc_m = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(_mm_madd_epi16(mins, bs)), acc_m);

        const uint8_t *qs = x[i].qs;
        const int8_t *q8 = y[i].qs;
        __m256i sumi = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            const __m256i q4 = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
            const __m256i lo = _mm256_and_si256(q4, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4);
            const __m256i a0 = _mm256_loadu_si256((const __m256i *)(q8 + 64 * c));
            const __m256i a1 = _mm256_loadu_si256((const __m256i *)(q8 + 64 * c + 32));
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, a0), _mm256_set1_epi16(sc[2 * c]));
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, a1), _mm256_set1_epi16(sc[2 * c + 1]));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *out = hsum_ps(acc) + hsum_ps128(acc_m);
}

// Q5_K x Q8_K: as Q4_K with the 5th bit from qh (bit 2c for the low nibbles of chunk c, 2c+1 for the high);
// maddubs bound 31*127*2 = 7874.
SLM_TARGET_AVX2 void slm_vec_dot_q5_K_q8_K_avx2(int64_t n, const void *restrict w, const void *restrict act,
                                                float *restrict out) {
    const slm_block_q5_K *x = w;
    const slm_block_q8_K *y = act;
    const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_m = _mm_setzero_ps();
    for (int64_t i = 0; i < n / SLM_QK_K; i++) {
        uint8_t sc[8], mn[8];
        slm_k4_unpack_scales(x[i].scales, sc, mn);
        const float d = y[i].d * half_to_float(x[i].d), dmin = -y[i].d * half_to_float(x[i].dmin);

        const __m128i bs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)y[i].bsums),
                                          _mm_loadu_si128((const __m128i *)(y[i].bsums + 8)));
        const __m128i mins = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)mn));
        acc_m = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(_mm_madd_epi16(mins, bs)), acc_m);

        const uint8_t *qs = x[i].qs;
        const int8_t *q8 = y[i].qs;
        const __m256i qh = _mm256_loadu_si256((const __m256i *)x[i].qh);
        __m256i sumi = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            const __m256i q4 = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
            // shifting 16-bit lanes is safe: only bit 0 of each byte is kept
            const __m256i h0 = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c)), one);
            const __m256i h1 = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c + 1)), one);
            const __m256i lo = _mm256_or_si256(_mm256_and_si256(q4, m4), _mm256_slli_epi16(h0, 4));
            const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4, 4), m4), _mm256_slli_epi16(h1, 4));
            const __m256i a0 = _mm256_loadu_si256((const __m256i *)(q8 + 64 * c));
            const __m256i a1 = _mm256_loadu_si256((const __m256i *)(q8 + 64 * c + 32));
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, a0), _mm256_set1_epi16(sc[2 * c]));
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, a1), _mm256_set1_epi16(sc[2 * c + 1]));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *out = hsum_ps(acc) + hsum_ps128(acc_m);
}

// Q6_K x Q8_K: the unsigned quants q in [0, 63] are dotted directly (maddubs bound 63*127*2 = 16002) and the -32
// offset is removed once per block as 32 * sum_k scale_k * bsums_k (Q8_K's bsums cover the same 16 elements as a
// Q6_K scale).
SLM_TARGET_AVX2 void slm_vec_dot_q6_K_q8_K_avx2(int64_t n, const void *restrict w, const void *restrict act,
                                                float *restrict out) {
    const slm_block_q6_K *x = w;
    const slm_block_q8_K *y = act;
    const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(3);
    // for group g (32 elements = sub-blocks 2g, 2g+1): bytes 0..7 pick scale 2g, bytes 8..15 pick 2g+1
    __m128i pick[8];
    for (int g = 0; g < 8; g++) {
        pick[g] = _mm_set_epi64x(0x0101010101010101LL * (2 * g + 1), 0x0101010101010101LL * (2 * g));
    }
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / SLM_QK_K; i++) {
        const float d = y[i].d * half_to_float(x[i].d);
        const __m128i sc8 = _mm_loadu_si128((const __m128i *)x[i].scales);
        const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
        // offset term, in i32 lanes summed with the rest: each lane |32 * 2 * 128 * 2032| < 2^25
        __m256i sumi = _mm256_slli_epi32(_mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)y[i].bsums)), 5);
        sumi = _mm256_sub_epi32(_mm256_setzero_si256(), sumi);
        const int8_t *q8 = y[i].qs;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = x[i].ql + 64 * h, *qhp = x[i].qh + 32 * h;
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)qhp);
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
            for (int g = 0; g < 4; g++) {
                const __m256i a = _mm256_loadu_si256((const __m256i *)(q8 + 128 * h + 32 * g));
                const __m256i s = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, pick[4 * h + g]));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q[g], a), s));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *out = hsum_ps(acc);
}

// Q5_0 x Q8_0 is a register tile in slm_tiles_avx2.c.

// Integer dot of one Q5_1 block with one Q8_1 block as 8 i32 lanes: unsigned q in [0, 31] x signed q8 (maddubs
// bound 31*127*2).
SLM_TARGET_AVX2 static inline __m256i q5_1_block_dot(const slm_block_q5_1 *x, const slm_block_q8_1 *y) {
    const __m256i q = _mm256_or_si256(q5_low_nibbles(x->qs), _mm256_and_si256(q5_bit_mask(x->qh), _mm256_set1_epi8(0x10)));
    const __m256i a = _mm256_loadu_si256((const __m256i *)y->qs);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(q, a), _mm256_set1_epi16(1));
}

// Q5_1 x Q8_1: d * d8 * sum q a + m * s per block; two blocks per step into two accumulators.
SLM_TARGET_AVX2 void slm_vec_dot_q5_1_q8_1_avx2(int64_t n, const void *restrict w, const void *restrict act,
                                                float *restrict out) {
    const slm_block_q5_1 *x = w;
    const slm_block_q8_1 *y = act;
    const int64_t nb = n / SLM_QK5_1;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float summs = 0;
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        const __m256i p0 = q5_1_block_dot(&x[i], &y[i]), p1 = q5_1_block_dot(&x[i + 1], &y[i + 1]);
        const float d0 = half_to_float(x[i].d) * half_to_float(y[i].d);
        const float d1 = half_to_float(x[i + 1].d) * half_to_float(y[i + 1].d);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d1), _mm256_cvtepi32_ps(p1), acc1);
        summs += half_to_float(x[i].m) * half_to_float(y[i].s) + half_to_float(x[i + 1].m) * half_to_float(y[i + 1].s);
    }
    if (i < nb) {
        const float d = half_to_float(x[i].d) * half_to_float(y[i].d);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(q5_1_block_dot(&x[i], &y[i])), acc0);
        summs += half_to_float(x[i].m) * half_to_float(y[i].s);
    }
    *out = hsum_ps(_mm256_add_ps(acc0, acc1)) + summs;
}

#endif  // SLM_HAVE_X86
