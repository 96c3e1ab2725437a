// Scalar reference kernels of the K-quant family (Q4_K, Q5_K, Q6_K, Q8_K) and Q5_0/Q5_1: the slow, obviously right
// twins every SIMD kernel is tested against.
//
// Layouts, as ggml writes them (checked against ggml-quants.c get_scale_min_k4/dequantize_row_* and gguf-py
// gguf/quants.py Q4_K.get_scale_min, Q5_K/Q6_K/Q5_0 dequantize_blocks):
// - Q4_K / Q5_K super-block of 256 = 8 sub-blocks of 32; x = d*sc[j]*q - dmin*m[j], q 4 (5) bits unsigned.
//   scales[12]: bytes 0..3 = sc[0..3] (low 6 bits) | top 2 bits of sc[4..7] (bits 6-7);
//               bytes 4..7 = m[0..3] (low 6 bits)  | top 2 bits of m[4..7];
//               bytes 8..11 = low nibble: low 4 bits of sc[4..7], high nibble: low 4 bits of m[4..7].
//   qs: 4 chunks of 32 bytes; chunk c holds element 64c+l in the low nibble of byte l, 64c+32+l in the high nibble.
//   Q5_K qh[32]: bit 2c of qh[l] is the 5th bit of element 64c+l, bit 2c+1 that of element 64c+32+l.
// - Q6_K: 16 sub-blocks of 16 with int8 scales; x = d*scales[e/16]*(q-32), q 6 bits. Two halves of 128; in half h,
//   with ql = ql+64h, qh = qh+32h, for l < 32: element l = ql[l]&15, 32+l = ql[32+l]&15, 64+l = ql[l]>>4,
//   96+l = ql[32+l]>>4, and bits 2g..2g+1 of qh[l] are the high 2 bits of element 32g+l.
// - Q5_0 / Q5_1 block of 32: bit j of the little-endian u32 qh is the 5th bit of element j; low 4 bits as in Q4_0.
// - Q8_K: f32 d, 256 int8, bsums[k] = sum of qs[16k..16k+15].
#include <float.h>
#include "slm_kquants_internal.h"

static inline int round_int(float x) { return (int)nearbyintf(x); }  // round half to even, as cvtps2dq does
static inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// ---- block unpacking shared by dequant and dot ----

// q[0..255] = the unsigned 4-bit (Q4_K) or 5-bit (Q5_K, qh != NULL) quants of one super-block, in element order.
static void unpack_k_quants(const uint8_t *qs, const uint8_t *qh, uint8_t *q) {
    for (int c = 0; c < 4; c++) {
        for (int l = 0; l < 32; l++) {
            uint8_t lo = qs[32 * c + l] & 0x0f, hi = qs[32 * c + l] >> 4;
            if (qh) {
                lo |= ((qh[l] >> (2 * c)) & 1) << 4;
                hi |= ((qh[l] >> (2 * c + 1)) & 1) << 4;
            }
            q[64 * c + l] = lo;
            q[64 * c + 32 + l] = hi;
        }
    }
}

// q[0..255] = the signed 6-bit quants (q - 32) of a Q6_K block, in element order.
static void unpack_q6_K(const slm_block_q6_K *b, int8_t *q) {
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
        int8_t *y = q + 128 * h;
        for (int l = 0; l < 32; l++) {
            y[l] = (int8_t)(((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32);
            y[32 + l] = (int8_t)(((ql[32 + l] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32);
            y[64 + l] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
            y[96 + l] = (int8_t)(((ql[32 + l] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
        }
    }
}

// q[0..31] = the unsigned 5-bit quants of a Q5_0/Q5_1 block.
static void unpack_q5(const uint8_t qh_bytes[4], const uint8_t qs[16], uint8_t *q) {
    uint32_t qh;
    memcpy(&qh, qh_bytes, 4);
    for (int j = 0; j < 16; j++) {
        q[j] = (uint8_t)((qs[j] & 0x0f) | (((qh >> j) & 1) << 4));
        q[j + 16] = (uint8_t)((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
    }
}

// ---- dequantize ----

static void dequant_k45(const uint16_t d16, const uint16_t dmin16, const uint8_t *scales, const uint8_t *qs,
                        const uint8_t *qh, float *y) {
    uint8_t q[SLM_QK_K], sc[8], m[8];
    unpack_k_quants(qs, qh, q);
    slm_k4_unpack_scales(scales, sc, m);
    const float d = slm_half_to_float(d16), dmin = slm_half_to_float(dmin16);
    for (int j = 0; j < 8; j++) {
        const float dj = d * sc[j], mj = dmin * m[j];
        for (int l = 0; l < 32; l++) {
            const float v = dj * q[32 * j + l];
            y[32 * j + l] = v - mj;
        }
    }
}

void slm_dequant_q4_K_ref(const void *restrict src, float *restrict dst, int64_t n) {
    const slm_block_q4_K *b = src;
    for (int64_t i = 0; i < n / SLM_QK_K; i++) dequant_k45(b[i].d, b[i].dmin, b[i].scales, b[i].qs, 0, dst + i * SLM_QK_K);
}

void slm_dequant_q5_K_ref(const void *restrict src, float *restrict dst, int64_t n) {
    const slm_block_q5_K *b = src;
    for (int64_t i = 0; i < n / SLM_QK_K; i++) {
        dequant_k45(b[i].d, b[i].dmin, b[i].scales, b[i].qs, b[i].qh, dst + i * SLM_QK_K);
    }
}

void slm_dequant_q6_K_ref(const void *restrict src, float *restrict dst, int64_t n) {
    const slm_block_q6_K *b = src;
    for (int64_t i = 0; i < n / SLM_QK_K; i++) {
        int8_t q[SLM_QK_K];
        unpack_q6_K(&b[i], q);
        const float d = slm_half_to_float(b[i].d);
        float *y = dst + i * SLM_QK_K;
        for (int k = 0; k < SLM_QK_K / 16; k++) {
            const float dk = d * b[i].scales[k];
            for (int l = 0; l < 16; l++) y[16 * k + l] = dk * q[16 * k + l];
        }
    }
}

void slm_dequant_q8_K_ref(const void *restrict src, float *restrict dst, int64_t n) {
    const slm_block_q8_K *b = src;
    for (int64_t i = 0; i < n / SLM_QK_K; i++) {
        for (int l = 0; l < SLM_QK_K; l++) dst[i * SLM_QK_K + l] = b[i].d * b[i].qs[l];
    }
}

void slm_dequant_q5_0_ref(const void *restrict src, float *restrict dst, int64_t n) {
    const slm_block_q5_0 *b = src;
    for (int64_t i = 0; i < n / SLM_QK5_0; i++) {
        uint8_t q[32];
        unpack_q5(b[i].qh, b[i].qs, q);
        const float d = slm_half_to_float(b[i].d);
        for (int j = 0; j < 32; j++) dst[i * 32 + j] = d * (float)((int)q[j] - 16);
    }
}

void slm_dequant_q5_1_ref(const void *restrict src, float *restrict dst, int64_t n) {
    const slm_block_q5_1 *b = src;
    for (int64_t i = 0; i < n / SLM_QK5_1; i++) {
        uint8_t q[32];
        unpack_q5(b[i].qh, b[i].qs, q);
        const float d = slm_half_to_float(b[i].d), m = slm_half_to_float(b[i].m);
        for (int j = 0; j < 32; j++) {
            const float v = d * (float)q[j];
            dst[i * 32 + j] = v + m;
        }
    }
}

// ---- quantize: per-block scale search ----

// Fits x[0..n) ~ scale*L - offset with L in [0, nmax], scale >= 0, offset >= 0 (the K-quant minimum is stored as a
// non-negative value subtracted). Tries 21 grid scales around (max-min)/nmax, refits scale and offset by least squares
// for each rounding, and keeps the one with the smallest squared error.
static void fit_asym(int n, int nmax, const float *x, float *scale, float *offset) {
    float xmin = x[0], xmax = x[0];
    for (int i = 1; i < n; i++) {
        xmin = x[i] < xmin ? x[i] : xmin;
        xmax = x[i] > xmax ? x[i] : xmax;
    }
    if (xmin > 0) xmin = 0;
    if (xmax <= xmin) { *scale = 0; *offset = -xmin; return; }
    float best_a = (xmax - xmin) / nmax, best_b = xmin, best_err = FLT_MAX;
    for (int k = -10; k <= 10; k++) {
        const float iscale = (nmax + 0.1f * k) / (xmax - xmin);
        float sl = 0, sl2 = 0, sx = 0, sxl = 0;
        int L[SLM_QK_K];
        for (int i = 0; i < n; i++) {
            L[i] = clamp_int(round_int((x[i] - xmin) * iscale), 0, nmax);
            sl += L[i]; sl2 += (float)L[i] * L[i]; sx += x[i]; sxl += x[i] * L[i];
        }
        const float det = n * sl2 - sl * sl;
        if (det <= 0) continue;
        float a = (n * sxl - sl * sx) / det, b = (sl2 * sx - sl * sxl) / det;
        if (b > 0) { b = 0; a = sxl / sl2; }
        if (a <= 0) continue;
        float err = 0;
        for (int i = 0; i < n; i++) { const float e = a * L[i] + b - x[i]; err += e * e; }
        if (err < best_err) { best_err = err; best_a = a; best_b = b; }
    }
    *scale = best_a;
    *offset = -best_b;
}

// Fits x[0..n) ~ scale*L with L in [-nmax, nmax-1] (scale of either sign): grid of 21 scales around max/-nmax, each
// rounding refit by least squares, smallest squared error kept.
static float fit_sym(int n, int nmax, const float *x) {
    float amax = 0, max = 0;
    for (int i = 0; i < n; i++) {
        if (fabsf(x[i]) > amax) { amax = fabsf(x[i]); max = x[i]; }
    }
    if (amax == 0) return 0;
    float best = max / -nmax, best_err = FLT_MAX;
    for (int k = -10; k <= 10; k++) {
        const float iscale = -(nmax + 0.1f * k) / max;
        float sxl = 0, sl2 = 0, sx2 = 0;
        for (int i = 0; i < n; i++) {
            const int l = clamp_int(round_int(iscale * x[i]), -nmax, nmax - 1);
            sxl += x[i] * l; sl2 += (float)l * l; sx2 += x[i] * x[i];
        }
        if (sl2 <= 0) continue;
        const float a = sxl / sl2;
        const float err = sx2 - a * sxl;  // squared error at the least-squares scale
        if (err < best_err) { best_err = err; best = a; }
    }
    return best;
}

// Shared by Q4_K (nmax 15) and Q5_K (nmax 31): fills d, dmin, scales and the element quants q[0..255].
static void quant_k45(const float *x, int nmax, uint16_t *d16, uint16_t *dmin16, uint8_t *scales, uint8_t *q) {
    float sub_scale[8], sub_min[8], max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        fit_asym(32, nmax, x + 32 * j, &sub_scale[j], &sub_min[j]);
        max_scale = SLM_MAX(max_scale, sub_scale[j]);
        max_min = SLM_MAX(max_min, sub_min[j]);
    }
    *d16 = slm_float_to_half(max_scale / 63);
    *dmin16 = slm_float_to_half(max_min / 63);
    const float d = slm_half_to_float(*d16), dmin = slm_half_to_float(*dmin16);
    uint8_t sc[8], m[8];
    for (int j = 0; j < 8; j++) {
        sc[j] = (uint8_t)(d > 0 ? clamp_int(round_int(sub_scale[j] / d), 0, 63) : 0);
        m[j] = (uint8_t)(dmin > 0 ? clamp_int(round_int(sub_min[j] / dmin), 0, 63) : 0);
        const float dj = d * sc[j], mj = dmin * m[j];
        for (int l = 0; l < 32; l++) {
            q[32 * j + l] = (uint8_t)(dj > 0 ? clamp_int(round_int((x[32 * j + l] + mj) / dj), 0, nmax) : 0);
        }
    }
    for (int j = 0; j < 4; j++) {
        scales[j] = (uint8_t)((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
        scales[j + 4] = (uint8_t)((m[j] & 63) | ((m[j + 4] >> 4) << 6));
        scales[j + 8] = (uint8_t)((sc[j + 4] & 0x0f) | ((m[j + 4] & 0x0f) << 4));
    }
}

void slm_quant_q4_K_ref(const float *restrict src, void *restrict dst, int64_t n) {
    slm_block_q4_K *b = dst;
    for (int64_t i = 0; i < n / SLM_QK_K; i++) {
        uint8_t q[SLM_QK_K];
        quant_k45(src + i * SLM_QK_K, 15, &b[i].d, &b[i].dmin, b[i].scales, q);
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) b[i].qs[32 * c + l] = (uint8_t)(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
        }
    }
}

void slm_quant_q5_K_ref(const float *restrict src, void *restrict dst, int64_t n) {
    slm_block_q5_K *b = dst;
    for (int64_t i = 0; i < n / SLM_QK_K; i++) {
        uint8_t q[SLM_QK_K];
        quant_k45(src + i * SLM_QK_K, 31, &b[i].d, &b[i].dmin, b[i].scales, q);
        memset(b[i].qh, 0, sizeof b[i].qh);
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                const uint8_t lo = q[64 * c + l], hi = q[64 * c + 32 + l];
                b[i].qs[32 * c + l] = (uint8_t)((lo & 0x0f) | ((hi & 0x0f) << 4));
                b[i].qh[l] |= (uint8_t)(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
        }
    }
}

void slm_quant_q6_K_ref(const float *restrict src, void *restrict dst, int64_t n) {
    slm_block_q6_K *b = dst;
    for (int64_t i = 0; i < n / SLM_QK_K; i++) {
        const float *x = src + i * SLM_QK_K;
        float sub_scale[16], amax = 0;
        for (int k = 0; k < 16; k++) {
            sub_scale[k] = fit_sym(16, 32, x + 16 * k);
            amax = SLM_MAX(amax, fabsf(sub_scale[k]));
        }
        b[i].d = slm_float_to_half(amax / 127);
        const float d = slm_half_to_float(b[i].d);
        uint8_t q[SLM_QK_K];  // unsigned q + 32
        for (int k = 0; k < 16; k++) {
            const int ls = d > 0 ? clamp_int(round_int(sub_scale[k] / d), -127, 127) : 0;
            b[i].scales[k] = (int8_t)ls;
            const float dk = d * ls;
            for (int l = 0; l < 16; l++) {
                const int v = dk != 0 ? clamp_int(round_int(x[16 * k + l] / dk), -32, 31) : 0;
                q[16 * k + l] = (uint8_t)(v + 32);
            }
        }
        for (int h = 0; h < 2; h++) {
            uint8_t *ql = b[i].ql + 64 * h, *qh = b[i].qh + 32 * h;
            const uint8_t *y = q + 128 * h;
            for (int l = 0; l < 32; l++) {
                ql[l] = (uint8_t)((y[l] & 0x0f) | ((y[64 + l] & 0x0f) << 4));
                ql[32 + l] = (uint8_t)((y[32 + l] & 0x0f) | ((y[96 + l] & 0x0f) << 4));
                qh[l] = (uint8_t)((y[l] >> 4) | ((y[32 + l] >> 4) << 2) | ((y[64 + l] >> 4) << 4) | ((y[96 + l] >> 4) << 6));
            }
        }
    }
}

// Q8_K: d = amax/127 (stored as 1/iscale so the SIMD twin reproduces it bit for bit), q = round(x*127/amax).
void slm_quant_q8_K_ref(const float *restrict src, void *restrict dst, int64_t n) {
    slm_block_q8_K *b = dst;
    for (int64_t i = 0; i < n / SLM_QK_K; i++) {
        const float *x = src + i * SLM_QK_K;
        float amax = 0;
        for (int l = 0; l < SLM_QK_K; l++) amax = SLM_MAX(amax, fabsf(x[l]));
        if (amax == 0) {
            memset(&b[i], 0, sizeof b[i]);
            continue;
        }
        const float iscale = 127.0f / amax;
        b[i].d = 1.0f / iscale;
        for (int k = 0; k < 16; k++) {
            int sum = 0;
            for (int l = 0; l < 16; l++) {
                const int v = clamp_int(round_int(iscale * x[16 * k + l]), -127, 127);
                b[i].qs[16 * k + l] = (int8_t)v;
                sum += v;
            }
            b[i].bsums[k] = (int16_t)sum;
        }
    }
}

// Q5_0: symmetric search with q - 16 in [-16, 15]; d rounded to f16 before the quants are chosen.
void slm_quant_q5_0_ref(const float *restrict src, void *restrict dst, int64_t n) {
    slm_block_q5_0 *b = dst;
    for (int64_t i = 0; i < n / SLM_QK5_0; i++) {
        const float *x = src + i * 32;
        b[i].d = slm_float_to_half(fit_sym(32, 16, x));
        const float d = slm_half_to_float(b[i].d);
        uint8_t q[32];
        for (int j = 0; j < 32; j++) q[j] = (uint8_t)(d != 0 ? clamp_int(round_int(x[j] / d), -16, 15) + 16 : 16);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) b[i].qs[j] = (uint8_t)((q[j] & 0x0f) | ((q[j + 16] & 0x0f) << 4));
        for (int j = 0; j < 32; j++) qh |= (uint32_t)(q[j] >> 4) << j;
        memcpy(b[i].qh, &qh, 4);
    }
}

// Q5_1: x = q*d + m with m the block minimum and d = (max - min)/31 (both rounded to f16 before choosing q).
void slm_quant_q5_1_ref(const float *restrict src, void *restrict dst, int64_t n) {
    slm_block_q5_1 *b = dst;
    for (int64_t i = 0; i < n / SLM_QK5_1; i++) {
        const float *x = src + i * 32;
        float xmin = x[0], xmax = x[0];
        for (int j = 1; j < 32; j++) { xmin = SLM_MIN(xmin, x[j]); xmax = SLM_MAX(xmax, x[j]); }
        b[i].d = slm_float_to_half((xmax - xmin) / 31);
        b[i].m = slm_float_to_half(xmin);
        const float d = slm_half_to_float(b[i].d), m = slm_half_to_float(b[i].m);
        uint8_t q[32];
        for (int j = 0; j < 32; j++) q[j] = (uint8_t)(d > 0 ? clamp_int(round_int((x[j] - m) / d), 0, 31) : 0);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) b[i].qs[j] = (uint8_t)((q[j] & 0x0f) | ((q[j + 16] & 0x0f) << 4));
        for (int j = 0; j < 32; j++) qh |= (uint32_t)(q[j] >> 4) << j;
        memcpy(b[i].qh, &qh, 4);
    }
}

// ---- dot products: integer sums per sub-block, floats once per block ----

static float dot_k45(const uint8_t *q, const uint8_t *scales, uint16_t d16, uint16_t dmin16, const slm_block_q8_K *a) {
    uint8_t sc[8], m[8];
    slm_k4_unpack_scales(scales, sc, m);
    int32_t sumi = 0, summ = 0;
    for (int j = 0; j < 8; j++) {
        int32_t s = 0;
        for (int l = 0; l < 32; l++) s += q[32 * j + l] * a->qs[32 * j + l];
        sumi += sc[j] * s;
        summ += m[j] * (a->bsums[2 * j] + a->bsums[2 * j + 1]);
    }
    return a->d * slm_half_to_float(d16) * sumi - a->d * slm_half_to_float(dmin16) * summ;
}

// W: n elements of Q4_K, act: n elements of Q8_K -> *out = sum_i w_i * a_i.
void slm_vec_dot_q4_K_q8_K_ref(int64_t n, const void *restrict w, const void *restrict act, float *restrict out) {
    const slm_block_q4_K *x = w;
    const slm_block_q8_K *y = act;
    float sum = 0;
    for (int64_t i = 0; i < n / SLM_QK_K; i++) {
        uint8_t q[SLM_QK_K];
        unpack_k_quants(x[i].qs, 0, q);
        sum += dot_k45(q, x[i].scales, x[i].d, x[i].dmin, &y[i]);
    }
    *out = sum;
}

void slm_vec_dot_q5_K_q8_K_ref(int64_t n, const void *restrict w, const void *restrict act, float *restrict out) {
    const slm_block_q5_K *x = w;
    const slm_block_q8_K *y = act;
    float sum = 0;
    for (int64_t i = 0; i < n / SLM_QK_K; i++) {
        uint8_t q[SLM_QK_K];
        unpack_k_quants(x[i].qs, x[i].qh, q);
        sum += dot_k45(q, x[i].scales, x[i].d, x[i].dmin, &y[i]);
    }
    *out = sum;
}

void slm_vec_dot_q6_K_q8_K_ref(int64_t n, const void *restrict w, const void *restrict act, float *restrict out) {
    const slm_block_q6_K *x = w;
    const slm_block_q8_K *y = act;
    float sum = 0;
    for (int64_t i = 0; i < n / SLM_QK_K; i++) {
        int8_t q[SLM_QK_K];
        unpack_q6_K(&x[i], q);
        int32_t sumi = 0;
        for (int k = 0; k < 16; k++) {
            int32_t s = 0;
            for (int l = 0; l < 16; l++) s += q[16 * k + l] * y[i].qs[16 * k + l];
            sumi += x[i].scales[k] * s;
        }
        sum += y[i].d * slm_half_to_float(x[i].d) * sumi;
    }
    *out = sum;
}

void slm_vec_dot_q5_0_q8_0_ref(int64_t n, const void *restrict w, const void *restrict act, float *restrict out) {
    const slm_block_q5_0 *x = w;
    const slm_block_q8_0 *y = act;
    float sum = 0;
    for (int64_t i = 0; i < n / SLM_QK5_0; i++) {
        uint8_t q[32];
        unpack_q5(x[i].qh, x[i].qs, q);
        int32_t s = 0;
        for (int j = 0; j < 32; j++) s += ((int)q[j] - 16) * y[i].qs[j];
        sum += slm_half_to_float(x[i].d) * slm_half_to_float(y[i].d) * s;
    }
    *out = sum;
}

// Q5_1 x Q8_1: sum_j (d q_j + m) d8 a_j = d d8 sum q_j a_j + m * s, with s = d8 * sum a_j stored in the Q8_1 block.
void slm_vec_dot_q5_1_q8_1_ref(int64_t n, const void *restrict w, const void *restrict act, float *restrict out) {
    const slm_block_q5_1 *x = w;
    const slm_block_q8_1 *y = act;
    float sum = 0;
    for (int64_t i = 0; i < n / SLM_QK5_1; i++) {
        uint8_t q[32];
        unpack_q5(x[i].qh, x[i].qs, q);
        int32_t s = 0;
        for (int j = 0; j < 32; j++) s += q[j] * y[i].qs[j];
        sum += slm_half_to_float(x[i].d) * slm_half_to_float(y[i].d) * s
             + slm_half_to_float(x[i].m) * slm_half_to_float(y[i].s);
    }
    *out = sum;
}
