// AVX-512 (F/BW/VL/DQ) versions of the element-wise and attention kernels: the AVX2 algorithms on 16 f32 lanes, with
// ragged tails through mask registers. The arithmetic matches slm_ops_avx2.c step for step (see its comments).
#include "slm_internal.h"
#include "slm_ops_impl.h"

#if SLM_HAVE_X86
#include <immintrin.h>

// Lanes [0, r) set, r in [0, 16].
static inline __mmask16 tail_mask16(int64_t r) { return (__mmask16)((1u << (unsigned)r) - 1u); }

// e^x to about 1 ulp; same reduction, polynomial and split 2^n scaling as exp8 in slm_ops_avx2.c.
SLM_TARGET_AVX512 static inline __m512 exp16(__m512 x) {
    const __mmask16 is_nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    const __m512 xc = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(89.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693147182464599609375f), xc);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-1.904654299957768e-09f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    const __m512i ni = _mm512_cvtps_epi32(n);
    const __m512i n1 = _mm512_srai_epi32(ni, 1);
    const __m512i n2 = _mm512_sub_epi32(ni, n1);
    const __m512i bias = _mm512_set1_epi32(127);
    const __m512 f1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n1, bias), 23));
    const __m512 f2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n2, bias), 23));
    const __m512 e = _mm512_mul_ps(_mm512_mul_ps(p, f1), f2);
    return _mm512_mask_blend_ps(is_nan, e, x);  // NaN lanes take x
}

SLM_TARGET_AVX512 static inline __m512 silu16(__m512 g) {
    const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), g));
    return _mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

SLM_TARGET_AVX512 static inline __m512 gelu16(__m512 g) {
    const __m512 g2 = _mm512_mul_ps(g, g);
    const __m512 inner = _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), g2, _mm512_set1_ps(1.0f));
    const __m512 m2u = _mm512_mul_ps(_mm512_mul_ps(g, inner), _mm512_set1_ps(-2.0f * 0.79788456080286535588f));
    return _mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), exp16(m2u)));
}

SLM_TARGET_AVX512 void slm_rmsnorm_avx512(const float *x, const float *w, float *y, int64_t n, float eps) {
    if (n <= 0) return;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512 x0 = _mm512_loadu_ps(x + i), x1 = _mm512_loadu_ps(x + i + 16);
        const __m512 x2 = _mm512_loadu_ps(x + i + 32), x3 = _mm512_loadu_ps(x + i + 48);
        a0 = _mm512_fmadd_ps(x0, x0, a0);
        a1 = _mm512_fmadd_ps(x1, x1, a1);
        a2 = _mm512_fmadd_ps(x2, x2, a2);
        a3 = _mm512_fmadd_ps(x3, x3, a3);
    }
    for (; i + 16 <= n; i += 16) {
        const __m512 xv = _mm512_loadu_ps(x + i);
        a0 = _mm512_fmadd_ps(xv, xv, a0);
    }
    if (i < n) {
        const __m512 xv = _mm512_maskz_loadu_ps(tail_mask16(n - i), x + i);
        a1 = _mm512_fmadd_ps(xv, xv, a1);
    }
    const double sumsq = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    const __m512 s = _mm512_set1_ps((float)(1.0 / sqrt(sumsq / (double)n + (double)eps)));
    for (i = 0; i + 16 <= n; i += 16) {
        __m512 yv = _mm512_mul_ps(_mm512_loadu_ps(x + i), s);
        if (w) yv = _mm512_mul_ps(yv, _mm512_loadu_ps(w + i));
        _mm512_storeu_ps(y + i, yv);
    }
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        __m512 yv = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), s);
        if (w) yv = _mm512_mul_ps(yv, _mm512_maskz_loadu_ps(m, w + i));
        _mm512_mask_storeu_ps(y + i, m, yv);
    }
}

SLM_TARGET_AVX512 void slm_rope_apply_avx512(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot,
                                             const float *cs, const float *sn, int neox) {
    if (n_rot > head_dim) n_rot = head_dim;
    if (n_rot > SLM_ROPE_MAX_ROT) {
        slm_rope_apply_ref(x, n_heads, head_dim, n_rot, cs, sn, neox);
        return;
    }
    const int64_t half = n_rot / 2;
    if (neox) {  // pairs (x[i], x[i + half])
        for (int64_t h = 0; h < n_heads; h++) {
            float *x0 = x + h * head_dim, *x1 = x0 + half;
            int64_t i = 0;
            for (; i + 16 <= half; i += 16) {
                const __m512 c = _mm512_loadu_ps(cs + i), s = _mm512_loadu_ps(sn + i);
                const __m512 a = _mm512_loadu_ps(x0 + i), b = _mm512_loadu_ps(x1 + i);
                _mm512_storeu_ps(x0 + i, _mm512_fmsub_ps(a, c, _mm512_mul_ps(b, s)));
                _mm512_storeu_ps(x1 + i, _mm512_fmadd_ps(a, s, _mm512_mul_ps(b, c)));
            }
            for (; i < half; i++) {
                const float a = x0[i], b = x1[i];
                x0[i] = a * cs[i] - b * sn[i];
                x1[i] = a * sn[i] + b * cs[i];
            }
        }
        return;
    }
    // Adjacent pairs: y = x * (c0, c0, c1, c1, ..) + swap_pairs(x) * (-s0, s0, -s1, s1, ..).
    float c2[SLM_ROPE_MAX_ROT], s2[SLM_ROPE_MAX_ROT];
    for (int64_t i = 0; i < half; i++) {
        c2[2 * i] = c2[2 * i + 1] = cs[i];
        s2[2 * i] = -sn[i];
        s2[2 * i + 1] = sn[i];
    }
    for (int64_t h = 0; h < n_heads; h++) {
        float *xh = x + h * head_dim;
        int64_t j = 0;
        for (; j + 16 <= 2 * half; j += 16) {
            const __m512 xv = _mm512_loadu_ps(xh + j);
            const __m512 sw = _mm512_permute_ps(xv, 0xB1);  // swaps neighbours within each 128-bit lane
            _mm512_storeu_ps(xh + j, _mm512_fmadd_ps(xv, _mm512_loadu_ps(c2 + j),
                                                     _mm512_mul_ps(sw, _mm512_loadu_ps(s2 + j))));
        }
        for (; j < 2 * half; j += 2) {
            const float a = xh[j], b = xh[j + 1];
            xh[j] = a * c2[j] - b * sn[j / 2];
            xh[j + 1] = a * sn[j / 2] + b * c2[j];
        }
    }
}

SLM_TARGET_AVX512 void slm_swiglu_avx512(const float *gate, const float *up, float *out, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(out + i, _mm512_mul_ps(silu16(_mm512_loadu_ps(gate + i)), _mm512_loadu_ps(up + i)));
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        const __m512 r = _mm512_mul_ps(silu16(_mm512_maskz_loadu_ps(m, gate + i)), _mm512_maskz_loadu_ps(m, up + i));
        _mm512_mask_storeu_ps(out + i, m, r);
    }
}

SLM_TARGET_AVX512 void slm_geglu_avx512(const float *gate, const float *up, float *out, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(out + i, _mm512_mul_ps(gelu16(_mm512_loadu_ps(gate + i)), _mm512_loadu_ps(up + i)));
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        const __m512 r = _mm512_mul_ps(gelu16(_mm512_maskz_loadu_ps(m, gate + i)), _mm512_maskz_loadu_ps(m, up + i));
        _mm512_mask_storeu_ps(out + i, m, r);
    }
}

SLM_TARGET_AVX512 void slm_softmax_avx512(float *x, int64_t n) {
    if (n <= 0) return;
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    __m512 mv = ninf;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) mv = _mm512_max_ps(mv, _mm512_loadu_ps(x + i));
    if (i < n) mv = _mm512_max_ps(mv, _mm512_mask_loadu_ps(ninf, tail_mask16(n - i), x + i));  // -inf past n
    const float max = _mm512_reduce_max_ps(mv);
    if (max == -INFINITY) {  // every entry is -inf: all-zero weights, as the reference
        for (i = 0; i < n; i++) x[i] = 0.0f;
        return;
    }
    const __m512 maxv = _mm512_set1_ps(max);
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    for (i = 0; i + 32 <= n; i += 32) {
        const __m512 e0 = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), maxv));
        const __m512 e1 = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), maxv));
        _mm512_storeu_ps(x + i, e0);
        _mm512_storeu_ps(x + i + 16, e1);
        s0 = _mm512_add_ps(s0, e0);
        s1 = _mm512_add_ps(s1, e1);
    }
    for (; i + 16 <= n; i += 16) {
        const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), maxv));
        _mm512_storeu_ps(x + i, e);
        s0 = _mm512_add_ps(s0, e);
    }
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        const __m512 e = exp16(_mm512_sub_ps(_mm512_mask_loadu_ps(ninf, m, x + i), maxv));  // 0 past n
        _mm512_mask_storeu_ps(x + i, m, e);
        s1 = _mm512_add_ps(s1, e);
    }
    const __m512 inv = _mm512_set1_ps((float)(1.0 / (double)_mm512_reduce_add_ps(_mm512_add_ps(s0, s1))));
    for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv));
    }
}

SLM_TARGET_AVX512 static inline __m512 load_h16(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

SLM_TARGET_AVX512 void slm_add_avx512(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(y + i), _mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, y + i), _mm512_maskz_loadu_ps(m, x + i)));
    }
}

SLM_TARGET_AVX512 void slm_scale_avx512(float *y, float s, int64_t n) {
    const __m512 sv = _mm512_set1_ps(s);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), sv));
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, y + i), sv));
    }
}

SLM_TARGET_AVX512 void slm_fp32_to_fp16_row_avx512(const float *x, uint16_t *y, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(y + i), _mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) y[i] = slm_float_to_half(x[i]);
}

SLM_TARGET_AVX512 void slm_fp16_to_fp32_row_avx512(const uint16_t *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, load_h16(x + i));
    for (; i < n; i++) y[i] = slm_half_to_float(x[i]);
}

#endif  // SLM_HAVE_X86
