// Shared by the SIMD packed-kernel files (slm_packed_q32_*.c, slm_packed_kq_*.c): the activation broadcast, the
// minimums' step and the drivers that run a type's tile over a call's tokens, all on 256-bit vectors. Include inside
// SLM_HAVE_X86, after defining PK_TARGET to the file's target attribute (default: AVX2).
#pragma once
#include <immintrin.h>
#include <string.h>
#include "slm_internal.h"
#include "slm_prefetch.h"
#include "slm_packed_internal.h"

#ifndef PK_TARGET
#define PK_TARGET SLM_TARGET_AVX2
#endif
#define PK_INLINE PK_TARGET static inline __attribute__((always_inline))

// 4 activation quants broadcast to every row's lane, in registers: a pre-broadcast activation row would take 8x
// its bytes of L1 beside the weight stream.
PK_INLINE __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

// Q4_1 and Q5_1 (the types with a minimum): mins + m_w * (d_a * sum_a) for the group block at g (its 8 rows' f16
// minimums at g + 16) and activation block y; out = acc + mins after the blocks, in block order as the scalar twins.
// For one token (decode) the tiles run this chain beside the blocks' own; as a pass after them its latency (an FMA per
// block) was paid once per 8-row group. With several tokens it stays a second pass (registers).
PK_INLINE __m256 mins_step(const uint8_t *g, const slm_block_q8_s *y, __m256 mins) {
    const __m256 mw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + 16)));
    return _mm256_fmadd_ps(mw, _mm256_broadcast_ss(&y->dsum), mins);
}

// ---- the 32-element layouts (Q8_S activations) ----

PK_INLINE const slm_block_q8_s *act_block(const char *act, size_t act_row, int t, int64_t b) {
    return (const slm_block_q8_s *)(act + (size_t)t * act_row) + b;
}

// acc += (float)isum * (d_w * d_a), the step every block of these types ends with.
PK_INLINE __m256 scale_add(__m256i isum, __m256 dw, const slm_block_q8_s *y, __m256 acc) {
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(dw, _mm256_broadcast_ss(&y->d)), acc);
}

// ---- the K-quant layouts (Q8_K activations) ----

// pshufb control that builds, in each row's 32-bit lane (4 rows per 128-bit half), bytes from that row's 4 bytes:
// byte i of `pattern` is the row-relative source byte (0..3) or 0x80 for zero.
PK_INLINE __m256i lane_pick(uint32_t pattern) {
    const __m256i row = _mm256_setr_epi32(0, 0x04040404, 0x08080808, 0x0c0c0c0c, 0, 0x04040404, 0x08080808, 0x0c0c0c0c);
    return _mm256_add_epi8(_mm256_set1_epi32((int)pattern), row);  // 0x80 + 12 keeps the zeroing bit
}

// 32-bit element i of a 128-bit vector in all 8 lanes.
PK_INLINE __m256i bcast_lane(__m128i v, int i) {
    return _mm256_permutevar8x32_epi32(_mm256_castsi128_si256(v), _mm256_set1_epi32(i));
}

// Q4_K's scales and mins of a group block at g, unpacked as slm_k4_unpack_scales on 8 rows: byte 4r + e of sc[0] /
// sc[1] / m[0] / m[1] = sc[e] / sc[4+e] / m[e] / m[4+e] of row r.
typedef struct {
    __m256i sc[2], m[2];
} q4_K_scales;

PK_INLINE q4_K_scales q4_K_unpack_scales(const uint8_t *g) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), m6 = _mm256_set1_epi8(0x3f), m30 = _mm256_set1_epi8(0x30);
    const __m256i w0 = _mm256_loadu_si256((const __m256i *)(g + 32));
    const __m256i w1 = _mm256_loadu_si256((const __m256i *)(g + 64));
    const __m256i w2 = _mm256_loadu_si256((const __m256i *)(g + 96));
    q4_K_scales s;
    s.sc[0] = _mm256_and_si256(w0, m6);
    s.sc[1] = _mm256_or_si256(_mm256_and_si256(w2, m4), _mm256_and_si256(_mm256_srli_epi16(w0, 2), m30));
    s.m[0] = _mm256_and_si256(w1, m6);
    s.m[1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(w2, 4), m4), _mm256_and_si256(_mm256_srli_epi16(w1, 2), m30));
    return s;
}

// Q4_K's block end for tokens [0, NT): msum = sum_j m_j * (bsums[2j] + bsums[2j+1]) per row, then
// acc = fma(isum, d_w * d_a, acc) and mins = fma(msum, dmin_w * d_a, mins), as the scalar twin.
PK_INLINE void q4_K_block_end(const uint8_t *g, const q4_K_scales *s, const slm_block_q8_K *const *y,
                              const __m256i *isum, __m256 *acc, __m256 *mins, const int NT) {
    // mins of sub-blocks 2i, 2i+1 as the two 16-bit halves of each row's lane
    const __m256i pick01 = lane_pick(0u | 0x80u << 8 | 1u << 16 | 0x80u << 24);
    const __m256i pick23 = lane_pick(2u | 0x80u << 8 | 3u << 16 | 0x80u << 24);
    const __m256i mp[4] = {_mm256_shuffle_epi8(s->m[0], pick01), _mm256_shuffle_epi8(s->m[0], pick23),
                           _mm256_shuffle_epi8(s->m[1], pick01), _mm256_shuffle_epi8(s->m[1], pick23)};
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)g));
    const __m256 dmw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + 16)));
    for (int t = 0; t < NT; t++) {
        // bsum pairs: the 8 sub-block sums of the activation
        const __m128i bs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)y[t]->bsums),
                                          _mm_loadu_si128((const __m128i *)(y[t]->bsums + 8)));
        __m256i msum = _mm256_madd_epi16(mp[0], bcast_lane(bs, 0));
        msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mp[1], bcast_lane(bs, 1)));
        msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mp[2], bcast_lane(bs, 2)));
        msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mp[3], bcast_lane(bs, 3)));
        const __m256 da = _mm256_set1_ps(y[t]->d);
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(dw, da), acc[t]);
        mins[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(dmw, da), mins[t]);
    }
}

// Q6_K's block end for tokens [0, NT): v = isum - 32 * sum_s sc_s * bsums_s per row (scale pairs times bsum pairs),
// then acc = fma(v, d_w * d_a, acc), as the scalar twin.
PK_INLINE void q6_K_block_end(const uint8_t *g, const slm_block_q8_K *const *y, const __m256i *isum, __m256 *acc,
                              const int NT) {
    // scales of sub-blocks 2i, 2i+1 as the two (sign-extended) 16-bit halves of each row's lane
    const __m256i pick01 = lane_pick(0x80u | 0u << 8 | 0x80u << 16 | 1u << 24);
    const __m256i pick23 = lane_pick(0x80u | 2u << 8 | 0x80u << 16 | 3u << 24);
    __m256i sp[8];
    for (int v = 0; v < 4; v++) {
        const __m256i sv = _mm256_loadu_si256((const __m256i *)(g + 16 + 32 * v));
        sp[2 * v] = _mm256_srai_epi16(_mm256_shuffle_epi8(sv, pick01), 8);
        sp[2 * v + 1] = _mm256_srai_epi16(_mm256_shuffle_epi8(sv, pick23), 8);
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)g));
    for (int t = 0; t < NT; t++) {
        __m256i corr = _mm256_setzero_si256();
        for (int i = 0; i < 8; i++) {
            int32_t pair;
            memcpy(&pair, y[t]->bsums + 2 * i, 4);
            corr = _mm256_add_epi32(corr, _mm256_madd_epi16(sp[i], _mm256_set1_epi32(pair)));
        }
        const __m256i v = _mm256_sub_epi32(isum[t], _mm256_slli_epi32(corr, 5));
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), _mm256_mul_ps(dw, _mm256_set1_ps(y[t]->d)), acc[t]);
    }
}

// Q6_K's 6-bit quants of sub-block s of a group block at g (layout in slm_packed_kq.c): 4 vectors of 4 elements x 8
// rows from the 3 stored ones.
PK_INLINE void q6_K_quants(const uint8_t *g, int s, __m256i q[4]) {
    const __m256i m63 = _mm256_set1_epi8(0x3f), m03 = _mm256_set1_epi8(0x03), m0c = _mm256_set1_epi8(0x0c),
                  m30 = _mm256_set1_epi8(0x30);
    const uint8_t *abc = g + 144 + 96 * s;
    const __m256i a = _mm256_loadu_si256((const __m256i *)abc);
    const __m256i b = _mm256_loadu_si256((const __m256i *)(abc + 32));
    const __m256i c = _mm256_loadu_si256((const __m256i *)(abc + 64));
    q[0] = _mm256_and_si256(a, m63);
    q[1] = _mm256_and_si256(b, m63);
    q[2] = _mm256_and_si256(c, m63);
    q[3] = _mm256_or_si256(_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 6), m03),
                                           _mm256_and_si256(_mm256_srli_epi16(b, 4), m0c)),
                           _mm256_and_si256(_mm256_srli_epi16(c, 2), m30));
}

// Every TILE takes a prefetch cursor (slm_prefetch.h) as its last argument: NULL in products over several tokens (the
// code folds away), in the one-token gemv a cursor over the decode stream, stepped by each block's bytes.

// NAME(n_in, group, act, act_row, n_tok, out, out_tok): TILE(nb, group, act, act_row, out, out_tok, NT) over tiles of
// TMAX (4 or 8) tokens, then one of 4 (when TMAX is 8), then the remainder as one tile of 1..3. BLOCK: elements per
// block of the layout (nb = n_in / BLOCK). A token's outputs do not depend on the tile it falls in.
#define SLM_PACKED_GEMM(NAME, TILE, BLOCK, TMAX)                                                                     \
    PK_TARGET void NAME(int64_t n_in, const void *restrict group, const void *restrict act, size_t act_row,          \
                              int64_t n_tok, float *restrict out, size_t out_tok) {                                  \
        const int64_t nb = n_in / (BLOCK);                                                                           \
        int64_t t = 0;                                                                                               \
        for (; t + (TMAX) <= n_tok; t += (TMAX))                                                                     \
            TILE(nb, group, (const char *)act + (size_t)t * act_row, act_row, out + (size_t)t * out_tok, out_tok,    \
                 (TMAX), NULL);                                                                                      \
        if ((TMAX) > 4 && t + 4 <= n_tok) {                                                                          \
            TILE(nb, group, (const char *)act + (size_t)t * act_row, act_row, out + (size_t)t * out_tok, out_tok,    \
                 4, NULL);                                                                                           \
            t += 4;                                                                                                  \
        }                                                                                                            \
        const char *a = (const char *)act + (size_t)t * act_row;                                                     \
        float *o = out + (size_t)t * out_tok;                                                                        \
        switch (n_tok - t) {                                                                                         \
        case 3: TILE(nb, group, a, act_row, o, out_tok, 3, NULL); break;                                             \
        case 2: TILE(nb, group, a, act_row, o, out_tok, 2, NULL); break;                                             \
        case 1: TILE(nb, group, a, act_row, o, out_tok, 1, NULL); break;                                             \
        default: break;                                                                                              \
        }                                                                                                            \
    }

// NAME(n_in, group, act, out, pf): the one-token product (slm_packed_gemv_fn), advancing pf through the blocks.
#define SLM_PACKED_GEMV(NAME, TILE, BLOCK)                                                                           \
    PK_TARGET void NAME(int64_t n_in, const void *restrict group, const void *restrict act,                        \
                              float *restrict out, slm_pf_stream *pf) {                                              \
        slm_pf_cursor c = slm_pf_open(pf);                                                                           \
        TILE(n_in / (BLOCK), group, act, 0, out, 0, 1, &c);                                                          \
        slm_pf_close(&c);                                                                                            \
    }

// NAME(n_in, group, act, act_row, n_tok, out, out_tok, pf): the products of a batched decode step (n_tok <= 8, out
// as gemm's), advancing the decode prefetch stream pf block by block while the first tile streams the group from
// memory, as gemv does: prefetching a whole group before the call instead stalled the loads behind the burst, and
// without prefetches the loads wait on DRAM. A second tile (5..7 tokens, or 8 when TMAX is 4) reads the group from
// cache. Tiles as gemm's (TMAX, then 4, then 1..3), so the outputs are gemm's.
#define SLM_PACKED_GEMM_STREAM(NAME, TILE, BLOCK, TMAX)                                                              \
    PK_TARGET void NAME(int64_t n_in, const void *restrict group, const void *restrict act, size_t act_row,          \
                        int64_t n_tok, float *restrict out, size_t out_tok, slm_pf_stream *pf) {                    \
        const int64_t nb = n_in / (BLOCK);                                                                           \
        const int64_t first = (TMAX) > 4 && n_tok >= 8 ? 8 : n_tok >= 4 ? 4 : n_tok;                                 \
        slm_pf_cursor c = slm_pf_open(pf);                                                                           \
        if ((TMAX) > 4 && first == 8) TILE(nb, group, act, act_row, out, out_tok, (TMAX) > 4 ? 8 : 4, &c);           \
        else if (first == 4) TILE(nb, group, act, act_row, out, out_tok, 4, &c);                                     \
        else if (first == 3) TILE(nb, group, act, act_row, out, out_tok, 3, &c);                                     \
        else if (first == 2) TILE(nb, group, act, act_row, out, out_tok, 2, &c);                                     \
        else TILE(nb, group, act, act_row, out, out_tok, 1, &c);                                                     \
        slm_pf_close(&c);                                                                                            \
        const char *a = (const char *)act + (size_t)first * act_row;                                                 \
        float *o = out + (size_t)first * out_tok;                                                                    \
        switch (n_tok - first) {                                                                                     \
        case 4: TILE(nb, group, a, act_row, o, out_tok, 4, NULL); break;                                             \
        case 3: TILE(nb, group, a, act_row, o, out_tok, 3, NULL); break;                                             \
        case 2: TILE(nb, group, a, act_row, o, out_tok, 2, NULL); break;                                             \
        case 1: TILE(nb, group, a, act_row, o, out_tok, 1, NULL); break;                                             \
        default: break;                                                                                              \
        }                                                                                                            \
    }
