// AVX-512 (F/BW/VL/DQ) versions of the F16 dot and the 8-bit activation quantizers: the kernels of this family that
// beat their AVX2 versions (see slm_quants.c). The quantizers are bit-identical to the reference.
#include "slm_internal.h"
#include "slm_quants_internal.h"

#if SLM_HAVE_X86
#include <immintrin.h>

#define SLM_RND (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)  // round half to even, as nearbyintf

// ---- float dots, masked tails ----

SLM_TARGET_AVX512 static inline __mmask16 tail_mask(int64_t left) {
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
}

SLM_TARGET_AVX512 void slm_vec_dot_f16_avx512(int64_t n, const void *restrict w, const void *restrict a, float *restrict out) {
    const uint16_t *x = w;
    const float *y = a;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(x + i))), _mm512_loadu_ps(y + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(x + i + 16))), _mm512_loadu_ps(y + i + 16), s1);
    }
    for (; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        __m512 xv = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, x + i));
        s0 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(k, y + i), s0);
    }
    *out = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

// ---- activation quantization: bit-identical to the reference (same d, id and round-half-even) ----

SLM_TARGET_AVX512 static inline float quant_block_q8_avx512(const float *x, int8_t *q, int *sum) {
    __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
    float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    float d = amax / 127.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    __m512 mul = _mm512_set1_ps(id);

    __m512i i0 = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(v0, mul), SLM_RND));
    __m512i i1 = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(v1, mul), SLM_RND));
    if (sum) *sum = _mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1));
    _mm_storeu_si128((__m128i *)q, _mm512_cvtsepi32_epi8(i0));
    _mm_storeu_si128((__m128i *)(q + 16), _mm512_cvtsepi32_epi8(i1));
    return d;
}

SLM_TARGET_AVX512 void slm_quant_q8_0_avx512(const float *restrict src, void *restrict dst, int64_t n) {
    slm_block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / SLM_QK8_0; i++)
        b[i].d = slm_float_to_half(quant_block_q8_avx512(src + i * SLM_QK8_0, b[i].qs, NULL));
}

SLM_TARGET_AVX512 void slm_quant_q8_1_avx512(const float *restrict src, void *restrict dst, int64_t n) {
    slm_block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / SLM_QK8_1; i++) {
        int sum;
        float d = quant_block_q8_avx512(src + i * SLM_QK8_1, b[i].qs, &sum);
        b[i].d = slm_float_to_half(d);
        b[i].s = slm_float_to_half(d * (float)sum);
    }
}

#endif  // SLM_HAVE_X86
