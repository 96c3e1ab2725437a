// The element-wise and attention kernels in the dispatch table (slm_dispatch.h), and the public entry points that
// call the active ISA's.
#include "slm_internal.h"
#include "slm_ops.h"
#include "slm_ops_impl.h"
#include "slm_dispatch.h"

void slm_ops_fill(slm_kernel_table *k, slm_isa isa) {
    switch (isa) {
    case SLM_ISA_REF:
        k->ops = (slm_ops_impl){
            {slm_rmsnorm_ref, slm_swiglu_ref, slm_geglu_ref, slm_softmax_ref, slm_rope_apply_ref, slm_attn_chunk_ref},
            slm_add_ref, slm_scale_ref, slm_fp32_to_fp16_row_ref, slm_fp16_to_fp32_row_ref, slm_first_above_ref,
        };
        break;
#if SLM_HAVE_X86
    case SLM_ISA_AVX2:
        k->ops = (slm_ops_impl){
            {slm_rmsnorm_avx2, slm_swiglu_avx2, slm_geglu_avx2, slm_softmax_avx2, slm_rope_apply_avx2,
             slm_attn_chunk_avx2},
            slm_add_avx2, slm_scale_avx2, slm_fp32_to_fp16_row_avx2, slm_fp16_to_fp32_row_avx2, slm_first_above_avx2,
        };
        break;
    // Attention keeps the AVX2 chunk kernel: it is bound by reading the f16 KV cache, not by vector width. The
    // element-wise AVX-512 kernels are faster than the AVX2 ones.
    case SLM_ISA_AVX512:
        k->ops.pub.rmsnorm = slm_rmsnorm_avx512;
        k->ops.pub.swiglu = slm_swiglu_avx512;
        k->ops.pub.geglu = slm_geglu_avx512;
        k->ops.pub.softmax = slm_softmax_avx512;
        k->ops.pub.rope_apply = slm_rope_apply_avx512;
        k->ops.add = slm_add_avx512;
        k->ops.scale = slm_scale_avx512;
        k->ops.fp32_to_fp16 = slm_fp32_to_fp16_row_avx512;
        k->ops.fp16_to_fp32 = slm_fp16_to_fp32_row_avx512;
        break;
#endif
    default:
        break;
    }
}

const slm_ops_table *slm_get_ops_isa(slm_isa isa) { return &slm_kernel_table_of(slm_isa_runnable(isa))->ops.pub; }

const slm_ops_impl *slm_active_ops(void) { return &slm_kernels()->ops; }

void slm_rmsnorm(const float *x, const float *w, float *y, int64_t n, float eps) {
    slm_active_ops()->pub.rmsnorm(x, w, y, n, eps);
}
void slm_rope(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base, int neox) {
    if (n_rot > head_dim) n_rot = head_dim;
    if (n_rot > SLM_ROPE_MAX_ROT) {
        slm_rope_ref(x, n_heads, head_dim, n_rot, pos, freq_base, neox);
        return;
    }
    float cs[SLM_ROPE_MAX_ROT / 2], sn[SLM_ROPE_MAX_ROT / 2];
    slm_rope_angles(n_rot, pos, freq_base, cs, sn);
    slm_active_ops()->pub.rope_apply(x, n_heads, head_dim, n_rot, cs, sn, neox);
}
void slm_rope_apply(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float *cos_in,
                    const float *sin_in, int neox) {
    slm_active_ops()->pub.rope_apply(x, n_heads, head_dim, n_rot, cos_in, sin_in, neox);
}
void slm_swiglu(const float *gate, const float *up, float *out, int64_t n) {
    slm_active_ops()->pub.swiglu(gate, up, out, n);
}
void slm_geglu(const float *gate, const float *up, float *out, int64_t n) {
    slm_active_ops()->pub.geglu(gate, up, out, n);
}
void slm_softmax(float *x, int64_t n) { slm_active_ops()->pub.softmax(x, n); }
void slm_add(float *y, const float *x, int64_t n) { slm_active_ops()->add(y, x, n); }
void slm_scale(float *y, float s, int64_t n) { slm_active_ops()->scale(y, s, n); }
void slm_fp32_to_fp16_row(const float *x, uint16_t *y, int64_t n) { slm_active_ops()->fp32_to_fp16(x, y, n); }
void slm_fp16_to_fp32_row(const uint16_t *x, float *y, int64_t n) { slm_active_ops()->fp16_to_fp32(x, y, n); }
int64_t slm_first_above(const float *x, int64_t n, float t) { return n > 0 ? slm_active_ops()->first_above(x, n, t) : 0; }
