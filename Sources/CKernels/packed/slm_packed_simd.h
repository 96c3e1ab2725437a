// Shared by the SIMD packed-kernel files (slm_packed_q32_*.c, slm_packed_kq_*.c): the activation broadcast, the
// minimums' step and the drivers that run a type's tile over a call's tokens, all on 256-bit vectors. Include inside
// SLM_HAVE_X86, after defining PK_TARGET to the file's target attribute (default: AVX2).
#pragma once
#include <immintrin.h>
#include <string.h>
#include "slm_internal.h"
#include "slm_prefetch.h"

#ifndef PK_TARGET
#define PK_TARGET SLM_TARGET_AVX2
#endif
#define PK_INLINE PK_TARGET static inline __attribute__((always_inline))

// 4 activation quants broadcast to every row's lane. Measured and dropped: a decode form of the activation row built
// once per product call, every 4-quant group pre-broadcast to 32 bytes (multiplies take it from memory) and the block
// scalars as floats. The cache-resident Q4_1 decode kernel ran 12% faster on one core (30 -> 33.5 GB/s), but whole
// SmolLM2 decodes on one thread ran 4% slower (8x the activation bytes in L1 beside the weight stream); the scalars
// alone gave +0.6%.
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
    return _mm256_fmadd_ps(mw, _mm256_set1_ps(slm_fp16_table[y->d] * (float)y->sum), mins);
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
