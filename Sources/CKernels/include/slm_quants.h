// Tensor types (numbered as ggml/GGUF number them), quant block layouts, and per-type kernels.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include "slm_cpu.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SLM_TYPE_F32 = 0,
    SLM_TYPE_F16 = 1,
    SLM_TYPE_Q4_0 = 2,
    SLM_TYPE_Q4_1 = 3,
    SLM_TYPE_Q5_0 = 6,
    SLM_TYPE_Q5_1 = 7,
    SLM_TYPE_Q8_0 = 8,
    SLM_TYPE_Q8_1 = 9,
    SLM_TYPE_Q2_K = 10,
    SLM_TYPE_Q3_K = 11,
    SLM_TYPE_Q4_K = 12,
    SLM_TYPE_Q5_K = 13,
    SLM_TYPE_Q6_K = 14,
    SLM_TYPE_Q8_K = 15,
    SLM_TYPE_BF16 = 30,
    SLM_TYPE_COUNT = 31,
} slm_type;

// Row kernels. n is the number of elements, a multiple of the type's block size.
typedef void (*slm_dequant_row_fn)(const void *restrict src, float *restrict dst, int64_t n);
typedef void (*slm_quant_row_fn)(const float *restrict src, void *restrict dst, int64_t n);
// *out = dot(row of this type, activation row of traits->vec_dot_type), both n elements long.
typedef void (*slm_vec_dot_fn)(int64_t n, const void *restrict w, const void *restrict act, float *restrict out);

typedef struct {
    const char *name;        // "Q4_1"
    int64_t block_size;      // elements per block (1 for F32/F16/BF16)
    int64_t type_size;       // bytes per block
    slm_type vec_dot_type;   // the format activations are converted to for vec_dot (F32, Q8_0, Q8_1 or Q8_K)
    slm_dequant_row_fn dequant;  // NULL if unsupported
    slm_quant_row_fn quant;      // NULL if unsupported (f32 -> this type, round to nearest, reference quality)
    slm_vec_dot_fn vec_dot;      // NULL if this type cannot be a weight type
} slm_type_traits;

// Traits with the kernels of the active ISA; NULL for a type slm does not support.
const slm_type_traits *slm_get_type_traits(slm_type type);
// Traits with the kernels of a given ISA (tests compare SIMD versions against the scalar twin). If the CPU lacks the
// ISA, or the type has no kernel for it, the next lower ISA's kernel is returned.
const slm_type_traits *slm_get_type_traits_isa(slm_type type, slm_isa isa);

// Bytes of a row of n elements (n a multiple of block_size); 0 for an unsupported type.
size_t slm_row_size(slm_type type, int64_t n);

float slm_fp16_to_fp32(uint16_t h);
uint16_t slm_fp32_to_fp16(float f);  // round to nearest even
float slm_bf16_to_fp32(uint16_t h);

// ---- block layouts (little-endian, packed exactly as in GGUF files) ----
#define SLM_QK4_0 32
typedef struct {
    uint16_t d;              // f16 scale
    uint8_t qs[SLM_QK4_0 / 2];  // element j in low nibble of qs[j] (j < 16), element j+16 in high nibble; x = (q - 8) * d
} slm_block_q4_0;
_Static_assert(sizeof(slm_block_q4_0) == 18, "q4_0 block size");

#define SLM_QK4_1 32
typedef struct {
    uint16_t d;              // f16 scale
    uint16_t m;              // f16 minimum; x = q * d + m
    uint8_t qs[SLM_QK4_1 / 2];  // nibbles as in q4_0
} slm_block_q4_1;
_Static_assert(sizeof(slm_block_q4_1) == 20, "q4_1 block size");

#define SLM_QK5_0 32
typedef struct {
    uint16_t d;              // f16 scale
    uint8_t qh[4];           // bit j (little-endian u32) = 5th bit of element j
    uint8_t qs[SLM_QK5_0 / 2];  // low 4 bits, nibbles as in q4_0; x = (q - 16) * d
} slm_block_q5_0;
_Static_assert(sizeof(slm_block_q5_0) == 22, "q5_0 block size");

#define SLM_QK5_1 32
typedef struct {
    uint16_t d;              // f16 scale
    uint16_t m;              // f16 minimum; x = q * d + m
    uint8_t qh[4];           // 5th bits as in q5_0
    uint8_t qs[SLM_QK5_1 / 2];
} slm_block_q5_1;
_Static_assert(sizeof(slm_block_q5_1) == 24, "q5_1 block size");

#define SLM_QK8_0 32
typedef struct {
    uint16_t d;              // f16 scale; x = q * d
    int8_t qs[SLM_QK8_0];
} slm_block_q8_0;
_Static_assert(sizeof(slm_block_q8_0) == 34, "q8_0 block size");

#define SLM_QK8_1 32
typedef struct {
    uint16_t d;              // f16 scale; x = q * d
    uint16_t s;              // f16 of d * sum(qs): lets q4_1/q5_1 dots add the minimum term in one multiply
    int8_t qs[SLM_QK8_1];
} slm_block_q8_1;
_Static_assert(sizeof(slm_block_q8_1) == 36, "q8_1 block size");

#ifdef __cplusplus
}
#endif
