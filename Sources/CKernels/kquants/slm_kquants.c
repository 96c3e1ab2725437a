// The K-quant family (Q4_K, Q5_K, Q6_K, Q8_K) and Q5_0/Q5_1 in the dispatch table (slm_dispatch.h).
#include "slm_kquants_internal.h"
#include "slm_quants_internal.h"
#include "slm_dispatch.h"

// AVX2 dequantizes through the reference (load time and the BLAS path only) and has its own dots and Q8_K quantizer;
// AVX-512 keeps the AVX2 dots where they are faster (Q4_K, Q5_K; Q5_0 for its register tiles) and takes its own for
// Q6_K (faster prefill) and Q5_1 (faster decode and prefill). VNNI adds nothing to the unpacked kernels.
void slm_kquants_fill(slm_kernel_table *k, slm_isa isa) {
    slm_type_traits *t = k->type;
    switch (isa) {
    case SLM_ISA_REF:
        t[SLM_TYPE_Q4_K] = (slm_type_traits){"Q4_K", SLM_QK_K, sizeof(slm_block_q4_K), SLM_TYPE_Q8_K,
                                             slm_dequant_q4_K_ref, slm_quant_q4_K_ref, slm_vec_dot_q4_K_q8_K_ref};
        t[SLM_TYPE_Q5_K] = (slm_type_traits){"Q5_K", SLM_QK_K, sizeof(slm_block_q5_K), SLM_TYPE_Q8_K,
                                             slm_dequant_q5_K_ref, slm_quant_q5_K_ref, slm_vec_dot_q5_K_q8_K_ref};
        t[SLM_TYPE_Q6_K] = (slm_type_traits){"Q6_K", SLM_QK_K, sizeof(slm_block_q6_K), SLM_TYPE_Q8_K,
                                             slm_dequant_q6_K_ref, slm_quant_q6_K_ref, slm_vec_dot_q6_K_q8_K_ref};
        // Q8_K is an activation format only: no vec_dot of its own.
        t[SLM_TYPE_Q8_K] = (slm_type_traits){"Q8_K", SLM_QK_K, sizeof(slm_block_q8_K), SLM_TYPE_Q8_K,
                                             slm_dequant_q8_K_ref, slm_quant_q8_K_ref, NULL};
        t[SLM_TYPE_Q5_0] = (slm_type_traits){"Q5_0", SLM_QK5_0, sizeof(slm_block_q5_0), SLM_TYPE_Q8_0,
                                             slm_dequant_q5_0_ref, slm_quant_q5_0_ref, slm_vec_dot_q5_0_q8_0_ref};
        t[SLM_TYPE_Q5_1] = (slm_type_traits){"Q5_1", SLM_QK5_1, sizeof(slm_block_q5_1), SLM_TYPE_Q8_1,
                                             slm_dequant_q5_1_ref, slm_quant_q5_1_ref, slm_vec_dot_q5_1_q8_1_ref};
        break;
#if SLM_HAVE_X86
    case SLM_ISA_AVX2:
        t[SLM_TYPE_Q4_K].vec_dot = slm_vec_dot_q4_K_q8_K_avx2;
        t[SLM_TYPE_Q5_K].vec_dot = slm_vec_dot_q5_K_q8_K_avx2;
        t[SLM_TYPE_Q6_K].vec_dot = slm_vec_dot_q6_K_q8_K_avx2;
        t[SLM_TYPE_Q8_K].quant = slm_quant_q8_K_avx2;
        t[SLM_TYPE_Q5_0].vec_dot = slm_vec_dot_q5_0_q8_0_avx2;
        t[SLM_TYPE_Q5_1].vec_dot = slm_vec_dot_q5_1_q8_1_avx2;
        k->tiles[SLM_TYPE_Q5_0] = &slm_tiles_q5_0_avx2;
        break;
    case SLM_ISA_AVX512:
        t[SLM_TYPE_Q6_K].vec_dot = slm_vec_dot_q6_K_q8_K_avx512;
        t[SLM_TYPE_Q5_1].vec_dot = slm_vec_dot_q5_1_q8_1_avx512;
        break;
#endif
    default:
        break;
    }
}

const slm_type_traits *slm_kquant_traits_isa(slm_type type, slm_isa isa) {
    switch (type) {
    case SLM_TYPE_Q4_K: case SLM_TYPE_Q5_K: case SLM_TYPE_Q6_K: case SLM_TYPE_Q8_K: case SLM_TYPE_Q5_0:
    case SLM_TYPE_Q5_1:
        return slm_get_type_traits_isa(type, isa);
    default:
        return NULL;
    }
}
