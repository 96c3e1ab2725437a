// Scalar twins of the packed kernels (slm_packed_avx2.c). Each performs, per output, exactly the float operations of
// the SIMD version in the same order (integer sums are exact, so their order is free), so the two are bit-identical:
//   Q4_1: acc = fma((float)isum_b, d_w[b] * d_a[b], acc) over blocks b, then
//         mins = fma(m_w[b], d_a[b] * (float)sum_a[b], mins) over blocks b, out = acc + mins.
#include <math.h>
#include "slm_internal.h"
#include "slm_packed_internal.h"

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
                acc = fmaf((float)isum, slm_half_to_float(dw) * slm_half_to_float(y[b].d), acc);
            }
            g = group;
            for (int64_t b = 0; b < nb; b++, g += 160) {
                uint16_t mw;
                memcpy(&mw, g + 16 + 2 * r, 2);
                mins = fmaf(slm_half_to_float(mw), slm_half_to_float(y[b].d) * (float)y[b].sum, mins);
            }
            out[(size_t)t * out_tok + (size_t)r] = acc + mins;
        }
    }
}
