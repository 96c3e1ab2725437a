// Kernels of the K-quant family (Q4_K, Q5_K, Q6_K, Q8_K) and Q5_0/Q5_1, shared between slm_kquants_ref.c,
// slm_kquants_avx2.c, slm_kquants_avx512.c and the dispatch-table entries in slm_kquants.c (not public).
// Every SIMD kernel has a scalar twin with the same signature and the suffix _ref.
#pragma once
#include <stdint.h>
#include "slm_kquants.h"
#include "slm_internal.h"

// Unpacks the 8 six-bit scales and 8 six-bit mins of a Q4_K/Q5_K super-block (12 bytes, layout in slm_kquants_ref.c)
// into sc[0..7] and m[0..7].
static inline void slm_k4_unpack_scales(const uint8_t *restrict packed, uint8_t *restrict sc, uint8_t *restrict m) {
    uint32_t w0, w1, w2;
    memcpy(&w0, packed, 4);
    memcpy(&w1, packed + 4, 4);
    memcpy(&w2, packed + 8, 4);
    const uint32_t lo6 = 0x3f3f3f3fu, lo4 = 0x0f0f0f0fu, top2 = 0x30303030u;
    uint32_t s_lo = w0 & lo6;                                  // scales 0..3: low 6 bits of bytes 0..3
    uint32_t m_lo = w1 & lo6;                                  // mins 0..3: low 6 bits of bytes 4..7
    uint32_t s_hi = (w2 & lo4) | ((w0 >> 2) & top2);           // scales 4..7: nibble of 8..11 | top 2 bits of 0..3
    uint32_t m_hi = ((w2 >> 4) & lo4) | ((w1 >> 2) & top2);    // mins 4..7: high nibble of 8..11 | top 2 of 4..7
    memcpy(sc, &s_lo, 4);
    memcpy(sc + 4, &s_hi, 4);
    memcpy(m, &m_lo, 4);
    memcpy(m + 4, &m_hi, 4);
}

// ---- scalar reference (slm_kquants_ref.c) ----
void slm_dequant_q4_K_ref(const void *restrict src, float *restrict dst, int64_t n);
void slm_dequant_q5_K_ref(const void *restrict src, float *restrict dst, int64_t n);
void slm_dequant_q6_K_ref(const void *restrict src, float *restrict dst, int64_t n);
void slm_dequant_q8_K_ref(const void *restrict src, float *restrict dst, int64_t n);
void slm_dequant_q5_0_ref(const void *restrict src, float *restrict dst, int64_t n);
void slm_dequant_q5_1_ref(const void *restrict src, float *restrict dst, int64_t n);

void slm_quant_q4_K_ref(const float *restrict src, void *restrict dst, int64_t n);
void slm_quant_q5_K_ref(const float *restrict src, void *restrict dst, int64_t n);
void slm_quant_q6_K_ref(const float *restrict src, void *restrict dst, int64_t n);
void slm_quant_q8_K_ref(const float *restrict src, void *restrict dst, int64_t n);
void slm_quant_q5_0_ref(const float *restrict src, void *restrict dst, int64_t n);
void slm_quant_q5_1_ref(const float *restrict src, void *restrict dst, int64_t n);

void slm_vec_dot_q4_K_q8_K_ref(int64_t n, const void *restrict w, const void *restrict act, float *restrict out);
void slm_vec_dot_q5_K_q8_K_ref(int64_t n, const void *restrict w, const void *restrict act, float *restrict out);
void slm_vec_dot_q6_K_q8_K_ref(int64_t n, const void *restrict w, const void *restrict act, float *restrict out);
void slm_vec_dot_q5_0_q8_0_ref(int64_t n, const void *restrict w, const void *restrict act, float *restrict out);
void slm_vec_dot_q5_1_q8_1_ref(int64_t n, const void *restrict w, const void *restrict act, float *restrict out);

#if SLM_HAVE_X86
// ---- AVX2 + FMA + F16C (slm_kquants_avx2.c) ----
void slm_quant_q8_K_avx2(const float *restrict src, void *restrict dst, int64_t n);
void slm_vec_dot_q4_K_q8_K_avx2(int64_t n, const void *restrict w, const void *restrict act, float *restrict out);
void slm_vec_dot_q5_K_q8_K_avx2(int64_t n, const void *restrict w, const void *restrict act, float *restrict out);
void slm_vec_dot_q6_K_q8_K_avx2(int64_t n, const void *restrict w, const void *restrict act, float *restrict out);
void slm_vec_dot_q5_0_q8_0_avx2(int64_t n, const void *restrict w, const void *restrict act, float *restrict out);
void slm_vec_dot_q5_1_q8_1_avx2(int64_t n, const void *restrict w, const void *restrict act, float *restrict out);

// ---- AVX-512 F/BW/VL/DQ (slm_kquants_avx512.c) ----
void slm_vec_dot_q6_K_q8_K_avx512(int64_t n, const void *restrict w, const void *restrict act, float *restrict out);
void slm_vec_dot_q5_1_q8_1_avx512(int64_t n, const void *restrict w, const void *restrict act, float *restrict out);
#endif
