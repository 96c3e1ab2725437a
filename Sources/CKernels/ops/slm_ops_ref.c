// Scalar reference twins of the element-wise and attention kernels: the plain statement of each formula, which every
// SIMD version is tested against. Sums that decide a result (rmsnorm, softmax) are taken in double.
#include <math.h>
#include "slm_internal.h"
#include "slm_ops.h"
#include "slm_ops_impl.h"

void slm_rmsnorm_ref(const float *x, const float *w, float *y, int64_t n, float eps) {
    if (n <= 0) return;
    double sumsq = 0.0;
    for (int64_t i = 0; i < n; i++) sumsq += (double)x[i] * (double)x[i];
    const float s = (float)(1.0 / sqrt(sumsq / (double)n + (double)eps));
    for (int64_t i = 0; i < n; i++) y[i] = w ? x[i] * s * w[i] : x[i] * s;
}

// theta_i = pos * freq_base^(-2i/n_rot). It reaches tens of thousands of radians at long positions: formed and reduced
// in double, rounded once.
static void rope_angle(int64_t i, int64_t n_rot, int64_t pos, float freq_base, float *c, float *s) {
    const double theta = (double)pos * pow((double)freq_base, -2.0 * (double)i / (double)n_rot);
    *c = (float)cos(theta);
    *s = (float)sin(theta);
}

// Pair i of every head rotated by (c, s). llama: adjacent pairs (llama.cpp's converter permutes Q/K rows to make them
// so); gemma3 (NEOX): halves.
static void rotate_pair(float *x, int64_t n_heads, int64_t head_dim, int64_t half, int64_t i, float c, float s,
                        int neox) {
    const int64_t i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
    for (int64_t h = 0; h < n_heads; h++) {
        float *xh = x + h * head_dim;
        const float x0 = xh[i0], x1 = xh[i1];
        xh[i0] = x0 * c - x1 * s;
        xh[i1] = x0 * s + x1 * c;
    }
}

void slm_rope_angles(int64_t n_rot, int64_t pos, float freq_base, float *cos_out, float *sin_out) {
    for (int64_t i = 0; i < n_rot / 2; i++) rope_angle(i, n_rot, pos, freq_base, &cos_out[i], &sin_out[i]);
}

void slm_rope_ref(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base,
                  int neox) {
    if (n_rot > head_dim) n_rot = head_dim;
    for (int64_t i = 0; i < n_rot / 2; i++) {  // angle outside, heads inside: cos/sin once per pair index, not per head
        float c, s;
        rope_angle(i, n_rot, pos, freq_base, &c, &s);
        rotate_pair(x, n_heads, head_dim, n_rot / 2, i, c, s, neox);
    }
}

void slm_rope_apply_ref(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float *cos_in,
                        const float *sin_in, int neox) {
    if (n_rot > head_dim) n_rot = head_dim;
    for (int64_t i = 0; i < n_rot / 2; i++) rotate_pair(x, n_heads, head_dim, n_rot / 2, i, cos_in[i], sin_in[i], neox);
}

void slm_swiglu_ref(const float *gate, const float *up, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];  // silu(g) = g * sigmoid(g)
    }
}

void slm_geglu_ref(const float *gate, const float *up, float *out, int64_t n) {
    // GELU, tanh approximation: 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3))), in double so that 1 + tanh does not
    // cancel for negative g.
    const double c = 0.79788456080286535588;  // sqrt(2/pi)
    for (int64_t i = 0; i < n; i++) {
        const double g = gate[i];
        const double gelu = 0.5 * g * (1.0 + tanh(c * (g + 0.044715 * g * g * g)));
        out[i] = (float)gelu * up[i];
    }
}

void slm_softmax_ref(float *x, int64_t n) {
    if (n <= 0) return;
    float max = x[0];
    for (int64_t i = 1; i < n; i++) max = x[i] > max ? x[i] : max;
    if (max == -INFINITY) {  // every entry is -inf: no distribution exists; give all-zero weights, not NaN
        for (int64_t i = 0; i < n; i++) x[i] = 0.0f;
        return;
    }
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

void slm_attn_head_ref(const float *q, const uint16_t *k, const uint16_t *v, int64_t kv_stride, int64_t p_begin,
                       int64_t p_end, int64_t head_dim, float scale, float *out) {
    // Online softmax: out accumulates sum_p exp(s_p - m) v_p for the running maximum m, rescaled when m grows.
    // out must not alias q.
    for (int64_t d = 0; d < head_dim; d++) out[d] = 0.0f;
    float m = -INFINITY, l = 0.0f;
    for (int64_t p = p_begin; p < p_end; p++) {
        const uint16_t *kp = k + p * kv_stride;
        const uint16_t *vp = v + p * kv_stride;
        float s = 0.0f;
        for (int64_t d = 0; d < head_dim; d++) s += q[d] * slm_half_to_float(kp[d]);
        s *= scale;
        if (s > m) {
            const float r = expf(m - s);  // m = -inf gives 0: nothing accumulated yet
            l *= r;
            for (int64_t d = 0; d < head_dim; d++) out[d] *= r;
            m = s;
        }
        const float e = expf(s - m);
        l += e;
        for (int64_t d = 0; d < head_dim; d++) out[d] += e * slm_half_to_float(vp[d]);
    }
    if (l > 0.0f) {
        const float inv = 1.0f / l;
        for (int64_t d = 0; d < head_dim; d++) out[d] *= inv;
    }
}

// The chunk partial (see slm_ops_table.attn_chunk), head by head, position by position.
void slm_attn_chunk_ref(const float *q, int64_t g, const uint16_t *k, const uint16_t *v, int64_t kv_stride,
                        int64_t p0, int64_t n, int64_t head_dim, float scale, int64_t prefetch, float *acc,
                        float *ml) {
    (void)prefetch;  // a hint for the SIMD kernels' memory access only
    const int64_t D = head_dim;
    for (int64_t h = 0; h < g; h++) {
        const float *qh = q + h * D;
        float *ah = acc + h * D;
        float m = -INFINITY;
        for (int64_t p = p0; p < p0 + n; p++) {
            float s = 0.0f;
            for (int64_t d = 0; d < D; d++) s += qh[d] * slm_half_to_float(k[p * kv_stride + d]);
            s *= scale;
            m = s > m ? s : m;
        }
        for (int64_t d = 0; d < D; d++) ah[d] = 0.0f;
        float l = 0.0f;
        for (int64_t p = p0; p < p0 + n; p++) {  // the scores again: no scratch, n is at most one chunk
            float s = 0.0f;
            for (int64_t d = 0; d < D; d++) s += qh[d] * slm_half_to_float(k[p * kv_stride + d]);
            const float e = expf(s * scale - m);
            l += e;
            for (int64_t d = 0; d < D; d++) ah[d] += e * slm_half_to_float(v[p * kv_stride + d]);
        }
        ml[h] = m;
        ml[g + h] = l;
    }
}

void slm_attention_ref(const float *q, const uint16_t *k, const uint16_t *v, int64_t kv_stride, int64_t n_tokens,
                       int64_t pos0, int64_t n_head, int64_t n_head_kv, int64_t head_dim, int64_t window, float scale,
                       float *out) {
    const int64_t group = n_head / n_head_kv;  // query heads per kv head
    for (int64_t t = 0; t < n_tokens; t++) {
        const int64_t pos = pos0 + t;
        for (int64_t h = 0; h < n_head; h++) {
            const int64_t kvh = h / group;
            const int64_t off = (t * n_head + h) * head_dim;
            slm_attn_head_ref(q + off, k + kvh * head_dim, v + kvh * head_dim, kv_stride,
                              slm_attn_first_pos(pos, window), pos + 1, head_dim, scale, out + off);
        }
    }
}

int64_t slm_first_above_ref(const float *x, int64_t n, float t) {
    for (int64_t i = 0; i < n; i++)
        if (x[i] > t) return i;
    return n;
}

void slm_add_ref(float *y, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += x[i];
}

void slm_scale_ref(float *y, float s, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] *= s;
}

void slm_fp32_to_fp16_row_ref(const float *x, uint16_t *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = slm_float_to_half(x[i]);
}

void slm_fp16_to_fp32_row_ref(const uint16_t *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = slm_half_to_float(x[i]);
}
