// AVX-512 (F/BW/VL/DQ, plus VNNI where present) versions of the integer dots, activation quantization and the f32/f16
// dots. Two 32-element blocks fill one zmm register; an odd last block runs at 256 bits. Everything else falls back
// to the AVX2 kernels (see slm_quants.c). Each integer block sum is exact; only float accumulation order differs.
#include "slm_internal.h"
#include "slm_quants_internal.h"

#if SLM_HAVE_X86
#include <immintrin.h>

#define SLM_RND (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)  // round half to even, as nearbyintf

SLM_TARGET_AVX512 static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

SLM_TARGET_AVX512 static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Blocks a (low 256 bits) and b (high 256 bits) of 32 bytes each.
SLM_TARGET_AVX512 static inline __m512i load2(const int8_t *a, const int8_t *b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a)),
                              _mm256_loadu_si256((const __m256i *)b), 1);
}

SLM_TARGET_AVX512 static inline __m256i nibbles256(const uint8_t *qs) {
    __m128i raw = _mm_loadu_si128((const __m128i *)qs);
    __m128i mask = _mm_set1_epi8(0x0f);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), mask), _mm_and_si128(raw, mask));
}

SLM_TARGET_AVX512 static inline __m512i nibbles2(const uint8_t *a, const uint8_t *b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(nibbles256(a)), nibbles256(b), 1);
}

// Scale d0 on the low 8 lanes (block a), d1 on the high 8 (block b).
SLM_TARGET_AVX512 static inline __m512 scales2(float d0, float d1) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(d0)), _mm256_set1_ps(d1), 1);
}

// u8 x s8 -> i32 sums of 4 products: maddubs + madd without VNNI, dpbusd with it.
SLM_TARGET_AVX512 static inline __m512i dot_u8_s8_bw(__m512i u, __m512i s) {
    return _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1));
}
SLM_TARGET_AVX512VNNI static inline __m512i dot_u8_s8_vnni(__m512i u, __m512i s) {
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, s);
}
SLM_TARGET_AVX512 static inline __m256i dot_u8_s8_bw256(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}
SLM_TARGET_AVX512VNNI static inline __m256i dot_u8_s8_vnni256(__m256i u, __m256i s) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
}

// Signed x signed: |x| as the unsigned operand, y negated where x < 0.
SLM_TARGET_AVX512 static inline __m512i abs_x(__m512i x) { return _mm512_abs_epi8(x); }
SLM_TARGET_AVX512 static inline __m512i sign_y(__m512i y, __m512i x) {
    return _mm512_mask_sub_epi8(y, _mm512_movepi8_mask(x), _mm512_setzero_si512(), y);
}

// One kernel body per dot flavour, instantiated with and without VNNI.
#define SLM_DEFINE_Q8_0_DOT(NAME, TARGET, DOT512, DOT256)                                                   \
    TARGET void NAME(int64_t n, const void *restrict w, const void *restrict a, float *restrict out) {        \
        const slm_block_q8_0 *x = w;                                                                          \
        const slm_block_q8_0 *y = a;                                                                          \
        __m512 acc = _mm512_setzero_ps();                                                                     \
        int64_t nb = n / SLM_QK8_0, i = 0;                                                                    \
        for (; i + 2 <= nb; i += 2) {                                                                         \
            __m512i qx = load2(x[i].qs, x[i + 1].qs), qy = load2(y[i].qs, y[i + 1].qs);                      \
            __m512 p = _mm512_cvtepi32_ps(DOT512(abs_x(qx), sign_y(qy, qx)));                                 \
            acc = _mm512_fmadd_ps(scales2(h2f(x[i].d) * h2f(y[i].d), h2f(x[i + 1].d) * h2f(y[i + 1].d)), p, acc); \
        }                                                                                                     \
        float s = _mm512_reduce_add_ps(acc);                                                                  \
        if (i < nb) {                                                                                         \
            __m256i qx = _mm256_loadu_si256((const __m256i *)x[i].qs);                                        \
            __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);                                        \
            __m256 p = _mm256_cvtepi32_ps(DOT256(_mm256_sign_epi8(qx, qx), _mm256_sign_epi8(qy, qx)));         \
            s += hsum256(p) * (h2f(x[i].d) * h2f(y[i].d));                                                    \
        }                                                                                                     \
        *out = s;                                                                                             \
    }

#define SLM_DEFINE_Q4_0_DOT(NAME, TARGET, DOT512, DOT256)                                                   \
    TARGET void NAME(int64_t n, const void *restrict w, const void *restrict a, float *restrict out) {        \
        const slm_block_q4_0 *x = w;                                                                          \
        const slm_block_q8_0 *y = a;                                                                          \
        __m512 acc = _mm512_setzero_ps();                                                                     \
        int64_t nb = n / SLM_QK4_0, i = 0;                                                                    \
        for (; i + 2 <= nb; i += 2) {                                                                         \
            __m512i qx = _mm512_sub_epi8(nibbles2(x[i].qs, x[i + 1].qs), _mm512_set1_epi8(8));                \
            __m512i qy = load2(y[i].qs, y[i + 1].qs);                                                         \
            __m512 p = _mm512_cvtepi32_ps(DOT512(abs_x(qx), sign_y(qy, qx)));                                 \
            acc = _mm512_fmadd_ps(scales2(h2f(x[i].d) * h2f(y[i].d), h2f(x[i + 1].d) * h2f(y[i + 1].d)), p, acc); \
        }                                                                                                     \
        float s = _mm512_reduce_add_ps(acc);                                                                  \
        if (i < nb) {                                                                                         \
            __m256i qx = _mm256_sub_epi8(nibbles256(x[i].qs), _mm256_set1_epi8(8));                           \
            __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);                                        \
            __m256 p = _mm256_cvtepi32_ps(DOT256(_mm256_sign_epi8(qx, qx), _mm256_sign_epi8(qy, qx)));         \
            s += hsum256(p) * (h2f(x[i].d) * h2f(y[i].d));                                                    \
        }                                                                                                     \
        *out = s;                                                                                             \
    }

// Q4_1 nibbles are already unsigned: they are the u8 operand directly. The minimum term is m * s per block.
#define SLM_DEFINE_Q4_1_DOT(NAME, TARGET, DOT512, DOT256)                                                   \
    TARGET void NAME(int64_t n, const void *restrict w, const void *restrict a, float *restrict out) {        \
        const slm_block_q4_1 *x = w;                                                                          \
        const slm_block_q8_1 *y = a;                                                                          \
        __m512 acc = _mm512_setzero_ps();                                                                     \
        float mins = 0;                                                                                       \
        int64_t nb = n / SLM_QK4_1, i = 0;                                                                    \
        for (; i + 2 <= nb; i += 2) {                                                                         \
            __m512i qx = nibbles2(x[i].qs, x[i + 1].qs);                                                      \
            __m512i qy = load2(y[i].qs, y[i + 1].qs);                                                         \
            __m512 p = _mm512_cvtepi32_ps(DOT512(qx, qy));                                                    \
            acc = _mm512_fmadd_ps(scales2(h2f(x[i].d) * h2f(y[i].d), h2f(x[i + 1].d) * h2f(y[i + 1].d)), p, acc); \
            mins += h2f(x[i].m) * h2f(y[i].s) + h2f(x[i + 1].m) * h2f(y[i + 1].s);                            \
        }                                                                                                     \
        float s = _mm512_reduce_add_ps(acc);                                                                  \
        if (i < nb) {                                                                                         \
            __m256i qy = _mm256_loadu_si256((const __m256i *)y[i].qs);                                        \
            __m256 p = _mm256_cvtepi32_ps(DOT256(nibbles256(x[i].qs), qy));                                   \
            s += hsum256(p) * (h2f(x[i].d) * h2f(y[i].d));                                                    \
            mins += h2f(x[i].m) * h2f(y[i].s);                                                                \
        }                                                                                                     \
        *out = s + mins;                                                                                      \
    }

SLM_DEFINE_Q8_0_DOT(slm_vec_dot_q8_0_q8_0_avx512, SLM_TARGET_AVX512, dot_u8_s8_bw, dot_u8_s8_bw256)
SLM_DEFINE_Q8_0_DOT(slm_vec_dot_q8_0_q8_0_avx512vnni, SLM_TARGET_AVX512VNNI, dot_u8_s8_vnni, dot_u8_s8_vnni256)
SLM_DEFINE_Q4_0_DOT(slm_vec_dot_q4_0_q8_0_avx512, SLM_TARGET_AVX512, dot_u8_s8_bw, dot_u8_s8_bw256)
SLM_DEFINE_Q4_0_DOT(slm_vec_dot_q4_0_q8_0_avx512vnni, SLM_TARGET_AVX512VNNI, dot_u8_s8_vnni, dot_u8_s8_vnni256)
SLM_DEFINE_Q4_1_DOT(slm_vec_dot_q4_1_q8_1_avx512, SLM_TARGET_AVX512, dot_u8_s8_bw, dot_u8_s8_bw256)
SLM_DEFINE_Q4_1_DOT(slm_vec_dot_q4_1_q8_1_avx512vnni, SLM_TARGET_AVX512VNNI, dot_u8_s8_vnni, dot_u8_s8_vnni256)

// ---- float dots, masked tails ----

SLM_TARGET_AVX512 static inline __mmask16 tail_mask(int64_t left) {
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
}

SLM_TARGET_AVX512 void slm_vec_dot_f32_avx512(int64_t n, const void *restrict w, const void *restrict a, float *restrict out) {
    const float *x = w, *y = a;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), s1);
    }
    for (; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, x + i), _mm512_maskz_loadu_ps(k, y + i), s0);
    }
    *out = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
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
