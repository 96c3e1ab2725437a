// AVX-512 VNNI kernels of the packed K-quant layouts (slm_packed_kq.c) with Q8_K activations, on 256-bit vectors
// (AVX512VL): the structure of the AVX2 tiles (slm_packed_kq_avx2.c), one 32-bit lane per row of the group, with the
// quants' dots taken by vpdpbusd (4 unsigned x signed byte products added into each 32-bit lane, exactly) and scaled
// per sub-block by a 32-bit multiply. Per output the float operations are those of the scalar twins in
// slm_packed_kq_ref.c, in the same order (bit-identical); integer sums are exact:
//   Q4_K: a sub-block's dot (32 nibbles x activations) is at most 32 * 15 * 127 in magnitude, times a scale <= 63.
//   Q6_K: a sub-block's dot (16 unsigned 6-bit quants x activations) is at most 16 * 63 * 128, times an int8 scale;
//         the -32 is 32 * sum_s sc_s * bsums_s, as in the AVX2 tile.
#include "slm_internal.h"
#include "slm_packed_internal.h"

#if SLM_HAVE_X86
#define PK_TARGET SLM_TARGET_AVX512VNNI
#include "slm_packed_simd.h"

// Byte e of each row's 4 bytes, zero-extended (unsigned) or sign-extended (signed) to the row's 32-bit lane.
PK_INLINE __m256i lane_byte_u32(__m256i v, int e) { return _mm256_srli_epi32(_mm256_slli_epi32(v, 24 - 8 * e), 24); }
PK_INLINE __m256i lane_byte_i32(__m256i v, int e) { return _mm256_srai_epi32(_mm256_slli_epi32(v, 24 - 8 * e), 24); }

PK_INLINE __m256i dot4(__m256i acc, __m256i u, const int8_t *a) { return _mm256_dpbusd_epi32(acc, u, bcast4(a)); }

// ---- Q4_K ----

// Per chunk c (sub-blocks 2c, 2c + 1) and token: the two sub-blocks' dots over 8 weight vectors, in 2 accumulators
// each for a lone token (the latency of the vpdpbusd chains), then scaled and added to the block's sum.
PK_INLINE void q4_K_tile(int64_t nb, const uint8_t *group, const char *act, size_t act_row, float *out,
                         size_t out_tok, const int NT, slm_pf_cursor *pf) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    const int CH = NT == 1 ? 2 : 1;
    __m256 acc[4], mins[4];
    for (int t = 0; t < NT; t++) acc[t] = mins[t] = _mm256_setzero_ps();
    const uint8_t *g = group;
    for (int64_t b = 0; b < nb; b++, g += SLM_PACK_ROWS * sizeof(slm_block_q4_K)) {
        const slm_block_q8_K *y[4];
        __m256i isum[4];
        for (int t = 0; t < NT; t++) {
            y[t] = (const slm_block_q8_K *)(act + (size_t)t * act_row) + b;
            isum[t] = _mm256_setzero_si256();
        }
        const q4_K_scales sc = q4_K_unpack_scales(g);
        for (int c = 0; c < 4; c++) {
            if (pf) slm_pf_step(pf, SLM_PACK_ROWS * sizeof(slm_block_q4_K) / 4);
            __m256i slo[4][2], shi[4][2];
            for (int t = 0; t < NT; t++)
                for (int h = 0; h < CH; h++) slo[t][h] = shi[t][h] = _mm256_setzero_si256();
            for (int k = 0; k < 8; k++) {
                const __m256i p = _mm256_loadu_si256((const __m256i *)(g + 128 + 32 * (8 * c + k)));
                const __m256i lo = _mm256_and_si256(p, m4), hi = _mm256_and_si256(_mm256_srli_epi16(p, 4), m4);
                for (int t = 0; t < NT; t++) {
                    slo[t][k % CH] = dot4(slo[t][k % CH], lo, y[t]->qs + 64 * c + 4 * k);
                    shi[t][k % CH] = dot4(shi[t][k % CH], hi, y[t]->qs + 64 * c + 32 + 4 * k);
                }
            }
            const __m256i sv = sc.sc[c / 2];
            const __m256i s0 = lane_byte_u32(sv, (2 * c) % 4), s1 = lane_byte_u32(sv, (2 * c) % 4 + 1);
            for (int t = 0; t < NT; t++) {
                const __m256i dl = CH == 2 ? _mm256_add_epi32(slo[t][0], slo[t][1]) : slo[t][0];
                const __m256i dh = CH == 2 ? _mm256_add_epi32(shi[t][0], shi[t][1]) : shi[t][0];
                isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_mullo_epi32(dl, s0),
                                                                     _mm256_mullo_epi32(dh, s1)));
            }
        }
        q4_K_block_end(g, &sc, y, isum, acc, mins, NT);
    }
    for (int t = 0; t < NT; t++) _mm256_storeu_ps(out + (size_t)t * out_tok, _mm256_sub_ps(acc[t], mins[t]));
}

// ---- Q6_K ----

PK_INLINE void q6_K_tile(int64_t nb, const uint8_t *group, const char *act, size_t act_row, float *out,
                         size_t out_tok, const int NT, slm_pf_cursor *pf) {
    __m256 acc[8];
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();
    const uint8_t *g = group;
    for (int64_t b = 0; b < nb; b++, g += SLM_PACK_ROWS * sizeof(slm_block_q6_K)) {
        const slm_block_q8_K *y[8];
        __m256i isum[8];
        for (int t = 0; t < NT; t++) {
            y[t] = (const slm_block_q8_K *)(act + (size_t)t * act_row) + b;
            isum[t] = _mm256_setzero_si256();
        }
        for (int s = 0; s < 16; s++) {
            if (pf && s % 4 == 0) slm_pf_step(pf, SLM_PACK_ROWS * sizeof(slm_block_q6_K) / 4);
            const __m256i sc = lane_byte_i32(_mm256_loadu_si256((const __m256i *)(g + 16 + 32 * (s / 4))), s % 4);
            __m256i q[4];
            q6_K_quants(g, s, q);
            for (int t = 0; t < NT; t++) {
                const int8_t *x8 = y[t]->qs + 16 * s;
                const __m256i d01 = dot4(dot4(_mm256_setzero_si256(), q[0], x8), q[1], x8 + 4);
                const __m256i d23 = dot4(dot4(_mm256_setzero_si256(), q[2], x8 + 8), q[3], x8 + 12);
                isum[t] = _mm256_add_epi32(isum[t], _mm256_mullo_epi32(_mm256_add_epi32(d01, d23), sc));
            }
        }
        q6_K_block_end(g, y, isum, acc, NT);
    }
    for (int t = 0; t < NT; t++) _mm256_storeu_ps(out + (size_t)t * out_tok, acc[t]);
}

SLM_PACKED_GEMM(slm_packed_gemm_q4_K_avx512vnni, q4_K_tile, SLM_QK_K, 4)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream_q4_K_avx512vnni, q4_K_tile, SLM_QK_K, 4)
SLM_PACKED_GEMM(slm_packed_gemm_q6_K_avx512vnni, q6_K_tile, SLM_QK_K, 8)
SLM_PACKED_GEMM_STREAM(slm_packed_gemm_stream_q6_K_avx512vnni, q6_K_tile, SLM_QK_K, 8)
SLM_PACKED_GEMV(slm_packed_gemv_q4_K_avx512vnni, q4_K_tile, SLM_QK_K)
SLM_PACKED_GEMV(slm_packed_gemv_q6_K_avx512vnni, q6_K_tile, SLM_QK_K)

#endif  // SLM_HAVE_X86
