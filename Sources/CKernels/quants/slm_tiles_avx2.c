// AVX2 dot products of the 32-element block types (Q4_0, Q4_1, Q5_0, Q8_0) as register tiles: NR weight rows times NT
// activation rows per call, the weight blocks unpacked once per row and the activation blocks loaded once per token.
// Decode uses 2 rows x 1 token: the hardware prefetcher loses track of more short interleaved streams inside each
// 4 KiB page. Every tile computes each of its outputs with exactly the operations of the single-row kernel (NR = NT = 1, the
// type's vec_dot), in the same order, so a decode (2 rows x 1 token), a prefill tile (2 x 4, 1 x 4) and a lone
// vec_dot give bit-identical results; slm_matmul relies on that for batch invariance.
//
// Per output and per block b, with one 8-lane accumulator (one FMA chain per output: tiles supply the parallelism):
//   acc = fma(cvt_f32(madd(maddubs(u, s), 1)) * set1(d_w[b]), set1(d_a[b]), acc)   -- the block's exact integer dot
//   Q4_1 also: mins = fma(m_w[b], s_a[b], mins)                                      -- its minimum term
// and out = hsum(acc) (fixed tree) [+ mins]. The weight scale is broadcast once per row and the activation scale once
// per token, so each output costs no scalar work. f16 scales are read through slm_fp16_table (exact, as the F16C conversion).
// Integer bounds: maddubs of |x| <= 128 by |y| <= 127 (Q8_0 via the sign trick), or 0..15 / 0..31 by y, never
// saturates two products (2 * 128 * 127 < 32767).
#include "slm_internal.h"
#include "slm_quants_internal.h"
#include "slm_kquants_internal.h"
#include "slm_prefetch.h"

#if SLM_HAVE_X86
#include <immintrin.h>

#define SLM_TILE_INLINE SLM_TARGET_AVX2 static inline __attribute__((always_inline))
#define MAXR 4
#define MAXT 4

SLM_TILE_INLINE float tile_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

SLM_TILE_INLINE __m256 bcast_h(uint16_t h) { return _mm256_broadcast_ss(&slm_fp16_table[h]); }

// 16 bytes of nibbles -> 32 bytes 0..15 in element order: low nibbles (elements 0..15) in the low lane, high nibbles
// (16..31) in the high lane. One broadcast load, one per-lane shift, one and.
SLM_TILE_INLINE __m256i nibbles32(const uint8_t *qs) {
    const __m256i b = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    return _mm256_and_si256(_mm256_srlv_epi64(b, _mm256_setr_epi64x(0, 0, 4, 4)), _mm256_set1_epi8(0x0f));
}

// Q5_0's signed quants q - 16 in element order: low nibble | 0xf0 where the 5th bit (bit j of qh) is clear.
SLM_TILE_INLINE __m256i q5_0_signed(const slm_block_q5_0 *x) {
    uint32_t qh;
    memcpy(&qh, x->qh, 4);
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x(0x8040201008040201LL);
    const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), spread);
    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
    return _mm256_or_si256(nibbles32(x->qs), _mm256_andnot_si256(set, _mm256_set1_epi8((char)0xf0)));
}

SLM_TILE_INLINE __m256 block_dot_u8(__m256i u, __m256i s) {
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
}

// Tile over signed weights (Q4_0, Q5_0, Q8_0) times Q8_0 activations. LOAD(r, b, xq) sets the signed quants of
// block b of row r and returns its f16 scale.
#define SIGNED_TILE(NAME, WBLOCK, LOAD)                                                                              \
    SLM_TILE_INLINE void NAME(int64_t n, const char *w, size_t ws, const char *a, size_t as, float *out, size_t orow, \
                              size_t otok, const int NR, const int NT, slm_pf_cursor *pf) {                          \
        __m256 acc[MAXR][MAXT];                                                                                      \
        for (int r = 0; r < NR; r++)                                                                                 \
            for (int t = 0; t < NT; t++) acc[r][t] = _mm256_setzero_ps();                                            \
        const int64_t nb = n / 32;                                                                                   \
        for (int64_t b = 0; b < nb; b++) {                                                                           \
            if (pf) slm_pf_step(pf, NR * (int64_t)sizeof(WBLOCK));                                                \
            __m256i ax[MAXR], sx[MAXR];                                                                              \
            __m256 dxv[MAXR];                                                                                        \
            for (int r = 0; r < NR; r++) {                                                                           \
                const WBLOCK *x = (const WBLOCK *)(w + (size_t)r * ws) + b;                                          \
                __m256i xq;                                                                                          \
                dxv[r] = bcast_h(LOAD);                                                                              \
                ax[r] = _mm256_sign_epi8(xq, xq);                                                                    \
                sx[r] = xq;                                                                                          \
            }                                                                                                        \
            for (int t = 0; t < NT; t++) {                                                                           \
                const slm_block_q8_0 *y = (const slm_block_q8_0 *)(a + (size_t)t * as) + b;                          \
                const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);                                       \
                const __m256 dy = bcast_h(y->d);                                                                     \
                for (int r = 0; r < NR; r++) {                                                                       \
                    const __m256 p = block_dot_u8(ax[r], _mm256_sign_epi8(qy, sx[r]));                               \
                    acc[r][t] = _mm256_fmadd_ps(_mm256_mul_ps(p, dxv[r]), dy, acc[r][t]);                            \
                }                                                                                                    \
            }                                                                                                        \
        }                                                                                                            \
        for (int r = 0; r < NR; r++)                                                                                 \
            for (int t = 0; t < NT; t++) out[(size_t)r * orow + (size_t)t * otok] = tile_hsum(acc[r][t]);            \
    }

SIGNED_TILE(tile_q8_0, slm_block_q8_0, (xq = _mm256_loadu_si256((const __m256i *)x->qs), x->d))
SIGNED_TILE(tile_q4_0, slm_block_q4_0, (xq = _mm256_sub_epi8(nibbles32(x->qs), _mm256_set1_epi8(8)), x->d))
SIGNED_TILE(tile_q5_0, slm_block_q5_0, (xq = q5_0_signed(x), x->d))

// Q4_1 (unsigned nibbles, minimum m) times Q8_1 activations (s = d_a * sum of the block's quants). The minimum terms
// m * s go into a separate float sum per output (fma per block, in block order), added after the lanes' sum; four
// tokens' sums share one 4-lane fma.
SLM_TILE_INLINE void tile_q4_1(int64_t n, const char *w, size_t ws, const char *a, size_t as, float *out, size_t orow,
                               size_t otok, const int NR, const int NT, slm_pf_cursor *pf) {
    __m256 acc[MAXR][MAXT];
    __m128 mins[MAXR][MAXT];  // NT == 4: mins[r][0] holds the four tokens' sums; else lane 0 of mins[r][t]
    for (int r = 0; r < NR; r++)
        for (int t = 0; t < NT; t++) acc[r][t] = _mm256_setzero_ps(), mins[r][t] = _mm_setzero_ps();
    const int64_t nb = n / 32;
    for (int64_t b = 0; b < nb; b++) {
        if (pf) slm_pf_step(pf, NR * (int64_t)sizeof(slm_block_q4_1));
        __m256i qx[MAXR];
        __m256 dxv[MAXR];
        float mx[MAXR];
        for (int r = 0; r < NR; r++) {
            const slm_block_q4_1 *x = (const slm_block_q4_1 *)(w + (size_t)r * ws) + b;
            qx[r] = nibbles32(x->qs);
            dxv[r] = bcast_h(x->d);
            mx[r] = slm_fp16_table[x->m];
        }
        float sy[MAXT];
        for (int t = 0; t < NT; t++) {
            const slm_block_q8_1 *y = (const slm_block_q8_1 *)(a + (size_t)t * as) + b;
            const __m256i qy = _mm256_loadu_si256((const __m256i *)y->qs);
            const __m256 dy = bcast_h(y->d);
            sy[t] = slm_fp16_table[y->s];
            for (int r = 0; r < NR; r++) {
                const __m256 p = block_dot_u8(qx[r], qy);
                acc[r][t] = _mm256_fmadd_ps(_mm256_mul_ps(p, dxv[r]), dy, acc[r][t]);
            }
        }
        if (NT == 4) {
            const __m128 s4 = _mm_setr_ps(sy[0], sy[1], sy[2], sy[3]);
            for (int r = 0; r < NR; r++) mins[r][0] = _mm_fmadd_ps(_mm_set1_ps(mx[r]), s4, mins[r][0]);
        } else {
            for (int r = 0; r < NR; r++)
                for (int t = 0; t < NT; t++) mins[r][t] = _mm_fmadd_ss(_mm_set_ss(mx[r]), _mm_set_ss(sy[t]), mins[r][t]);
        }
    }
    for (int r = 0; r < NR; r++) {
        float m4[4];
        if (NT == 4) _mm_storeu_ps(m4, mins[r][0]);
        for (int t = 0; t < NT; t++) {
            const float m = NT == 4 ? m4[t] : _mm_cvtss_f32(mins[r][t]);
            out[(size_t)r * orow + (size_t)t * otok] = tile_hsum(acc[r][t]) + m;
        }
    }
}

// ---- instantiations: the single-row vec_dots and the tiles ----

#define INSTANTIATE(TYPE, TILE, ASUF)                                                                                \
    SLM_TARGET_AVX2 void slm_vec_dot_##TYPE##_##ASUF##_avx2(int64_t n, const void *restrict w,                       \
                                                           const void *restrict a, float *restrict out) {            \
        TILE(n, w, 0, a, 0, out, 0, 0, 1, 1, NULL);                                                                  \
    }                                                                                                                \
    SLM_TARGET_AVX2 static void TYPE##_r2t4(int64_t n, const void *restrict w, size_t ws, const void *restrict a,    \
                                            size_t as, float *restrict out, size_t orow, size_t otok) {              \
        TILE(n, w, ws, a, as, out, orow, otok, 2, 4, NULL);                                                          \
    }                                                                                                                \
    SLM_TARGET_AVX2 static void TYPE##_r1t4(int64_t n, const void *restrict w, size_t ws, const void *restrict a,    \
                                            size_t as, float *restrict out, size_t orow, size_t otok) {              \
        TILE(n, w, ws, a, as, out, orow, otok, 1, 4, NULL);                                                          \
    }                                                                                                                \
    SLM_TARGET_AVX2 static void TYPE##_r2t1(int64_t n, const void *restrict w, size_t ws, const void *restrict a,    \
                                            size_t as, float *restrict out, size_t orow, size_t otok) {              \
        TILE(n, w, ws, a, as, out, orow, otok, 2, 1, NULL);                                                          \
    }                                                                                                                \
    SLM_TARGET_AVX2 static void TYPE##_decode(int64_t n, const void *restrict w, size_t ws, const void *restrict a,  \
                                              float *restrict out, slm_pf_stream *pf) {                              \
        slm_pf_cursor c = slm_pf_open(pf);                                                                           \
        TILE(n, w, ws, a, 0, out, 1, 0, 2, 1, &c);                                                                   \
        slm_pf_close(&c);                                                                                            \
    }                                                                                                                \
    const slm_dot_tiles slm_tiles_##TYPE##_avx2 = {TYPE##_decode, TYPE##_r2t1, TYPE##_r2t4, TYPE##_r1t4};

INSTANTIATE(q8_0, tile_q8_0, q8_0)
INSTANTIATE(q4_0, tile_q4_0, q8_0)
INSTANTIATE(q5_0, tile_q5_0, q8_0)
INSTANTIATE(q4_1, tile_q4_1, q8_1)

#endif  // SLM_HAVE_X86
