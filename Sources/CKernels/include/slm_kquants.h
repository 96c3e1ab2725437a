// K-quants (super-blocks of 256 elements) and their 8-bit activation format Q8_K.
#pragma once
#include <stdint.h>
#include "slm_quants.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SLM_QK_K 256
#define SLM_K_SCALE_SIZE 12

typedef struct {
    uint16_t d;              // f16 super-block scale for the 6-bit sub-block scales
    uint16_t dmin;           // f16 super-block scale for the 6-bit sub-block mins
    uint8_t scales[SLM_K_SCALE_SIZE];  // 8 scales and 8 mins, 6 bits each, packed
    uint8_t qs[SLM_QK_K / 2];          // 4-bit quants
} slm_block_q4_K;
_Static_assert(sizeof(slm_block_q4_K) == 144, "q4_K block size");

typedef struct {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[SLM_K_SCALE_SIZE];
    uint8_t qh[SLM_QK_K / 8];          // 5th bits
    uint8_t qs[SLM_QK_K / 2];          // low 4 bits
} slm_block_q5_K;
_Static_assert(sizeof(slm_block_q5_K) == 176, "q5_K block size");

typedef struct {
    uint8_t ql[SLM_QK_K / 2];          // low 4 bits
    uint8_t qh[SLM_QK_K / 4];          // high 2 bits
    int8_t scales[SLM_QK_K / 16];      // 8-bit sub-block scales
    uint16_t d;                        // f16 super-block scale
} slm_block_q6_K;
_Static_assert(sizeof(slm_block_q6_K) == 210, "q6_K block size");

typedef struct {
    float d;                           // f32 scale
    int8_t qs[SLM_QK_K];
    int16_t bsums[SLM_QK_K / 16];      // sums of each group of 16 quants
} slm_block_q8_K;
_Static_assert(sizeof(slm_block_q8_K) == 292, "q8_K block size");

// slm_get_type_traits_isa for the types of this family (Q4_K, Q5_K, Q6_K, Q8_K, Q5_0, Q5_1); NULL for any other type.
const slm_type_traits *slm_kquant_traits_isa(slm_type type, slm_isa isa);

#ifdef __cplusplus
}
#endif
