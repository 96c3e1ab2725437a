// Scalar twins of the packed Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q8_0 kernels (slm_packed_q32_avx2.c), reading the layouts of
// slm_packed_q32.c. Per output the float operations are those of the SIMD kernels in the same order (integer sums are
// exact, so their order is free), hence bit-identical:
//   acc = fma((float)isum_b, d_w[b] * d_a[b], acc) over blocks b, out = acc, where isum_b is the exact integer dot of
//   the block's stored quants with the activation quants, minus 8 * sum_a (Q4_0) or 16 * sum_a (Q5_0); Q4_1 and Q5_1
//   add their minimums' term (below).
#include <math.h>
#include "slm_internal.h"
#include "slm_packed_internal.h"

// Shared driver: `qdot(g, r, y)` is the exact integer dot of row r of group block g with activation block y.
#define PACKED_REF(NAME, BLOCK_BYTES, QDOT)                                                                          \
    void NAME(int64_t n_in, const void *restrict group, const void *restrict act, size_t act_row, int64_t n_tok,   \
              float *restrict out, size_t out_tok) {                                                               \
        const int64_t nb = n_in / 32;                                                                              \
        for (int64_t t = 0; t < n_tok; t++) {                                                                      \
            const slm_block_q8_s *y = (const slm_block_q8_s *)((const char *)act + (size_t)t * act_row);          \
            for (int r = 0; r < SLM_PACK_ROWS; r++) {                                                              \
                float acc = 0.0f;                                                                                  \
                const uint8_t *g = group;                                                                          \
                for (int64_t b = 0; b < nb; b++, g += (BLOCK_BYTES)) {                                             \
                    uint16_t dw;                                                                                   \
                    memcpy(&dw, g + 2 * r, 2);                                                                     \
                    const int isum = QDOT(g, r, &y[b]);                                                            \
                    acc = fmaf((float)isum, slm_half_to_float(dw) * y[b].d, acc);                                  \
                }                                                                                                  \
                out[(size_t)t * out_tok + (size_t)r] = acc;                                                        \
            }                                                                                                      \
        }                                                                                                          \
    }

static inline int qdot_q4_0(const uint8_t *g, int r, const slm_block_q8_s *y) {
    int isum = 0;
    for (int k = 0; k < 4; k++) {
        for (int e = 0; e < 4; e++) {
            const uint8_t q = g[16 + 32 * k + 4 * r + e];
            isum += (q & 0x0f) * y->qs[4 * k + e] + (q >> 4) * y->qs[16 + 4 * k + e];
        }
    }
    return isum - 8 * y->sum;
}

// 5-bit quants (0..31) with the 5th bits at g + h_off and the nibbles at g + q_off (slm_packed_q32.c).
static inline int qdot_5bit(const uint8_t *g, int h_off, int q_off, int r, const slm_block_q8_s *y) {
    int isum = 0;
    for (int k = 0; k < 4; k++) {
        for (int e = 0; e < 4; e++) {
            const uint8_t q = g[q_off + 32 * k + 4 * r + e], h = g[h_off + 4 * r + e];
            const int lo = (q & 0x0f) | (((h >> k) & 1) << 4), hi = (q >> 4) | (((h >> (4 + k)) & 1) << 4);
            isum += lo * y->qs[4 * k + e] + hi * y->qs[16 + 4 * k + e];
        }
    }
    return isum;
}

static inline int qdot_q5_0(const uint8_t *g, int r, const slm_block_q8_s *y) {
    return qdot_5bit(g, 16, 48, r, y) - 16 * y->sum;
}

static inline int qdot_q8_0(const uint8_t *g, int r, const slm_block_q8_s *y) {
    int isum = 0;
    for (int k = 0; k < 8; k++) {
        for (int e = 0; e < 4; e++) isum += (int8_t)g[16 + 32 * k + 4 * r + e] * y->qs[4 * k + e];
    }
    return isum;
}

PACKED_REF(slm_packed_gemm_q4_0_ref, 144, qdot_q4_0)
PACKED_REF(slm_packed_gemm_q5_0_ref, 176, qdot_q5_0)
PACKED_REF(slm_packed_gemm_q8_0_ref, 272, qdot_q8_0)

// Q4_1: acc = fma((float)isum_b, d_w[b] * d_a[b], acc) over blocks b, then
// mins = fma(m_w[b], d_a[b] * (float)sum_a[b], mins) over blocks b, out = acc + mins.
void slm_packed_gemm_q4_1_ref(int64_t n_in, const void *restrict group, const void *restrict act, size_t act_row,
                              int64_t n_tok, float *restrict out, size_t out_tok) {
    const int64_t nb = n_in / 32;
    for (int64_t t = 0; t < n_tok; t++) {
        const slm_block_q8_s *y = (const slm_block_q8_s *)((const char *)act + (size_t)t * act_row);
        for (int r = 0; r < SLM_PACK_ROWS; r++) {
            float acc = 0.0f, mins = 0.0f;
            const uint8_t *g = group;
            for (int64_t b = 0; b < nb; b++, g += 160) {
                uint16_t dw;
                memcpy(&dw, g + 2 * r, 2);
                int isum = 0;
                for (int k = 0; k < 4; k++) {
                    for (int e = 0; e < 4; e++) {
                        const uint8_t q = g[32 + 32 * k + 4 * r + e];
                        isum += (q & 0x0f) * y[b].qs[4 * k + e] + (q >> 4) * y[b].qs[16 + 4 * k + e];
                    }
                }
                acc = fmaf((float)isum, slm_half_to_float(dw) * y[b].d, acc);
            }
            g = group;
            for (int64_t b = 0; b < nb; b++, g += 160) {
                uint16_t mw;
                memcpy(&mw, g + 16 + 2 * r, 2);
                mins = fmaf(slm_half_to_float(mw), y[b].dsum, mins);
            }
            out[(size_t)t * out_tok + (size_t)r] = acc + mins;
        }
    }
}

// Q5_1: as Q4_1, acc over blocks, then mins = fma(m_w[b], d_a[b] * (float)sum_a[b], mins) over
// blocks, out = acc + mins.
void slm_packed_gemm_q5_1_ref(int64_t n_in, const void *restrict group, const void *restrict act, size_t act_row,
                              int64_t n_tok, float *restrict out, size_t out_tok) {
    const int64_t nb = n_in / 32;
    for (int64_t t = 0; t < n_tok; t++) {
        const slm_block_q8_s *y = (const slm_block_q8_s *)((const char *)act + (size_t)t * act_row);
        for (int r = 0; r < SLM_PACK_ROWS; r++) {
            float acc = 0.0f, mins = 0.0f;
            const uint8_t *g = group;
            for (int64_t b = 0; b < nb; b++, g += 192) {
                uint16_t dw;
                memcpy(&dw, g + 2 * r, 2);
                const int isum = qdot_5bit(g, 32, 64, r, &y[b]);
                acc = fmaf((float)isum, slm_half_to_float(dw) * y[b].d, acc);
            }
            g = group;
            for (int64_t b = 0; b < nb; b++, g += 192) {
                uint16_t mw;
                memcpy(&mw, g + 16 + 2 * r, 2);
                mins = fmaf(slm_half_to_float(mw), y[b].dsum, mins);
            }
            out[(size_t)t * out_tok + (size_t)r] = acc + mins;
        }
    }
}
