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

SLM_TARGET_AVX2 void slm_rope_apply_avx2(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot,
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

// 32 values per test (the ordered compare is false for NaN), then the first lane above within the block.
SLM_TARGET_AVX2 int64_t slm_first_above_avx2(const float *x, int64_t n, float t) {
    const __m256 tv = _mm256_set1_ps(t);
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256 a = _mm256_cmp_ps(_mm256_loadu_ps(x + i), tv, _CMP_GT_OQ);
        const __m256 b = _mm256_cmp_ps(_mm256_loadu_ps(x + i + 8), tv, _CMP_GT_OQ);
        const __m256 c = _mm256_cmp_ps(_mm256_loadu_ps(x + i + 16), tv, _CMP_GT_OQ);
        const __m256 d = _mm256_cmp_ps(_mm256_loadu_ps(x + i + 24), tv, _CMP_GT_OQ);
        if (_mm256_movemask_ps(_mm256_or_ps(_mm256_or_ps(a, b), _mm256_or_ps(c, d)))) {
            const uint32_t m = (uint32_t)_mm256_movemask_ps(a) | (uint32_t)_mm256_movemask_ps(b) << 8 |
                               (uint32_t)_mm256_movemask_ps(c) << 16 | (uint32_t)_mm256_movemask_ps(d) << 24;
            return i + __builtin_ctz(m);
        }
    }
    for (; i < n; i++)
        if (x[i] > t) return i;
    return n;
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

// ---- Attention: one chunk's partial softmax (see slm_ops_table.attn_chunk) ----
//
// Three passes over at most SLM_ATTN_CHUNK positions, with the scores of all g heads in a stack buffer sc[g][chunk]:
//   scores  H heads x P positions per block (H * P accumulators in registers), each K row converted once per block;
//   softmax per head on 8 scores at a time;
//   V       H heads x T vectors of head_dim per tile, accumulated over every position of the chunk in registers.
// Every head's numbers go through the same operations whatever H, P and T (the same FMA chain per accumulator and
// the same tree for horizontal sums), so a head's partial does not depend on how many heads share the call.

// The sum of the eight lanes by the tree every score uses: (l0 + l1) + (l2 + l3) per half, then low half + high.
// [sum(a[0]), ..., sum(a[n - 1])] for n = 1 .. 4 or 8 in the first n lanes.
SLM_TARGET_AVX2 static inline __m256 hsum_rows(const __m256 *a, int n) {
    const __m256 s01 = _mm256_hadd_ps(a[0], n > 1 ? a[1] : a[0]);
    const __m256 s23 = n > 2 ? _mm256_hadd_ps(a[2], n > 3 ? a[3] : a[2]) : s01;
    const __m256 s0123 = _mm256_hadd_ps(s01, s23);  // row r's lanes 0-3 in lane r, lanes 4-7 in lane 4 + r
    if (n <= 4) return _mm256_add_ps(s0123, _mm256_permute2f128_ps(s0123, s0123, 0x01));
    const __m256 s4567 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
    return _mm256_add_ps(_mm256_permute2f128_ps(s0123, s4567, 0x20), _mm256_permute2f128_ps(s0123, s4567, 0x31));
}

// Asks for the w halves at p ahead of their use (one 64-byte line per 32 halves).
SLM_TARGET_AVX2 static inline void prefetch_row(const uint16_t *p, int64_t w) {
    for (int64_t d = 0; d < w; d += 32) _mm_prefetch((const char *)(p + d), _MM_HINT_T0);
}

// K rows are requested this many positions ahead of the scores pass (the same width as the V rows, so whole rows
// where the call prefetches whole rows and later kv heads of a chunk find theirs in cache). Without it the K rows
// come cold from DRAM, a few lines in flight at a time.
#define SLM_ATTN_K_AHEAD 8

// sc[h][j0 + p] = scale * q_h . k_(j0 + p) for h < H, p < P; kr is K row j0 (rows past the chunk may be prefetched).
SLM_TARGET_AVX2 static inline __attribute__((always_inline)) void attn_scores(const float *q, int H, int P,
                                                                               const uint16_t *kr, int64_t stride,
                                                                               int64_t D, float scale, float *sc,
                                                                               int64_t j0, const uint16_t *pf,
                                                                               int64_t pw) {
    for (int p = 0; p < P; p++) {
        prefetch_row(pf + p * stride, pw);
        prefetch_row(kr + (SLM_ATTN_K_AHEAD + p) * stride, pw);
    }
    __m256 a[4][8];
    for (int h = 0; h < H; h++)
        for (int p = 0; p < P; p++) a[h][p] = _mm256_setzero_ps();
    for (int64_t d = 0; d < D; d += 8) {
        for (int p = 0; p < P; p++) {
            const __m256 x = load_h8(kr + p * stride + d);
            for (int h = 0; h < H; h++) a[h][p] = _mm256_fmadd_ps(_mm256_loadu_ps(q + h * D + d), x, a[h][p]);
        }
    }
    const __m256 sv = _mm256_set1_ps(scale);
    for (int h = 0; h < H; h++) {
        const __m256 s = _mm256_mul_ps(hsum_rows(a[h], P), sv);
        float *dst = sc + h * SLM_ATTN_CHUNK + j0;
        if (P == 8) {
            _mm256_storeu_ps(dst, s);
        } else if (P == 4) {
            _mm_storeu_ps(dst, _mm256_castps256_ps128(s));
        } else if (P == 3) {
            _mm_storel_pi((__m64 *)dst, _mm256_castps256_ps128(s));
            dst[2] = _mm_cvtss_f32(_mm_movehl_ps(_mm256_castps256_ps128(s), _mm256_castps256_ps128(s)));
        } else {
            float t[8];
            _mm256_storeu_ps(t, s);
            for (int p = 0; p < P; p++) dst[p] = t[p];
        }
    }
}

// acc[h][d] = sum_j w[h][j] v_j[d] for h < H over the chunk's n positions, T vectors of 8 dims per tile (D % 8T == 0).
SLM_TARGET_AVX2 static inline __attribute__((always_inline)) void attn_values(const float *w, int H, int T,
                                                                               const uint16_t *vb, int64_t stride,
                                                                               int64_t n, int64_t D, float *acc,
                                                                               const uint16_t *pf, int64_t pw) {
    for (int64_t d0 = 0; d0 < D; d0 += 8 * T, pw = 0) {
        __m256 a[4][8];
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) a[h][t] = _mm256_setzero_ps();
        const uint16_t *vr = vb + d0;
        for (int64_t j = 0; j < n; j++, vr += stride) {
            prefetch_row(pf + j * stride, pw);
            __m256 wv[4];
            for (int h = 0; h < H; h++) wv[h] = _mm256_broadcast_ss(w + h * SLM_ATTN_CHUNK + j);
            for (int t = 0; t < T; t++) {
                const __m256 x = load_h8(vr + 8 * t);
                for (int h = 0; h < H; h++) a[h][t] = _mm256_fmadd_ps(wv[h], x, a[h][t]);
            }
        }
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) _mm256_storeu_ps(acc + h * D + d0 + 8 * t, a[h][t]);
    }
}

// Scores of H <= 4 heads over the chunk: blocks of P positions (8 or 9 accumulators: with the K row and the q rows
// they fit the 16 registers), then one position at a time.
SLM_TARGET_AVX2 static void attn_scores_heads(const float *q, int H, const uint16_t *kb, int64_t stride, int64_t n,
                                              int64_t D, float scale, float *sc, const uint16_t *pf,
                                              int64_t pw) {
    int64_t j = 0;
    switch (H) {
    case 1:
        for (; j + 8 <= n; j += 8) attn_scores(q, 1, 8, kb + j * stride, stride, D, scale, sc, j, pf + j * stride, pw);
        for (; j < n; j++) attn_scores(q, 1, 1, kb + j * stride, stride, D, scale, sc, j, pf + j * stride, pw);
        break;
    case 2:
        for (; j + 4 <= n; j += 4) attn_scores(q, 2, 4, kb + j * stride, stride, D, scale, sc, j, pf + j * stride, pw);
        for (; j < n; j++) attn_scores(q, 2, 1, kb + j * stride, stride, D, scale, sc, j, pf + j * stride, pw);
        break;
    case 3:
        for (; j + 3 <= n; j += 3) attn_scores(q, 3, 3, kb + j * stride, stride, D, scale, sc, j, pf + j * stride, pw);
        for (; j < n; j++) attn_scores(q, 3, 1, kb + j * stride, stride, D, scale, sc, j, pf + j * stride, pw);
        break;
    default:
        for (; j + 2 <= n; j += 2) attn_scores(q, 4, 2, kb + j * stride, stride, D, scale, sc, j, pf + j * stride, pw);
        for (; j < n; j++) attn_scores(q, 4, 1, kb + j * stride, stride, D, scale, sc, j, pf + j * stride, pw);
        break;
    }
}

// Weighted V of H <= 4 heads: tiles of H x T accumulators, every head in one pass so that each V row is converted
// once per tile. Three heads (SmolLM2) take 3 x 2: 2 heads then 1 would convert every V row twice, and 3 x 4 runs
// out of registers for the weights.
SLM_TARGET_AVX2 static void attn_values_heads(const float *w, int H, const uint16_t *vb, int64_t stride, int64_t n,
                                              int64_t D, float *acc, const uint16_t *pf, int64_t pw) {
    switch (H) {
    case 1:
        if (D % 64 == 0) attn_values(w, 1, 8, vb, stride, n, D, acc, pf, pw);
        else attn_values(w, 1, 4, vb, stride, n, D, acc, pf, pw);
        break;
    case 2: attn_values(w, 2, 4, vb, stride, n, D, acc, pf, pw); break;
    case 3: attn_values(w, 3, 2, vb, stride, n, D, acc, pf, pw); break;
    default: attn_values(w, 4, 2, vb, stride, n, D, acc, pf, pw); break;
    }
}

SLM_TARGET_AVX2 void slm_attn_chunk_avx2(const float *q, int64_t g, const uint16_t *k, const uint16_t *v,
                                         int64_t kv_stride, int64_t p0, int64_t n, int64_t head_dim, float scale,
                                         int64_t prefetch, float *acc, float *ml) {
    const int64_t D = head_dim;
    if (D % 32 != 0 || D > 256 || g < 1 || g > SLM_ATTN_GROUP_MAX || n < 1 || n > SLM_ATTN_CHUNK) {
        slm_attn_chunk_ref(q, g, k, v, kv_stride, p0, n, D, scale, prefetch, acc, ml);  // depends on the model only
        return;
    }
    float sc[SLM_ATTN_GROUP_MAX * SLM_ATTN_CHUNK] __attribute__((aligned(32)));
    const uint16_t *kb = k + p0 * kv_stride, *vb = v + p0 * kv_stride;
    const int64_t pw = SLM_MAX(prefetch, D);
    // Memory (`prefetch` halves of each row, at least this head's): the chunk's V rows are requested while the scores
    // are computed, and the next chunk's K rows (a later call's) while V is summed, so that the tiles' strided reads of
    // V find them in cache: the hardware prefetcher does not follow strided rows.
    for (int64_t h = 0; h < g; h += 4)
        attn_scores_heads(q + h * D, (int)SLM_MIN((int64_t)4, g - h), kb, kv_stride, n, D, scale,
                          sc + h * SLM_ATTN_CHUNK, vb, h == 0 ? pw : 0);
    // per head: m = max score, weights e^(s - m) in place, l = their sum; padding lanes are -inf and weigh 0
    const int64_t n8 = (n + 7) & ~(int64_t)7;
    for (int64_t h = 0; h < g; h++) {
        float *s = sc + h * SLM_ATTN_CHUNK;
        for (int64_t j = n; j < n8; j++) s[j] = -INFINITY;
        __m256 mv = _mm256_load_ps(s);
        for (int64_t j = 8; j < n8; j += 8) mv = _mm256_max_ps(mv, _mm256_load_ps(s + j));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
        const float m = _mm_cvtss_f32(m4);
        const __m256 m8 = _mm256_set1_ps(m);
        __m256 lv = _mm256_setzero_ps();
        for (int64_t j = 0; j < n8; j += 8) {
            const __m256 e = exp8(_mm256_sub_ps(_mm256_load_ps(s + j), m8));
            _mm256_store_ps(s + j, e);
            lv = _mm256_add_ps(lv, e);
        }
        ml[h] = m;
        ml[g + h] = hsum8(lv);
    }
    for (int64_t h = 0; h < g; h += 4)
        attn_values_heads(sc + h * SLM_ATTN_CHUNK, (int)SLM_MIN((int64_t)4, g - h), vb, kv_stride, n, D, acc + h * D,
                          kb + n * kv_stride, h == 0 ? pw : 0);
}

#endif  // SLM_HAVE_X86
