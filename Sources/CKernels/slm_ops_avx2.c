// AVX2 + FMA + F16C versions of the element-wise and attention kernels (8 f32 lanes). Ragged tails use masked
// loads/stores so that every element goes through the same arithmetic as the body.
#include "slm_internal.h"
#include "slm_ops_impl.h"

#if SLM_HAVE_X86
#include <immintrin.h>

// Lanes [0, r) set, r in [0, 8].
SLM_TARGET_AVX2 static inline __m256i tail_mask8(int64_t r) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

SLM_TARGET_AVX2 static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

// [sum(a), sum(b), sum(c), sum(d)]
SLM_TARGET_AVX2 static inline __m128 hsum8x4(__m256 a, __m256 b, __m256 c, __m256 d) {
    const __m256 ab = _mm256_hadd_ps(a, b);    // a01 a23 b01 b23 | a45 a67 b45 b67
    const __m256 cd = _mm256_hadd_ps(c, d);    // c01 c23 d01 d23 | c45 c67 d45 d67
    const __m256 abcd = _mm256_hadd_ps(ab, cd);  // a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7
    return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

// e^x to about 1 ulp. x = n ln2 + r with |r| <= ln2/2; e^r by its degree-7 Taylor polynomial (truncation error
// < 6e-9 relative); 2^n applied as two factors 2^(n>>1) 2^(n - (n>>1)) so that n in [-150, 128] needs no special
// case: results below the normal range round once into subnormals or 0, those above FLT_MAX become +inf.
// -inf gives 0, +inf gives +inf, NaN stays NaN.
SLM_TARGET_AVX2 static inline __m256 exp8(__m256 x) {
    const __m256 is_nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    const __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-104.0f)), _mm256_set1_ps(89.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    // ln2 split in two floats: n * ln2_hi is exact inside the FMA, ln2_lo carries the rest.
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693147182464599609375f), xc);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-1.904654299957768e-09f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i n1 = _mm256_srai_epi32(ni, 1);
    const __m256i n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 f1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const __m256 f2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    const __m256 e = _mm256_mul_ps(_mm256_mul_ps(p, f1), f2);
    return _mm256_blendv_ps(e, x, is_nan);
}

// silu(g) = g / (1 + e^-g)
SLM_TARGET_AVX2 static inline __m256 silu8(__m256 g) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
    return _mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

// gelu(g) = 0.5 g (1 + tanh(u)) = g / (1 + e^(-2u)), u = sqrt(2/pi) (g + 0.044715 g^3); the second form is the same
// function without the cancellation of 1 + tanh(u) for negative g.
SLM_TARGET_AVX2 static inline __m256 gelu8(__m256 g) {
    const __m256 g2 = _mm256_mul_ps(g, g);
    const __m256 inner = _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), g2, _mm256_set1_ps(1.0f));
    const __m256 m2u = _mm256_mul_ps(_mm256_mul_ps(g, inner), _mm256_set1_ps(-2.0f * 0.79788456080286535588f));
    return _mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), exp8(m2u)));
}

SLM_TARGET_AVX2 void slm_rmsnorm_avx2(const float *x, const float *w, float *y, int64_t n, float eps) {
    if (n <= 0) return;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
        const __m256 x2 = _mm256_loadu_ps(x + i + 16), x3 = _mm256_loadu_ps(x + i + 24);
        a0 = _mm256_fmadd_ps(x0, x0, a0);
        a1 = _mm256_fmadd_ps(x1, x1, a1);
        a2 = _mm256_fmadd_ps(x2, x2, a2);
        a3 = _mm256_fmadd_ps(x3, x3, a3);
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 xv = _mm256_loadu_ps(x + i);
        a0 = _mm256_fmadd_ps(xv, xv, a0);
    }
    if (i < n) {
        const __m256 xv = _mm256_maskload_ps(x + i, tail_mask8(n - i));
        a1 = _mm256_fmadd_ps(xv, xv, a1);
    }
    const double sumsq = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    const __m256 s = _mm256_set1_ps((float)(1.0 / sqrt(sumsq / (double)n + (double)eps)));
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 yv = _mm256_mul_ps(_mm256_loadu_ps(x + i), s);
        if (w) yv = _mm256_mul_ps(yv, _mm256_loadu_ps(w + i));
        _mm256_storeu_ps(y + i, yv);
    }
    if (i < n) {
        const __m256i m = tail_mask8(n - i);
        __m256 yv = _mm256_mul_ps(_mm256_maskload_ps(x + i, m), s);
        if (w) yv = _mm256_mul_ps(yv, _mm256_maskload_ps(w + i, m));
        _mm256_maskstore_ps(y + i, m, yv);
    }
}

SLM_TARGET_AVX2 void slm_rope_avx2(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos,
                                   float freq_base, int neox) {
    if (n_rot > head_dim) n_rot = head_dim;
    if (n_rot > SLM_ROPE_MAX_ROT) {
        slm_rope_ref(x, n_heads, head_dim, n_rot, pos, freq_base, neox);
        return;
    }
    const int64_t half = n_rot / 2;
    float cs[SLM_ROPE_MAX_ROT / 2], sn[SLM_ROPE_MAX_ROT / 2];
    slm_rope_angles(n_rot, pos, freq_base, cs, sn);  // once per call, shared by every head
    if (neox) {  // pairs (x[i], x[i + half])
        for (int64_t h = 0; h < n_heads; h++) {
            float *x0 = x + h * head_dim, *x1 = x0 + half;
            int64_t i = 0;
            for (; i + 8 <= half; i += 8) {
                const __m256 c = _mm256_loadu_ps(cs + i), s = _mm256_loadu_ps(sn + i);
                const __m256 a = _mm256_loadu_ps(x0 + i), b = _mm256_loadu_ps(x1 + i);
                _mm256_storeu_ps(x0 + i, _mm256_fmsub_ps(a, c, _mm256_mul_ps(b, s)));
                _mm256_storeu_ps(x1 + i, _mm256_fmadd_ps(a, s, _mm256_mul_ps(b, c)));
            }
            for (; i < half; i++) {
                const float a = x0[i], b = x1[i];
                x0[i] = a * cs[i] - b * sn[i];
                x1[i] = a * sn[i] + b * cs[i];
            }
        }
        return;
    }
    // Adjacent pairs (x[2i], x[2i+1]): with c2 = (c0, c0, c1, c1, ..) and s2 = (-s0, s0, -s1, s1, ..),
    // y = x * c2 + swap_pairs(x) * s2.
    float c2[SLM_ROPE_MAX_ROT], s2[SLM_ROPE_MAX_ROT];
    for (int64_t i = 0; i < half; i++) {
        c2[2 * i] = c2[2 * i + 1] = cs[i];
        s2[2 * i] = -sn[i];
        s2[2 * i + 1] = sn[i];
    }
    for (int64_t h = 0; h < n_heads; h++) {
        float *xh = x + h * head_dim;
        int64_t j = 0;
        for (; j + 8 <= 2 * half; j += 8) {
            const __m256 xv = _mm256_loadu_ps(xh + j);
            const __m256 sw = _mm256_permute_ps(xv, 0xB1);  // (x1, x0, x3, x2, ..)
            _mm256_storeu_ps(xh + j, _mm256_fmadd_ps(xv, _mm256_loadu_ps(c2 + j),
                                                     _mm256_mul_ps(sw, _mm256_loadu_ps(s2 + j))));
        }
        for (; j < 2 * half; j += 2) {
            const float a = xh[j], b = xh[j + 1];
            xh[j] = a * c2[j] - b * sn[j / 2];
            xh[j + 1] = a * sn[j / 2] + b * c2[j];
        }
    }
}

SLM_TARGET_AVX2 void slm_swiglu_avx2(const float *gate, const float *up, float *out, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_mul_ps(silu8(_mm256_loadu_ps(gate + i)), _mm256_loadu_ps(up + i)));
    if (i < n) {
        const __m256i m = tail_mask8(n - i);
        const __m256 r = _mm256_mul_ps(silu8(_mm256_maskload_ps(gate + i, m)), _mm256_maskload_ps(up + i, m));
        _mm256_maskstore_ps(out + i, m, r);
    }
}

SLM_TARGET_AVX2 void slm_geglu_avx2(const float *gate, const float *up, float *out, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_mul_ps(gelu8(_mm256_loadu_ps(gate + i)), _mm256_loadu_ps(up + i)));
    if (i < n) {
        const __m256i m = tail_mask8(n - i);
        const __m256 r = _mm256_mul_ps(gelu8(_mm256_maskload_ps(gate + i, m)), _mm256_maskload_ps(up + i, m));
        _mm256_maskstore_ps(out + i, m, r);
    }
}

SLM_TARGET_AVX2 void slm_softmax_avx2(float *x, int64_t n) {
    if (n <= 0) return;
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 mv = ninf;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(x + i));
    if (i < n) {
        const __m256i m = tail_mask8(n - i);
        mv = _mm256_max_ps(mv, _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + i, m), _mm256_castsi256_ps(m)));
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
    const float max = _mm_cvtss_f32(m4);
    if (max == -INFINITY) {  // every entry is -inf: all-zero weights, as the reference
        for (i = 0; i < n; i++) x[i] = 0.0f;
        return;
    }
    const __m256 maxv = _mm256_set1_ps(max);
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    for (i = 0; i + 16 <= n; i += 16) {
        const __m256 e0 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), maxv));
        const __m256 e1 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), maxv));
        _mm256_storeu_ps(x + i, e0);
        _mm256_storeu_ps(x + i + 8, e1);
        s0 = _mm256_add_ps(s0, e0);
        s1 = _mm256_add_ps(s1, e1);
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), maxv));
        _mm256_storeu_ps(x + i, e);
        s0 = _mm256_add_ps(s0, e);
    }
    if (i < n) {
        const __m256i m = tail_mask8(n - i);
        const __m256 e = _mm256_and_ps(exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), maxv)), _mm256_castsi256_ps(m));
        _mm256_maskstore_ps(x + i, m, e);
        s1 = _mm256_add_ps(s1, e);
    }
    const __m256 inv = _mm256_set1_ps((float)(1.0 / (double)hsum8(_mm256_add_ps(s0, s1))));
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
    if (i < n) {
        const __m256i m = tail_mask8(n - i);
        _mm256_maskstore_ps(x + i, m, _mm256_mul_ps(_mm256_maskload_ps(x + i, m), inv));
    }
}

SLM_TARGET_AVX2 static inline __m256 load_h8(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

SLM_TARGET_AVX2 void slm_attn_head_avx2(const float *q, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                                        int64_t p_begin, int64_t p_end, int64_t head_dim, float scale, float *out) {
    if (head_dim <= 0 || head_dim % 8 != 0 || head_dim > SLM_ATTN_MAX_HEAD_DIM) {
        slm_attn_head_ref(q, k, v, kv_stride, p_begin, p_end, head_dim, scale, out);
        return;
    }
    const int64_t D = head_dim;
    if (p_end <= p_begin) {
        for (int64_t d = 0; d < D; d++) out[d] = 0.0f;
        return;
    }
    // Online softmax over blocks of positions: acc = sum_p e^(s_p - m) v_p and l = sum_p e^(s_p - m) for the running
    // maximum m, both rescaled by e^(m_old - m_new) when a block raises m. Scores of one block live in sc.
    float acc[SLM_ATTN_MAX_HEAD_DIM] __attribute__((aligned(32)));
    float sc[SLM_ATTN_BLOCK + 8] __attribute__((aligned(32)));
    for (int64_t d = 0; d < D; d += 8) _mm256_store_ps(acc + d, _mm256_setzero_ps());
    const __m128 scale4 = _mm_set1_ps(scale);
    float m = -INFINITY, l = 0.0f;
    for (int64_t b0 = p_begin; b0 < p_end; b0 += SLM_ATTN_BLOCK) {
        const int64_t nb = SLM_MIN((int64_t)SLM_ATTN_BLOCK, p_end - b0);
        const uint16_t *kb = k + b0 * kv_stride;
        const uint16_t *vb = v + b0 * kv_stride;
        // scores, four positions at a time
        int64_t j = 0;
        for (; j + 4 <= nb; j += 4) {
            const uint16_t *k0 = kb + j * kv_stride, *k1 = k0 + kv_stride, *k2 = k1 + kv_stride, *k3 = k2 + kv_stride;
            __m256 d0 = _mm256_setzero_ps(), d1 = _mm256_setzero_ps(), d2 = _mm256_setzero_ps(),
                   d3 = _mm256_setzero_ps();
            for (int64_t d = 0; d < D; d += 8) {
                const __m256 qv = _mm256_loadu_ps(q + d);
                d0 = _mm256_fmadd_ps(qv, load_h8(k0 + d), d0);
                d1 = _mm256_fmadd_ps(qv, load_h8(k1 + d), d1);
                d2 = _mm256_fmadd_ps(qv, load_h8(k2 + d), d2);
                d3 = _mm256_fmadd_ps(qv, load_h8(k3 + d), d3);
            }
            _mm_storeu_ps(sc + j, _mm_mul_ps(hsum8x4(d0, d1, d2, d3), scale4));
        }
        for (; j < nb; j++) {
            const uint16_t *k0 = kb + j * kv_stride;
            __m256 d0 = _mm256_setzero_ps();
            for (int64_t d = 0; d < D; d += 8) d0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), load_h8(k0 + d), d0);
            sc[j] = hsum8(d0) * scale;
        }
        float bm = sc[0];
        for (j = 1; j < nb; j++) bm = sc[j] > bm ? sc[j] : bm;
        if (bm > m) {
            const float r = expf(m - bm);  // m = -inf (first block) gives 0
            const __m256 rv = _mm256_set1_ps(r);
            for (int64_t d = 0; d < D; d += 8) _mm256_store_ps(acc + d, _mm256_mul_ps(_mm256_load_ps(acc + d), rv));
            l *= r;
            m = bm;
        }
        // weights e^(s - m); padding lanes are -inf and give 0
        const int64_t nb8 = (nb + 7) & ~(int64_t)7;
        for (j = nb; j < nb8; j++) sc[j] = -INFINITY;
        const __m256 mv = _mm256_set1_ps(m);
        __m256 lv = _mm256_setzero_ps();
        for (j = 0; j < nb8; j += 8) {
            const __m256 e = exp8(_mm256_sub_ps(_mm256_load_ps(sc + j), mv));
            _mm256_store_ps(sc + j, e);
            lv = _mm256_add_ps(lv, e);
        }
        l += hsum8(lv);
        // acc += sum_j e_j v_j, four positions per pass over acc
        for (j = 0; j + 4 <= nb; j += 4) {
            const uint16_t *v0 = vb + j * kv_stride, *v1 = v0 + kv_stride, *v2 = v1 + kv_stride, *v3 = v2 + kv_stride;
            const __m256 e0 = _mm256_set1_ps(sc[j]), e1 = _mm256_set1_ps(sc[j + 1]);
            const __m256 e2 = _mm256_set1_ps(sc[j + 2]), e3 = _mm256_set1_ps(sc[j + 3]);
            for (int64_t d = 0; d < D; d += 8) {
                __m256 a = _mm256_load_ps(acc + d);
                a = _mm256_fmadd_ps(e0, load_h8(v0 + d), a);
                a = _mm256_fmadd_ps(e1, load_h8(v1 + d), a);
                a = _mm256_fmadd_ps(e2, load_h8(v2 + d), a);
                a = _mm256_fmadd_ps(e3, load_h8(v3 + d), a);
                _mm256_store_ps(acc + d, a);
            }
        }
        for (; j < nb; j++) {
            const uint16_t *v0 = vb + j * kv_stride;
            const __m256 e0 = _mm256_set1_ps(sc[j]);
            for (int64_t d = 0; d < D; d += 8)
                _mm256_store_ps(acc + d, _mm256_fmadd_ps(e0, load_h8(v0 + d), _mm256_load_ps(acc + d)));
        }
    }
    const __m256 inv = _mm256_set1_ps(1.0f / l);
    for (int64_t d = 0; d < D; d += 8) _mm256_storeu_ps(out + d, _mm256_mul_ps(_mm256_load_ps(acc + d), inv));
}

SLM_TARGET_AVX2 void slm_add_avx2(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] += x[i];
}

SLM_TARGET_AVX2 void slm_scale_avx2(float *y, float s, int64_t n) {
    const __m256 sv = _mm256_set1_ps(s);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), sv));
    for (; i < n; i++) y[i] *= s;
}

SLM_TARGET_AVX2 void slm_fp32_to_fp16_row_avx2(const float *x, uint16_t *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) y[i] = slm_float_to_half(x[i]);
}

SLM_TARGET_AVX2 void slm_fp16_to_fp32_row_avx2(const uint16_t *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, load_h8(x + i));
    for (; i < n; i++) y[i] = slm_half_to_float(x[i]);
}

// Grouped-query attention for one token: the g <= SLM_ATTN_GROUP_MAX query heads that share one kv head (q: g rows of
// head_dim, out likewise), in one pass over K and V: each K and V row is loaded and converted from f16 once for all g
// heads. Same online softmax as slm_attn_head_avx2; scores of one position for up to 4 heads are reduced together.
SLM_TARGET_AVX2 void slm_attn_group_avx2(const float *q, int64_t g, const uint16_t *k, const uint16_t *v,
                                         int64_t kv_stride, int64_t p_begin, int64_t p_end, int64_t head_dim,
                                         float scale, float *out) {
    const int64_t D = head_dim;
    if (D <= 0 || D % 8 != 0 || D > SLM_ATTN_GROUP_MAX_DIM) {  // depends on the model only, never on the split
        for (int64_t h = 0; h < g; h++) slm_attn_head_avx2(q + h * D, k, v, kv_stride, p_begin, p_end, D, scale, out + h * D);
        return;
    }
    if (g > SLM_ATTN_GROUP_MAX) {  // the same per-head operations in several passes
        for (int64_t h = 0; h < g; h += SLM_ATTN_GROUP_MAX)
            slm_attn_group_avx2(q + h * D, SLM_MIN((int64_t)SLM_ATTN_GROUP_MAX, g - h), k, v, kv_stride, p_begin, p_end,
                                D, scale, out + h * D);
        return;
    }
    if (g < 1) return;
    if (p_end <= p_begin) {
        for (int64_t d = 0; d < g * D; d++) out[d] = 0.0f;
        return;
    }
    float acc[SLM_ATTN_GROUP_MAX * SLM_ATTN_GROUP_MAX_DIM] __attribute__((aligned(32)));
    float sc[SLM_ATTN_GROUP_MAX][SLM_ATTN_BLOCK + 8] __attribute__((aligned(32)));
    float m[SLM_ATTN_GROUP_MAX], l[SLM_ATTN_GROUP_MAX];
    for (int64_t d = 0; d < g * D; d += 8) _mm256_store_ps(acc + d, _mm256_setzero_ps());
    for (int64_t h = 0; h < g; h++) m[h] = -INFINITY, l[h] = 0.0f;
    const __m128 scale4 = _mm_set1_ps(scale);
    for (int64_t b0 = p_begin; b0 < p_end; b0 += SLM_ATTN_BLOCK) {
        const int64_t nb = SLM_MIN((int64_t)SLM_ATTN_BLOCK, p_end - b0);
        const uint16_t *kb = k + b0 * kv_stride;
        const uint16_t *vb = v + b0 * kv_stride;
        // scores: heads in groups of 4 times two positions, each K chunk converted once for the group's heads
        for (int64_t h0 = 0; h0 < g; h0 += 4) {
            const int64_t gh = SLM_MIN((int64_t)4, g - h0);
            const float *q0 = q + h0 * D, *q1 = q0 + (gh > 1 ? D : 0), *q2 = q0 + (gh > 2 ? 2 * D : 0),
                        *q3 = q0 + (gh > 3 ? 3 * D : 0);
            int64_t j = 0;
            for (; j + 2 <= nb; j += 2) {
                const uint16_t *ka = kb + j * kv_stride, *kc = ka + kv_stride;
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
                for (int64_t d = 0; d < D; d += 8) {
                    const __m256 x = load_h8(ka + d), y = load_h8(kc + d);
                    __m256 qv = _mm256_loadu_ps(q0 + d);
                    a0 = _mm256_fmadd_ps(qv, x, a0), c0 = _mm256_fmadd_ps(qv, y, c0);
                    qv = _mm256_loadu_ps(q1 + d);
                    a1 = _mm256_fmadd_ps(qv, x, a1), c1 = _mm256_fmadd_ps(qv, y, c1);
                    qv = _mm256_loadu_ps(q2 + d);
                    a2 = _mm256_fmadd_ps(qv, x, a2), c2 = _mm256_fmadd_ps(qv, y, c2);
                    qv = _mm256_loadu_ps(q3 + d);
                    a3 = _mm256_fmadd_ps(qv, x, a3), c3 = _mm256_fmadd_ps(qv, y, c3);
                }
                float s4[8];
                _mm_storeu_ps(s4, _mm_mul_ps(hsum8x4(a0, a1, a2, a3), scale4));
                _mm_storeu_ps(s4 + 4, _mm_mul_ps(hsum8x4(c0, c1, c2, c3), scale4));
                for (int64_t i = 0; i < gh; i++) sc[h0 + i][j] = s4[i], sc[h0 + i][j + 1] = s4[4 + i];
            }
            for (; j < nb; j++) {
                const uint16_t *kr = kb + j * kv_stride;
                __m256 d0 = _mm256_setzero_ps(), d1 = d0, d2 = d0, d3 = d0;
                for (int64_t d = 0; d < D; d += 8) {
                    const __m256 kv = load_h8(kr + d);
                    d0 = _mm256_fmadd_ps(_mm256_loadu_ps(q0 + d), kv, d0);
                    d1 = _mm256_fmadd_ps(_mm256_loadu_ps(q1 + d), kv, d1);
                    d2 = _mm256_fmadd_ps(_mm256_loadu_ps(q2 + d), kv, d2);
                    d3 = _mm256_fmadd_ps(_mm256_loadu_ps(q3 + d), kv, d3);
                }
                float s4[4];
                _mm_storeu_ps(s4, _mm_mul_ps(hsum8x4(d0, d1, d2, d3), scale4));
                for (int64_t i = 0; i < gh; i++) sc[h0 + i][j] = s4[i];
            }
        }
        // per head: raise the running maximum, turn scores into weights
        const int64_t nb8 = (nb + 7) & ~(int64_t)7;
        for (int64_t h = 0; h < g; h++) {
            float *sh = sc[h], bm = sh[0];
            for (int64_t j = 1; j < nb; j++) bm = sh[j] > bm ? sh[j] : bm;
            if (bm > m[h]) {
                const float r = expf(m[h] - bm);
                const __m256 rv = _mm256_set1_ps(r);
                for (int64_t d = h * D; d < (h + 1) * D; d += 8) _mm256_store_ps(acc + d, _mm256_mul_ps(_mm256_load_ps(acc + d), rv));
                l[h] *= r;
                m[h] = bm;
            }
            for (int64_t j = nb; j < nb8; j++) sh[j] = -INFINITY;
            const __m256 mv = _mm256_set1_ps(m[h]);
            __m256 lv = _mm256_setzero_ps();
            for (int64_t j = 0; j < nb8; j += 8) {
                const __m256 e = exp8(_mm256_sub_ps(_mm256_load_ps(sh + j), mv));
                _mm256_store_ps(sh + j, e);
                lv = _mm256_add_ps(lv, e);
            }
            l[h] += hsum8(lv);
        }
        // acc_h += sum_j e_hj v_j: two positions per pass, each V chunk converted once for all heads
        int64_t j = 0;
        for (; j + 2 <= nb; j += 2) {
            const uint16_t *v0 = vb + j * kv_stride, *v1 = v0 + kv_stride;
            for (int64_t d = 0; d < D; d += 8) {
                const __m256 x0 = load_h8(v0 + d), x1 = load_h8(v1 + d);
                for (int64_t h = 0; h < g; h++) {
                    float *ah = acc + h * D + d;
                    __m256 a = _mm256_load_ps(ah);
                    a = _mm256_fmadd_ps(_mm256_broadcast_ss(&sc[h][j]), x0, a);
                    a = _mm256_fmadd_ps(_mm256_broadcast_ss(&sc[h][j + 1]), x1, a);
                    _mm256_store_ps(ah, a);
                }
            }
        }
        for (; j < nb; j++) {
            const uint16_t *v0 = vb + j * kv_stride;
            for (int64_t d = 0; d < D; d += 8) {
                const __m256 x0 = load_h8(v0 + d);
                for (int64_t h = 0; h < g; h++) {
                    float *ah = acc + h * D + d;
                    _mm256_store_ps(ah, _mm256_fmadd_ps(_mm256_broadcast_ss(&sc[h][j]), x0, _mm256_load_ps(ah)));
                }
            }
        }
    }
    for (int64_t h = 0; h < g; h++) {
        const __m256 inv = _mm256_set1_ps(1.0f / l[h]);
        for (int64_t d = 0; d < D; d += 8) _mm256_storeu_ps(out + h * D + d, _mm256_mul_ps(_mm256_load_ps(acc + h * D + d), inv));
    }
}

#endif  // SLM_HAVE_X86
