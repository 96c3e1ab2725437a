// Scalar twins of the packed K-quant kernels (slm_packed_kq_avx2.c): each reads a row's super-block back in the GGUF
// layout (slm_unpack_*) and computes, per output, the float operations of the SIMD version in the same order (integer
// sums are exact, so their order is free), so the two are bit-identical. With y the Q8_K activation block b:
//   Q4_K: isum_b = sum_j sc_j * sum_l q * y.qs, msum_b = sum_j m_j * (bsums[2j] + bsums[2j+1]);
//         acc = fma((float)isum_b, d_w * y.d, acc), mins = fma((float)msum_b, dmin_w * y.d, mins) over blocks b,
//         out = acc - mins.
//   Q6_K: isum_b = sum_s sc_s * sum_l q * y.qs - 32 * sum_s sc_s * bsums[s] (q unsigned, the -32 through the exact
//         activation sums); acc = fma((float)isum_b, d_w * y.d, acc) over blocks b, out = acc.
#include <math.h>
#include "slm_internal.h"
#include "slm_kquants_internal.h"
#include "slm_packed_internal.h"

void slm_packed_gemm_q4_K_ref(int64_t n_in, const void *restrict group, const void *restrict act, size_t act_row,
                              int64_t n_tok, float *restrict out, size_t out_tok) {
    const int64_t nb = n_in / SLM_QK_K;
    for (int64_t t = 0; t < n_tok; t++) {
        const slm_block_q8_K *y = (const slm_block_q8_K *)((const char *)act + (size_t)t * act_row);
        for (int r = 0; r < SLM_PACK_ROWS; r++) {
            float acc = 0.0f, mins = 0.0f;
            for (int64_t b = 0; b < nb; b++) {
                slm_block_q4_K x;
                slm_unpack_q4_K((const char *)group + (size_t)b * slm_packed_group_bytes_q4_K(SLM_QK_K), SLM_QK_K, r, &x);
                uint8_t sc[8], m[8];
                slm_k4_unpack_scales(x.scales, sc, m);
                int isum = 0, msum = 0;
                for (int j = 0; j < 8; j++) {
                    int s = 0;
                    for (int l = 0; l < 32; l++) {
                        const uint8_t byte = x.qs[32 * (j / 2) + l];
                        s += ((j & 1) ? byte >> 4 : byte & 0x0f) * y[b].qs[32 * j + l];
                    }
                    isum += sc[j] * s;
                    msum += m[j] * (y[b].bsums[2 * j] + y[b].bsums[2 * j + 1]);
                }
                acc = fmaf((float)isum, slm_half_to_float(x.d) * y[b].d, acc);
                mins = fmaf((float)msum, slm_half_to_float(x.dmin) * y[b].d, mins);
            }
            out[(size_t)t * out_tok + (size_t)r] = acc - mins;
        }
    }
}

void slm_packed_gemm_q6_K_ref(int64_t n_in, const void *restrict group, const void *restrict act, size_t act_row,
                              int64_t n_tok, float *restrict out, size_t out_tok) {
    const int64_t nb = n_in / SLM_QK_K;
    for (int64_t t = 0; t < n_tok; t++) {
        const slm_block_q8_K *y = (const slm_block_q8_K *)((const char *)act + (size_t)t * act_row);
        for (int r = 0; r < SLM_PACK_ROWS; r++) {
            float acc = 0.0f;
            for (int64_t b = 0; b < nb; b++) {
                slm_block_q6_K x;
                slm_unpack_q6_K((const char *)group + (size_t)b * slm_packed_group_bytes_q6_K(SLM_QK_K), SLM_QK_K, r, &x);
                uint8_t q[SLM_QK_K];
                slm_q6_K_quants(&x, q);
                int isum = 0, corr = 0;
                for (int s = 0; s < 16; s++) {
                    int d = 0;
                    for (int l = 0; l < 16; l++) d += q[16 * s + l] * y[b].qs[16 * s + l];
                    isum += x.scales[s] * d;
                    corr += x.scales[s] * y[b].bsums[s];
                }
                isum -= 32 * corr;
                acc = fmaf((float)isum, slm_half_to_float(x.d) * y[b].d, acc);
            }
            out[(size_t)t * out_tok + (size_t)r] = acc;
        }
    }
}
