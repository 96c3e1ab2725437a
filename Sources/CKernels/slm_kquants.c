// Traits of the K-quant family (Q4_K, Q5_K, Q6_K, Q8_K) and Q5_0/Q5_1, one table per instruction set. A kernel an ISA
// lacks is taken from the next lower ISA (Q5_1's AVX-512 table reuses AVX2 dequant, for instance).
#include "slm_kquants_internal.h"
#include "slm_quants_internal.h"

#define SLM_KQ_TYPES 6

static const slm_type kq_types[SLM_KQ_TYPES] = {
    SLM_TYPE_Q4_K, SLM_TYPE_Q5_K, SLM_TYPE_Q6_K, SLM_TYPE_Q8_K, SLM_TYPE_Q5_0, SLM_TYPE_Q5_1,
};

static const slm_type_traits kq_ref[SLM_KQ_TYPES] = {
    {"Q4_K", SLM_QK_K, sizeof(slm_block_q4_K), SLM_TYPE_Q8_K, slm_dequant_q4_K_ref, slm_quant_q4_K_ref,
     slm_vec_dot_q4_K_q8_K_ref},
    {"Q5_K", SLM_QK_K, sizeof(slm_block_q5_K), SLM_TYPE_Q8_K, slm_dequant_q5_K_ref, slm_quant_q5_K_ref,
     slm_vec_dot_q5_K_q8_K_ref},
    {"Q6_K", SLM_QK_K, sizeof(slm_block_q6_K), SLM_TYPE_Q8_K, slm_dequant_q6_K_ref, slm_quant_q6_K_ref,
     slm_vec_dot_q6_K_q8_K_ref},
    // Q8_K is an activation format only: no vec_dot of its own.
    {"Q8_K", SLM_QK_K, sizeof(slm_block_q8_K), SLM_TYPE_Q8_K, slm_dequant_q8_K_ref, slm_quant_q8_K_ref, 0},
    {"Q5_0", SLM_QK5_0, sizeof(slm_block_q5_0), SLM_TYPE_Q8_0, slm_dequant_q5_0_ref, slm_quant_q5_0_ref,
     slm_vec_dot_q5_0_q8_0_ref},
    {"Q5_1", SLM_QK5_1, sizeof(slm_block_q5_1), SLM_TYPE_Q8_1, slm_dequant_q5_1_ref, slm_quant_q5_1_ref,
     slm_vec_dot_q5_1_q8_1_ref},
};

#if SLM_HAVE_X86
static const slm_type_traits kq_avx2[SLM_KQ_TYPES] = {
    {"Q4_K", SLM_QK_K, sizeof(slm_block_q4_K), SLM_TYPE_Q8_K, slm_dequant_q4_K_ref, slm_quant_q4_K_ref,
     slm_vec_dot_q4_K_q8_K_avx2},
    {"Q5_K", SLM_QK_K, sizeof(slm_block_q5_K), SLM_TYPE_Q8_K, slm_dequant_q5_K_ref, slm_quant_q5_K_ref,
     slm_vec_dot_q5_K_q8_K_avx2},
    {"Q6_K", SLM_QK_K, sizeof(slm_block_q6_K), SLM_TYPE_Q8_K, slm_dequant_q6_K_ref, slm_quant_q6_K_ref,
     slm_vec_dot_q6_K_q8_K_avx2},
    {"Q8_K", SLM_QK_K, sizeof(slm_block_q8_K), SLM_TYPE_Q8_K, slm_dequant_q8_K_ref, slm_quant_q8_K_avx2, 0},
    {"Q5_0", SLM_QK5_0, sizeof(slm_block_q5_0), SLM_TYPE_Q8_0, slm_dequant_q5_0_ref, slm_quant_q5_0_ref,
     slm_vec_dot_q5_0_q8_0_avx2},
    {"Q5_1", SLM_QK5_1, sizeof(slm_block_q5_1), SLM_TYPE_Q8_1, slm_dequant_q5_1_ref, slm_quant_q5_1_ref,
     slm_vec_dot_q5_1_q8_1_avx2},
};

// AVX-512 keeps the AVX2 dots where they are faster (Q4_K, Q5_K; Q5_0 for its register tiles) and takes its own for
// Q6_K (faster prefill) and Q5_1 (faster decode and prefill).
static const slm_type_traits kq_avx512[SLM_KQ_TYPES] = {
    {"Q4_K", SLM_QK_K, sizeof(slm_block_q4_K), SLM_TYPE_Q8_K, slm_dequant_q4_K_ref, slm_quant_q4_K_ref,
     slm_vec_dot_q4_K_q8_K_avx2},
    {"Q5_K", SLM_QK_K, sizeof(slm_block_q5_K), SLM_TYPE_Q8_K, slm_dequant_q5_K_ref, slm_quant_q5_K_ref,
     slm_vec_dot_q5_K_q8_K_avx2},
    {"Q6_K", SLM_QK_K, sizeof(slm_block_q6_K), SLM_TYPE_Q8_K, slm_dequant_q6_K_ref, slm_quant_q6_K_ref,
     slm_vec_dot_q6_K_q8_K_avx512},
    {"Q8_K", SLM_QK_K, sizeof(slm_block_q8_K), SLM_TYPE_Q8_K, slm_dequant_q8_K_ref, slm_quant_q8_K_avx2, 0},
    {"Q5_0", SLM_QK5_0, sizeof(slm_block_q5_0), SLM_TYPE_Q8_0, slm_dequant_q5_0_ref, slm_quant_q5_0_ref,
     slm_vec_dot_q5_0_q8_0_avx2},
    {"Q5_1", SLM_QK5_1, sizeof(slm_block_q5_1), SLM_TYPE_Q8_1, slm_dequant_q5_1_ref, slm_quant_q5_1_ref,
     slm_vec_dot_q5_1_q8_1_avx512},
};
#endif

const slm_type_traits *slm_kquant_traits_of(slm_type type, slm_isa isa) {
    int k = -1;
    for (int i = 0; i < SLM_KQ_TYPES; i++) {
        if (kq_types[i] == type) k = i;
    }
    if (k < 0) return 0;
#if SLM_HAVE_X86
    if (isa >= SLM_ISA_AVX512) return &kq_avx512[k];
    if (isa == SLM_ISA_AVX2) return &kq_avx2[k];
#endif
    return &kq_ref[k];
}

const slm_type_traits *slm_kquant_traits_isa(slm_type type, slm_isa isa) {
    return slm_kquant_traits_of(type, slm_isa_runnable(isa));
}
