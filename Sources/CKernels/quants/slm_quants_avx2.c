// AVX2 + FMA + F16C versions of the basic-type kernels (twins of the _ref functions in slm_quants.c).
// Integer dots: 32 int8 products per block via maddubs (u8 x s8 -> pairs of i16) then madd (-> i32), so each
// block's integer sum is exact and only the float accumulation order differs from the reference.
#include "slm_internal.h"
#include "slm_quants_internal.h"

#if SLM_HAVE_X86
#include <immintrin.h>

#define SLM_RND (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)  // round half to even, as nearbyintf

SLM_TARGET_AVX2 static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

SLM_TARGET_AVX2 static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

// 16 bytes of nibbles -> 32 bytes: low nibbles are elements 0..15 (low lane), high nibbles 16..31 (high lane).
SLM_TARGET_AVX2 static inline __m256i nibbles_to_bytes(const uint8_t *qs) {
    __m128i raw = _mm_loadu_si128((const __m128i *)qs);
    __m128i mask = _mm_set1_epi8(0x0f);
    __m128i lo = _mm_and_si128(raw, mask);
    __m128i hi = _mm_and_si128(_mm_srli_epi16(raw, 4), mask);
    return _mm256_set_m128i(hi, lo);
}

// ---- floats ----

void slm_dequant_f32_avx2(const void *restrict src, float *restrict dst, int64_t n) { slm_dequant_f32_ref(src, dst, n); }

SLM_TARGET_AVX2 void slm_dequant_f16_avx2(const void *restrict src, float *restrict dst, int64_t n) {
    const uint16_t *h = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    for (; i < n; i++) dst[i] = h2f(h[i]);
}

SLM_TARGET_AVX2 static inline __m256 bf16x8(const uint16_t *p) {
    __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

SLM_TARGET_AVX2 void slm_dequant_bf16_avx2(const void *restrict src, float *restrict dst, int64_t n) {
    const uint16_t *h = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, bf16x8(h + i));
    for (; i < n; i++) dst[i] = slm_bf16_to_float_inline(h[i]);
}

SLM_TARGET_AVX2 void slm_vec_dot_f32_avx2(int64_t n, const void *restrict w, const void *restrict a, float *restrict out) {
    const float *x = w, *y = a;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), s0);
    float s = hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) s += x[i] * y[i];
    *out = s;
}

SLM_TARGET_AVX2 void slm_vec_dot_f16_avx2(int64_t n, const void *restrict w, const void *restrict a, float *restrict out) {
    const uint16_t *x = w;
    const float *y = a;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))), _mm256_loadu_ps(y + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i + 8))), _mm256_loadu_ps(y + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))), _mm256_loadu_ps(y + i), s0);
    float s = hsum_ps(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += h2f(x[i]) * y[i];
    *out = s;
}

SLM_TARGET_AVX2 void slm_vec_dot_bf16_avx2(int64_t n, const void *restrict w, const void *restrict a, float *restrict out) {
    const uint16_t *x = w;
    const float *y = a;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(bf16x8(x + i), _mm256_loadu_ps(y + i), s0);
        s1 = _mm256_fmadd_ps(bf16x8(x + i + 8), _mm256_loadu_ps(y + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(bf16x8(x + i), _mm256_loadu_ps(y + i), s0);
    float s = hsum_ps(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += slm_bf16_to_float_inline(x[i]) * y[i];
    *out = s;
}

// ---- dequantize ----

// 32 signed bytes times d plus m into dst[0..32). Multiply then add (not fma), rounding as the reference does, so
// dequantization is bit-identical across ISAs.
SLM_TARGET_AVX2 static inline __m256 scale8(__m128i q8, __m256 d, __m256 m) {
    return _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8)), d), m);
}
SLM_TARGET_AVX2 static inline void store_i8x32(__m256i q, __m256 d, __m256 m, float *dst) {
    __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    _mm256_storeu_ps(dst + 0, scale8(lo, d, m));
    _mm256_storeu_ps(dst + 8, scale8(_mm_srli_si128(lo, 8), d, m));
    _mm256_storeu_ps(dst + 16, scale8(hi, d, m));
    _mm256_storeu_ps(dst + 24, scale8(_mm_srli_si128(hi, 8), d, m));
}

SLM_TARGET_AVX2 void slm_dequant_q4_0_avx2(const void *restrict src, float *restrict dst, int64_t n) {
    const slm_block_q4_0 *b = src;
    __m256 zero = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / SLM_QK4_0; i++) {
        __m256i q = _mm256_sub_epi8(nibbles_to_bytes(b[i].qs), _mm256_set1_epi8(8));
        store_i8x32(q, _mm256_set1_ps(h2f(b[i].d)), zero, dst + i * SLM_QK4_0);
    }
}

SLM_TARGET_AVX2 void slm_dequant_q4_1_avx2(const void *restrict src, float *restrict dst, int64_t n) {
    const slm_block_q4_1 *b = src;
    for (int64_t i = 0; i < n / SLM_QK4_1; i++) {  // nibbles are 0..15, so reading them as signed bytes is exact
        store_i8x32(nibbles_to_bytes(b[i].qs), _mm256_set1_ps(h2f(b[i].d)), _mm256_set1_ps(h2f(b[i].m)),
                    dst + i * SLM_QK4_1);
    }
}

SLM_TARGET_AVX2 void slm_dequant_q8_0_avx2(const void *restrict src, float *restrict dst, int64_t n) {
    const slm_block_q8_0 *b = src;
    __m256 zero = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / SLM_QK8_0; i++)
        store_i8x32(_mm256_loadu_si256((const __m256i *)b[i].qs), _mm256_set1_ps(h2f(b[i].d)), zero, dst + i * SLM_QK8_0);
}

SLM_TARGET_AVX2 void slm_dequant_q8_1_avx2(const void *restrict src, float *restrict dst, int64_t n) {
    const slm_block_q8_1 *b = src;
    __m256 zero = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / SLM_QK8_1; i++)
        store_i8x32(_mm256_loadu_si256((const __m256i *)b[i].qs), _mm256_set1_ps(h2f(b[i].d)), zero, dst + i * SLM_QK8_1);
}

// ---- quantize activations: bit-identical to quant_block_q8 in slm_quants.c (same d, id, round-half-even) ----

SLM_TARGET_AVX2 static inline float quant_block_q8_avx2(const float *x, int8_t *q, int *sum) {
    __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8), v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
    __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 amax = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                                _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    float d = _mm_cvtss_f32(m) / 127.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    __m256 mul = _mm256_set1_ps(id);

    __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, mul), SLM_RND));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, mul), SLM_RND));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, mul), SLM_RND));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, mul), SLM_RND));
    if (sum) {
        __m256i s = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        s4 = _mm_hadd_epi32(s4, s4);
        s4 = _mm_hadd_epi32(s4, s4);
        *sum = _mm_cvtsi128_si32(s4);
    }
    // packs work per 128-bit lane: the bytes come out as dwords [i0lo i1lo i2lo i3lo i0hi i1hi i2hi i3hi].
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)q, p);
    return d;
}

SLM_TARGET_AVX2 float slm_quant_block_q8_avx2(const float *restrict x, int8_t *restrict q, int *restrict sum) {
    return quant_block_q8_avx2(x, q, sum);
}

SLM_TARGET_AVX2 void slm_quant_q8_0_avx2(const float *restrict src, void *restrict dst, int64_t n) {
    slm_block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / SLM_QK8_0; i++)
        b[i].d = slm_float_to_half(quant_block_q8_avx2(src + i * SLM_QK8_0, b[i].qs, NULL));
}

SLM_TARGET_AVX2 void slm_quant_q8_1_avx2(const float *restrict src, void *restrict dst, int64_t n) {
    slm_block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / SLM_QK8_1; i++) {
        int sum;
        float d = quant_block_q8_avx2(src + i * SLM_QK8_1, b[i].qs, &sum);
        b[i].d = slm_float_to_half(d);
        b[i].s = slm_float_to_half(d * (float)sum);
    }
}

// The quantized dots (Q4_0, Q4_1, Q8_0) are register tiles in slm_tiles_avx2.c.

#endif  // SLM_HAVE_X86
