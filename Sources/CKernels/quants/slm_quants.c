// The basic types (F32, F16, BF16, Q4_0, Q4_1, Q8_0, Q8_1): their scalar reference kernels and their entries in the
// dispatch table (slm_dispatch.h). K-quants and Q5_x are filled by slm_kquants.c. Layouts follow ggml's block_q4_0 etc. (see slm_quants.h).
// The reference kernels round each multiply and add separately (the SIMD twins do the same where they must match).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif
#include "slm_quants.h"
#include "slm_kquants.h"
#include "slm_internal.h"
#include "slm_quants_internal.h"
#include "slm_dispatch.h"

float slm_fp16_to_fp32(uint16_t h) { return slm_half_to_float(h); }
uint16_t slm_fp32_to_fp16(float f) { return slm_float_to_half(f); }
float slm_bf16_to_fp32(uint16_t h) { return slm_bf16_to_float_inline(h); }

// ---- plain floats ----

void slm_dequant_f32_ref(const void *restrict src, float *restrict dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }
void slm_quant_f32_ref(const float *restrict src, void *restrict dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }

void slm_dequant_f16_ref(const void *restrict src, float *restrict dst, int64_t n) {
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++) dst[i] = slm_half_to_float(h[i]);
}
void slm_quant_f16_ref(const float *restrict src, void *restrict dst, int64_t n) {
    uint16_t *h = dst;
    for (int64_t i = 0; i < n; i++) h[i] = slm_float_to_half(src[i]);
}

void slm_dequant_bf16_ref(const void *restrict src, float *restrict dst, int64_t n) {
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++) dst[i] = slm_bf16_to_float_inline(h[i]);
}
// Round to nearest even on the upper 16 bits; NaN stays a (quiet) NaN.
void slm_quant_bf16_ref(const float *restrict src, void *restrict dst, int64_t n) {
    uint16_t *h = dst;
    for (int64_t i = 0; i < n; i++) {
        uint32_t x;
        memcpy(&x, &src[i], 4);
        if ((x & 0x7fffffffu) > 0x7f800000u) { h[i] = (uint16_t)((x >> 16) | 0x40); continue; }
        h[i] = (uint16_t)((x + 0x7fff + ((x >> 16) & 1)) >> 16);
    }
}

// Reference dots accumulate in double: they are the yardstick the SIMD versions are measured against.
void slm_vec_dot_f32_ref(int64_t n, const void *restrict w, const void *restrict a, float *restrict out) {
    const float *x = w, *y = a;
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * y[i];
    *out = (float)s;
}
void slm_vec_dot_f16_ref(int64_t n, const void *restrict w, const void *restrict a, float *restrict out) {
    const uint16_t *x = w;
    const float *y = a;
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)slm_half_to_float(x[i]) * y[i];
    *out = (float)s;
}
void slm_vec_dot_bf16_ref(int64_t n, const void *restrict w, const void *restrict a, float *restrict out) {
    const uint16_t *x = w;
    const float *y = a;
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)slm_bf16_to_float_inline(x[i]) * y[i];
    *out = (float)s;
}

// ---- 4-bit ----

void slm_dequant_q4_0_ref(const void *restrict src, float *restrict dst, int64_t n) {
    const slm_block_q4_0 *b = src;
    for (int64_t i = 0; i < n / SLM_QK4_0; i++, dst += SLM_QK4_0) {
        float d = slm_half_to_float(b[i].d);
        for (int j = 0; j < SLM_QK4_0 / 2; j++) {
            dst[j] = (float)((b[i].qs[j] & 0x0f) - 8) * d;
            dst[j + SLM_QK4_0 / 2] = (float)((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

// d = (value of largest magnitude) / -8, so that value maps to q = 0 exactly and the rest fit in [0, 15].
void slm_quant_q4_0_ref(const float *restrict src, void *restrict dst, int64_t n) {
    slm_block_q4_0 *b = dst;
    for (int64_t i = 0; i < n / SLM_QK4_0; i++, src += SLM_QK4_0) {
        float amax = 0, max = 0;
        for (int j = 0; j < SLM_QK4_0; j++) {
            if (fabsf(src[j]) > amax) { amax = fabsf(src[j]); max = src[j]; }
        }
        float d = max / -8.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = slm_float_to_half(d);
        for (int j = 0; j < SLM_QK4_0 / 2; j++) {
            int q0 = (int)floorf(src[j] * id + 8.5f);
            int q1 = (int)floorf(src[j + SLM_QK4_0 / 2] * id + 8.5f);
            q0 = SLM_MAX(0, SLM_MIN(15, q0));
            q1 = SLM_MAX(0, SLM_MIN(15, q1));
            b[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void slm_dequant_q4_1_ref(const void *restrict src, float *restrict dst, int64_t n) {
    const slm_block_q4_1 *b = src;
    for (int64_t i = 0; i < n / SLM_QK4_1; i++, dst += SLM_QK4_1) {
        float d = slm_half_to_float(b[i].d), m = slm_half_to_float(b[i].m);
        for (int j = 0; j < SLM_QK4_1 / 2; j++) {
            dst[j] = (float)(b[i].qs[j] & 0x0f) * d + m;
            dst[j + SLM_QK4_1 / 2] = (float)(b[i].qs[j] >> 4) * d + m;
        }
    }
}

// d = (max - min) / 15, m = min; q = round((x - min) / d).
void slm_quant_q4_1_ref(const float *restrict src, void *restrict dst, int64_t n) {
    slm_block_q4_1 *b = dst;
    for (int64_t i = 0; i < n / SLM_QK4_1; i++, src += SLM_QK4_1) {
        float min = src[0], max = src[0];
        for (int j = 1; j < SLM_QK4_1; j++) { min = SLM_MIN(min, src[j]); max = SLM_MAX(max, src[j]); }
        float d = (max - min) / 15.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = slm_float_to_half(d);
        b[i].m = slm_float_to_half(min);
        for (int j = 0; j < SLM_QK4_1 / 2; j++) {
            int q0 = (int)floorf((src[j] - min) * id + 0.5f);
            int q1 = (int)floorf((src[j + SLM_QK4_1 / 2] - min) * id + 0.5f);
            q0 = SLM_MAX(0, SLM_MIN(15, q0));
            q1 = SLM_MAX(0, SLM_MIN(15, q1));
            b[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

// ---- 8-bit ----

void slm_dequant_q8_0_ref(const void *restrict src, float *restrict dst, int64_t n) {
    const slm_block_q8_0 *b = src;
    for (int64_t i = 0; i < n / SLM_QK8_0; i++, dst += SLM_QK8_0) {
        float d = slm_half_to_float(b[i].d);
        for (int j = 0; j < SLM_QK8_0; j++) dst[j] = (float)b[i].qs[j] * d;
    }
}

void slm_dequant_q8_1_ref(const void *restrict src, float *restrict dst, int64_t n) {
    const slm_block_q8_1 *b = src;
    for (int64_t i = 0; i < n / SLM_QK8_1; i++, dst += SLM_QK8_1) {
        float d = slm_half_to_float(b[i].d);
        for (int j = 0; j < SLM_QK8_1; j++) dst[j] = (float)b[i].qs[j] * d;
    }
}

// One 32-element block to int8 with d = amax / 127 and q = round-half-even(x / d), the rounding the SIMD versions
// get from cvtps (so quantization is bit-identical across ISAs). Returns d (unrounded) and the sum of the quants.
static inline float quant_block_q8(const float *restrict x, int8_t *restrict q, int *restrict sum) {
    float amax = 0;
    for (int j = 0; j < 32; j++) amax = SLM_MAX(amax, fabsf(x[j]));
    float d = amax / 127.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    int s = 0;
    for (int j = 0; j < 32; j++) {
        int v = (int)nearbyintf(x[j] * id);
        q[j] = (int8_t)v;
        s += v;
    }
    *sum = s;
    return d;
}

float slm_quant_block_q8_ref(const float *restrict x, int8_t *restrict q, int *restrict sum) {
    return quant_block_q8(x, q, sum);
}

void slm_quant_q8_0_ref(const float *restrict src, void *restrict dst, int64_t n) {
    slm_block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / SLM_QK8_0; i++) {
        int sum;
        b[i].d = slm_float_to_half(quant_block_q8(src + i * SLM_QK8_0, b[i].qs, &sum));
    }
}

void slm_quant_q8_1_ref(const float *restrict src, void *restrict dst, int64_t n) {
    slm_block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / SLM_QK8_1; i++) {
        int sum;
        float d = quant_block_q8(src + i * SLM_QK8_1, b[i].qs, &sum);
        b[i].d = slm_float_to_half(d);
        b[i].s = slm_float_to_half(d * (float)sum);
    }
}

// ---- quantized dots: per block, an exact integer sum times the product of the two scales ----

void slm_vec_dot_q4_0_q8_0_ref(int64_t n, const void *restrict w, const void *restrict a, float *restrict out) {
    const slm_block_q4_0 *x = w;
    const slm_block_q8_0 *y = a;
    float s = 0;
    for (int64_t i = 0; i < n / SLM_QK4_0; i++) {
        int sumi = 0;
        for (int j = 0; j < SLM_QK4_0 / 2; j++) {
            sumi += ((x[i].qs[j] & 0x0f) - 8) * y[i].qs[j];
            sumi += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + SLM_QK4_0 / 2];
        }
        s += (float)sumi * (slm_half_to_float(x[i].d) * slm_half_to_float(y[i].d));
    }
    *out = s;
}

// sum_j (q_j d + m) * a_j = d * da * sum(q_j qa_j) + m * (da * sum(qa_j)), the last factor stored as s.
void slm_vec_dot_q4_1_q8_1_ref(int64_t n, const void *restrict w, const void *restrict a, float *restrict out) {
    const slm_block_q4_1 *x = w;
    const slm_block_q8_1 *y = a;
    float s = 0;
    for (int64_t i = 0; i < n / SLM_QK4_1; i++) {
        int sumi = 0;
        for (int j = 0; j < SLM_QK4_1 / 2; j++) {
            sumi += (x[i].qs[j] & 0x0f) * y[i].qs[j];
            sumi += (x[i].qs[j] >> 4) * y[i].qs[j + SLM_QK4_1 / 2];
        }
        s += (float)sumi * (slm_half_to_float(x[i].d) * slm_half_to_float(y[i].d)) +
             slm_half_to_float(x[i].m) * slm_half_to_float(y[i].s);
    }
    *out = s;
}

void slm_vec_dot_q8_0_q8_0_ref(int64_t n, const void *restrict w, const void *restrict a, float *restrict out) {
    const slm_block_q8_0 *x = w;
    const slm_block_q8_0 *y = a;
    float s = 0;
    for (int64_t i = 0; i < n / SLM_QK8_0; i++) {
        int sumi = 0;
        for (int j = 0; j < SLM_QK8_0; j++) sumi += x[i].qs[j] * y[i].qs[j];
        s += (float)sumi * (slm_half_to_float(x[i].d) * slm_half_to_float(y[i].d));
    }
    *out = s;
}

// ---- the family's kernels in the dispatch table ----

static slm_type_traits traits(const char *name, int64_t bs, int64_t ts, slm_type vdt, slm_dequant_row_fn dq,
                              slm_quant_row_fn q, slm_vec_dot_fn vd) {
    return (slm_type_traits){name, bs, ts, vdt, dq, q, vd};
}

// Each ISA replaces only the kernels that are faster than those of the ISA below. On AVX-512 the AVX2 dots stay for
// Q4_0/Q4_1/Q8_0 (their register tiles and the decode prefetch stream, slm_tiles_avx2.c, beat one-row AVX-512 dots)
// and F32; F16 takes its AVX-512 dot (faster in prefill). VNNI adds nothing to the unpacked kernels.
void slm_quants_fill(slm_kernel_table *k, slm_isa isa) {
    slm_type_traits *t = k->type;
    switch (isa) {
    case SLM_ISA_REF:
        t[SLM_TYPE_F32] = traits("F32", 1, 4, SLM_TYPE_F32, slm_dequant_f32_ref, slm_quant_f32_ref, slm_vec_dot_f32_ref);
        t[SLM_TYPE_F16] = traits("F16", 1, 2, SLM_TYPE_F32, slm_dequant_f16_ref, slm_quant_f16_ref, slm_vec_dot_f16_ref);
        t[SLM_TYPE_BF16] = traits("BF16", 1, 2, SLM_TYPE_F32, slm_dequant_bf16_ref, slm_quant_bf16_ref,
                                  slm_vec_dot_bf16_ref);
        t[SLM_TYPE_Q4_0] = traits("Q4_0", SLM_QK4_0, sizeof(slm_block_q4_0), SLM_TYPE_Q8_0, slm_dequant_q4_0_ref,
                                  slm_quant_q4_0_ref, slm_vec_dot_q4_0_q8_0_ref);
        t[SLM_TYPE_Q4_1] = traits("Q4_1", SLM_QK4_1, sizeof(slm_block_q4_1), SLM_TYPE_Q8_1, slm_dequant_q4_1_ref,
                                  slm_quant_q4_1_ref, slm_vec_dot_q4_1_q8_1_ref);
        t[SLM_TYPE_Q8_0] = traits("Q8_0", SLM_QK8_0, sizeof(slm_block_q8_0), SLM_TYPE_Q8_0, slm_dequant_q8_0_ref,
                                  slm_quant_q8_0_ref, slm_vec_dot_q8_0_q8_0_ref);
        // Q8_1 is an activation format only: no weight dot product.
        t[SLM_TYPE_Q8_1] = traits("Q8_1", SLM_QK8_1, sizeof(slm_block_q8_1), SLM_TYPE_Q8_1, slm_dequant_q8_1_ref,
                                  slm_quant_q8_1_ref, NULL);
        break;
#if SLM_HAVE_X86
    case SLM_ISA_AVX2:
        t[SLM_TYPE_F32].vec_dot = slm_vec_dot_f32_avx2;
        t[SLM_TYPE_F16].dequant = slm_dequant_f16_avx2;
        t[SLM_TYPE_F16].vec_dot = slm_vec_dot_f16_avx2;
        t[SLM_TYPE_BF16].dequant = slm_dequant_bf16_avx2;
        t[SLM_TYPE_BF16].vec_dot = slm_vec_dot_bf16_avx2;
        t[SLM_TYPE_Q4_0].dequant = slm_dequant_q4_0_avx2;
        t[SLM_TYPE_Q4_0].vec_dot = slm_vec_dot_q4_0_q8_0_avx2;
        t[SLM_TYPE_Q4_1].dequant = slm_dequant_q4_1_avx2;
        t[SLM_TYPE_Q4_1].vec_dot = slm_vec_dot_q4_1_q8_1_avx2;
        t[SLM_TYPE_Q8_0].dequant = slm_dequant_q8_0_avx2;
        t[SLM_TYPE_Q8_0].quant = slm_quant_q8_0_avx2;
        t[SLM_TYPE_Q8_0].vec_dot = slm_vec_dot_q8_0_q8_0_avx2;
        t[SLM_TYPE_Q8_1].dequant = slm_dequant_q8_1_avx2;
        t[SLM_TYPE_Q8_1].quant = slm_quant_q8_1_avx2;
        k->tiles[SLM_TYPE_Q4_0] = &slm_tiles_q4_0_avx2;
        k->tiles[SLM_TYPE_Q4_1] = &slm_tiles_q4_1_avx2;
        k->tiles[SLM_TYPE_Q8_0] = &slm_tiles_q8_0_avx2;
        break;
    case SLM_ISA_AVX512:
        t[SLM_TYPE_F16].vec_dot = slm_vec_dot_f16_avx512;
        t[SLM_TYPE_Q8_0].quant = slm_quant_q8_0_avx512;
        t[SLM_TYPE_Q8_1].quant = slm_quant_q8_1_avx512;
        break;
#endif
    default:
        break;
    }
}

const slm_type_traits *slm_type_traits_of(slm_type type, slm_isa isa) {
    const slm_kernel_table *k = slm_kernel_table_of(isa);
    if (!k || (int)type < 0 || type >= SLM_TYPE_COUNT || !k->type[type].name) return NULL;
    return &k->type[type];
}

const slm_type_traits *slm_get_type_traits_isa(slm_type type, slm_isa isa) {
    return slm_type_traits_of(type, slm_isa_runnable(isa));
}

const slm_type_traits *slm_get_type_traits(slm_type type) { return slm_type_traits_of(type, slm_active_isa()); }

size_t slm_row_size(slm_type type, int64_t n) {
    const slm_type_traits *t = slm_get_type_traits(type);
    if (!t || n < 0) return 0;
    return (size_t)(n / t->block_size) * (size_t)t->type_size;
}
