// AVX-512 VNNI kernels of the packed Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q8_0 layouts (slm_packed_q32.c), on 256-bit vectors
// (AVX512VL): the AVX2 tiles' structure (slm_packed_q32_avx2.c), one 32-bit lane per row of the group, with every
// integer dot taken by vpdpbusd, which adds 4 unsigned x signed byte products into each 32-bit lane exactly (no 16-bit
// intermediate to bound), and with up to 8 tokens per tile (AVX-512 has 32 vector registers). Per output the float
// operations are those of the scalar twins (slm_packed_q32_ref.c) in the same order (bit-identical).
//   Q4_0, Q5_0: unsigned quants times the activation, isum - 8 * sum_a (Q4_0) or 16 * sum_a (Q5_0).
//   Q4_1, Q5_1: unsigned quants; the minimums' term in a chain of its own per token (mins_block).
//   Q8_0: signed quants w taken as the unsigned w + 128 (w ^ 0x80), isum - 128 * sum_a.
//   Bounds: a block's sum of 32 products is at most 32 * 255 * 128 in magnitude, far inside 32 bits.
#include "slm_internal.h"
#include "slm_packed_internal.h"

#if SLM_HAVE_X86
#define PK_TARGET SLM_TARGET_AVX512VNNI
#include "slm_packed_simd.h"

PK_INLINE __m256i dot4(__m256i acc, __m256i u, const int8_t *a) { return _mm256_dpbusd_epi32(acc, u, bcast4(a)); }

// A block's integer dots run in CHAINS(NT) accumulators per token, so that about 8 independent vpdpbusd chains cover
// the instruction's latency whatever the tile's token count; they are summed once per block (exact).
#define CHAINS(NT) ((NT) >= 8 ? 1 : (NT) >= 4 ? 2 : 4)

PK_INLINE __m256i chains_sum(const __m256i *s, const int ch) {
    if (ch == 1) return s[0];
    if (ch == 2) return _mm256_add_epi32(s[0], s[1]);
    return _mm256_add_epi32(_mm256_add_epi32(s[0], s[1]), _mm256_add_epi32(s[2], s[3]));
}

// The minimums' term of Q4_1 / Q5_1 for each token: mins = fma(m_w, d_a * sum_a, mins) block by block, beside the
// blocks' own chain (the row minimums converted once per block), added after the last block as in the twins.
PK_INLINE void mins_block(const uint8_t *g, const char *act, size_t act_row, int64_t b, __m256 *mins, const int NT) {
    const __m256 mw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g + 16)));
    for (int t = 0; t < NT; t++) {
        const slm_block_q8_s *y = act_block(act, act_row, t, b);
        mins[t] = _mm256_fmadd_ps(mw, _mm256_broadcast_ss(&y->dsum), mins[t]);
    }
}

// One tile for the five layouts. FMT 4: Q4_0 / Q4_1 (nibbles), 5: Q5_0 / Q5_1 (nibbles and 5th bits), 8: Q8_0 (bytes);
// MIN: the layout has minimums m[8] after d[8] (Q4_1, Q5_1). Block bytes and offsets as in slm_packed_q32.c.
PK_INLINE void q32_tile(int64_t nb, const uint8_t *group, const char *act, size_t act_row, float *out,
                        size_t out_tok, const int NT, const int FMT, const int MIN, slm_pf_cursor *pf) {
    const int h_off = 16 + 16 * MIN, q_off = h_off + (FMT == 5 ? 32 : 0);
    const int block = q_off + (FMT == 8 ? 256 : 128);
    const int zero = FMT == 8 ? 128 : FMT == 5 ? 16 : 8;  // the unsigned quants' offset (no minimum)
    const __m256i m4 = _mm256_set1_epi8(0x0f), m5 = _mm256_set1_epi8(0x10), flip = _mm256_set1_epi8((char)0x80);
    __m256 acc[8], mins[8];
    for (int t = 0; t < NT; t++) acc[t] = mins[t] = _mm256_setzero_ps();
    const uint8_t *g = group;
    const int CH = CHAINS(NT);
    for (int64_t b = 0; b < nb; b++, g += block) {
        if (pf) slm_pf_step(pf, block);
        __m256i s[8][4];
        for (int t = 0; t < NT; t++)
            for (int c = 0; c < CH; c++) s[t][c] = _mm256_setzero_si256();
        if (FMT == 8) {
            for (int k = 0; k < 8; k++) {
                const __m256i u = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(g + q_off + 32 * k)), flip);
                for (int t = 0; t < NT; t++) s[t][k % CH] = dot4(s[t][k % CH], u, act_block(act, act_row, t, b)->qs + 4 * k);
            }
        } else {
            const __m256i h = FMT == 5 ? _mm256_loadu_si256((const __m256i *)(g + h_off)) : _mm256_setzero_si256();
            for (int k = 0; k < 4; k++) {
                const __m256i p = _mm256_loadu_si256((const __m256i *)(g + q_off + 32 * k));
                __m256i lo = _mm256_and_si256(p, m4), hi = _mm256_and_si256(_mm256_srli_epi16(p, 4), m4);
                if (FMT == 5) {  // the 5th bits to bit 4: ternary logic 0xF8 is A | (B & C)
                    lo = _mm256_ternarylogic_epi32(lo, _mm256_slli_epi16(h, 4 - k), m5, 0xF8);
                    hi = _mm256_ternarylogic_epi32(hi, _mm256_srli_epi16(h, k), m5, 0xF8);
                }
                for (int t = 0; t < NT; t++) {
                    const slm_block_q8_s *y = act_block(act, act_row, t, b);
                    s[t][(2 * k) % CH] = dot4(s[t][(2 * k) % CH], lo, y->qs + 4 * k);
                    s[t][(2 * k + 1) % CH] = dot4(s[t][(2 * k + 1) % CH], hi, y->qs + 16 + 4 * k);
                }
            }
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)g));
        for (int t = 0; t < NT; t++) {
            const slm_block_q8_s *y = act_block(act, act_row, t, b);
            const __m256i dot = chains_sum(s[t], CH);
            const __m256i isum = MIN ? dot : _mm256_sub_epi32(dot, _mm256_set1_epi32(zero * y->sum));
            acc[t] = scale_add(isum, dw, y, acc[t]);
        }
        if (MIN) mins_block(g, act, act_row, b, mins, NT);
    }
    for (int t = 0; t < NT; t++) _mm256_storeu_ps(out + (size_t)t * out_tok, MIN ? _mm256_add_ps(acc[t], mins[t]) : acc[t]);
}

// ---- 16 rows on 512-bit vectors ----
// Two consecutive groups (the second nb blocks on) in one tile: lanes 0-7 of each 512-bit vector hold the first
// group's rows, lanes 8-15 the second's, so a 4-byte activation broadcast to all 16 lanes feeds both, and each
// instruction does the work of two 256-bit ones. Where the core runs 512-bit integer and float operations at full
// width (slm_cpu_wide_zmm), a batched step's products are bound by those operations, not by the weight stream.
// Each lane's operations are the 8-row tile's on its row, in the same order (bit-identical).

// The 32 bytes at a (first group) and at b (second group) as one vector.
PK_INLINE __m512i load_pair(const uint8_t *a, const uint8_t *b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a)),
                              _mm256_loadu_si256((const __m256i *)b), 1);
}

// The 8 f16 at a and the 8 at b, widened.
PK_INLINE __m512 cvtph_pair(const uint8_t *a, const uint8_t *b) {
    return _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)a)),
                                                   _mm_loadu_si128((const __m128i *)b), 1));
}

PK_INLINE __m512i dot4_16(__m512i acc, __m512i u, const int8_t *a) {
    int32_t v;
    memcpy(&v, a, 4);
    return _mm512_dpbusd_epi32(acc, u, _mm512_set1_epi32(v));
}

PK_INLINE __m512i chains_sum16(const __m512i *s, const int ch) {
    if (ch == 1) return s[0];
    if (ch == 2) return _mm512_add_epi32(s[0], s[1]);
    return _mm512_add_epi32(_mm512_add_epi32(s[0], s[1]), _mm512_add_epi32(s[2], s[3]));
}

// q32_tile over the group at `group` and the next one: out[t * out_tok + r] for r < 16. The prefetch cursor steps by
// both groups' block bytes per block; the driver starts the stream one group further ahead, so that the second
// group's blocks are requested as early as the first's.
PK_INLINE void q32_tile16(int64_t nb, const uint8_t *group, const char *act, size_t act_row, float *out,
                          size_t out_tok, const int NT, const int FMT, const int MIN, slm_pf_cursor *pf) {
    const int h_off = 16 + 16 * MIN, q_off = h_off + (FMT == 5 ? 32 : 0);
    const int block = q_off + (FMT == 8 ? 256 : 128);
    const int zero = FMT == 8 ? 128 : FMT == 5 ? 16 : 8;
    const __m512i m4 = _mm512_set1_epi8(0x0f), m5 = _mm512_set1_epi8(0x10), flip = _mm512_set1_epi8((char)0x80);
    __m512 acc[8], mins[8];
    for (int t = 0; t < NT; t++) acc[t] = mins[t] = _mm512_setzero_ps();
    const uint8_t *g = group, *g2 = group + (size_t)nb * (size_t)block;
    const int CH = CHAINS(NT);
    for (int64_t b = 0; b < nb; b++, g += block, g2 += block) {
        if (pf) slm_pf_step(pf, 2 * block);
        __m512i s[8][4];
        for (int t = 0; t < NT; t++)
            for (int c = 0; c < CH; c++) s[t][c] = _mm512_setzero_si512();
        if (FMT == 8) {
            for (int k = 0; k < 8; k++) {
                const __m512i u = _mm512_xor_si512(load_pair(g + q_off + 32 * k, g2 + q_off + 32 * k), flip);
                for (int t = 0; t < NT; t++)
                    s[t][k % CH] = dot4_16(s[t][k % CH], u, act_block(act, act_row, t, b)->qs + 4 * k);
            }
        } else {
            const __m512i h = FMT == 5 ? load_pair(g + h_off, g2 + h_off) : _mm512_setzero_si512();
            for (int k = 0; k < 4; k++) {
                const __m512i p = load_pair(g + q_off + 32 * k, g2 + q_off + 32 * k);
                __m512i lo = _mm512_and_si512(p, m4), hi = _mm512_and_si512(_mm512_srli_epi16(p, 4), m4);
                if (FMT == 5) {  // the 5th bits to bit 4: ternary logic 0xF8 is A | (B & C)
                    lo = _mm512_ternarylogic_epi32(lo, _mm512_slli_epi16(h, 4 - k), m5, 0xF8);
                    hi = _mm512_ternarylogic_epi32(hi, _mm512_srli_epi16(h, k), m5, 0xF8);
                }
                for (int t = 0; t < NT; t++) {
                    const slm_block_q8_s *y = act_block(act, act_row, t, b);
                    s[t][(2 * k) % CH] = dot4_16(s[t][(2 * k) % CH], lo, y->qs + 4 * k);
                    s[t][(2 * k + 1) % CH] = dot4_16(s[t][(2 * k + 1) % CH], hi, y->qs + 16 + 4 * k);
                }
            }
        }
        const __m512 dw = cvtph_pair(g, g2);
        for (int t = 0; t < NT; t++) {
            const slm_block_q8_s *y = act_block(act, act_row, t, b);
            const __m512i dot = chains_sum16(s[t], CH);
            const __m512i isum = MIN ? dot : _mm512_sub_epi32(dot, _mm512_set1_epi32(zero * y->sum));
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(dw, _mm512_set1_ps(y->d)), acc[t]);
        }
        if (MIN) {
            const __m512 mw = cvtph_pair(g + 16, g2 + 16);
            for (int t = 0; t < NT; t++)
                mins[t] = _mm512_fmadd_ps(mw, _mm512_set1_ps(act_block(act, act_row, t, b)->dsum), mins[t]);
        }
    }
    for (int t = 0; t < NT; t++) _mm512_storeu_ps(out + (size_t)t * out_tok, MIN ? _mm512_add_ps(acc[t], mins[t]) : acc[t]);
}

// The five layouts' tiles of 8 rows (q32_tile) and of 16 (q32_tile16).
#define Q32_TILE(NAME, IMPL, FMT, MIN)                                                                               \
    PK_INLINE void NAME(int64_t nb, const uint8_t *group, const char *act, size_t act_row, float *out,              \
                        size_t out_tok, const int NT, slm_pf_cursor *pf) {                                           \
        IMPL(nb, group, act, act_row, out, out_tok, NT, FMT, MIN, pf);                                               \
    }
Q32_TILE(q4_0_tile, q32_tile, 4, 0)
Q32_TILE(q4_1_tile, q32_tile, 4, 1)
Q32_TILE(q5_0_tile, q32_tile, 5, 0)
Q32_TILE(q5_1_tile, q32_tile, 5, 1)
Q32_TILE(q8_0_tile, q32_tile, 8, 0)
Q32_TILE(q4_0_tile16, q32_tile16, 4, 0)
Q32_TILE(q4_1_tile16, q32_tile16, 4, 1)
Q32_TILE(q5_0_tile16, q32_tile16, 5, 0)
Q32_TILE(q5_1_tile16, q32_tile16, 5, 1)
Q32_TILE(q8_0_tile16, q32_tile16, 8, 0)

SLM_PACKED_GEMM(slm_packed_gemm_q4_0_avx512vnni, q4_0_tile, 32, 8)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream_q4_0_avx512vnni, q4_0_tile, 32, 8)
SLM_PACKED_GEMM(slm_packed_gemm_q4_1_avx512vnni, q4_1_tile, 32, 8)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream_q4_1_avx512vnni, q4_1_tile, 32, 8)
SLM_PACKED_GEMM(slm_packed_gemm_q5_0_avx512vnni, q5_0_tile, 32, 8)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream_q5_0_avx512vnni, q5_0_tile, 32, 8)
SLM_PACKED_GEMM(slm_packed_gemm_q5_1_avx512vnni, q5_1_tile, 32, 8)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream_q5_1_avx512vnni, q5_1_tile, 32, 8)
SLM_PACKED_GEMM(slm_packed_gemm_q8_0_avx512vnni, q8_0_tile, 32, 8)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream_q8_0_avx512vnni, q8_0_tile, 32, 8)
SLM_PACKED_GEMM(slm_packed_gemm16_q4_0_avx512vnni, q4_0_tile16, 32, 8)
SLM_PACKED_GEMM(slm_packed_gemm16_q4_1_avx512vnni, q4_1_tile16, 32, 8)
SLM_PACKED_GEMM(slm_packed_gemm16_q5_0_avx512vnni, q5_0_tile16, 32, 8)
SLM_PACKED_GEMM(slm_packed_gemm16_q5_1_avx512vnni, q5_1_tile16, 32, 8)
SLM_PACKED_GEMM(slm_packed_gemm16_q8_0_avx512vnni, q8_0_tile16, 32, 8)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream16_q4_0_avx512vnni, q4_0_tile16, 32, 8)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream16_q4_1_avx512vnni, q4_1_tile16, 32, 8)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream16_q5_0_avx512vnni, q5_0_tile16, 32, 8)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream16_q5_1_avx512vnni, q5_1_tile16, 32, 8)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream16_q8_0_avx512vnni, q8_0_tile16, 32, 8)
SLM_PACKED_GEMV(slm_packed_gemv_q4_0_avx512vnni, q4_0_tile, 32)
SLM_PACKED_GEMV(slm_packed_gemv_q4_1_avx512vnni, q4_1_tile, 32)
SLM_PACKED_GEMV(slm_packed_gemv_q5_0_avx512vnni, q5_0_tile, 32)
SLM_PACKED_GEMV(slm_packed_gemv_q5_1_avx512vnni, q5_1_tile, 32)
SLM_PACKED_GEMV(slm_packed_gemv_q8_0_avx512vnni, q8_0_tile, 32)

#endif  // SLM_HAVE_X86
