// Weights repacked at load into row-interleaved groups for SIMD-friendly matrix products.
//
// A packed matrix stores its rows in groups of SLM_PACK_ROWS (8) consecutive rows. Inside a group, block b of all 8
// rows is stored together, with the rows interleaved so that one 32-byte vector holds 4 quants of each of the 8 rows:
// one integer multiply-add then yields 8 partial dot products, one per 32-bit lane, and a block's scales for the 8
// rows are one 8-lane vector. The layouts (per type, see packed/) keep every bit of the original blocks, so a
// packed group has exactly the bytes of its 8 rows in GGUF order, only permuted (unpack(pack(x)) == x).
//
// Products over packed weights go through slm_matvec / slm_matmul / slm_matmul_multi with the packed type
// (slm_packed_type(base)). Each output is computed by the same operations in the same order whatever the number of
// tokens in the call, so decode, prefill and any split of a prompt give bit-identical results; the scalar twin
// computes the same operations, so SLM_ISA=ref gives bit-identical results too.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include "slm_quants.h"
#include "slm_threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SLM_PACK_ROWS 8
// Packed types are the base type with this flag set; they never appear in a GGUF file.
#define SLM_TYPE_PACKED_FLAG 0x100

// The packed type of `base`, or `base` itself when it has no packed layout.
slm_type slm_packed_type(slm_type base);
int slm_type_is_packed(slm_type type);
// The GGUF type a packed type was made from (identity for other types).
slm_type slm_packed_base(slm_type type);

// Whether a [n_out, n_in] matrix of `base` can be packed (a packed layout exists, n_out is a multiple of
// SLM_PACK_ROWS and n_in a multiple of the block size).
int slm_can_pack(slm_type base, int64_t n_out, int64_t n_in);
// Bytes of the packed matrix (the original size for the 32-element block types; layouts may add bytes).
size_t slm_packed_size(slm_type base, int64_t n_out, int64_t n_in);
// Packs groups [g0, g1) (group g = rows 8g ..< 8g+8) of W [n_out, n_in] in `base` into dst (the whole packed matrix).
// Callers may pack disjoint group ranges in parallel.
void slm_pack_groups(slm_type base, const void *W, int64_t n_in, void *dst, int64_t g0, int64_t g1);

// One matrix of a slm_pack_matrices call: W [n_out, n_in] in `base` packed into dst (slm_packed_size bytes).
// drop_source != 0: W lies in a read-only file mapping, and the whole pages of each chunk of it are dropped from the
// process (madvise MADV_DONTNEED; they refault from the page cache if read again) as soon as the chunk is packed, and
// the pages chunks shared once all are, so that peak resident memory stays near one copy of the weights instead of
// the file plus its packed copy. Never set
// it for anonymous memory: dropping its pages would zero them.
typedef struct {
    slm_type base;
    const void *W;
    int64_t n_out, n_in;
    void *dst;
    int drop_source;
} slm_pack_job;

// Every job in one pool run (tp may be NULL): chunks of groups across all the matrices are handed out from one counter,
// so a model's dozens of small matrices cost one dispatch, not one each. Returns 0, or -1 (nothing packed) when a job
// cannot be packed.
int slm_pack_matrices(slm_threadpool *tp, const slm_pack_job *jobs, int n_jobs);
// Inverse (tests): row `row` of the packed matrix back in the base layout.
void slm_unpack_row(slm_type base, const void *packed, int64_t n_in, int64_t row, void *dst_row);

// Tests: Y [n_tokens, n_out] = X [n_tokens, n_in] times the packed matrix, single-threaded with the kernels of `isa`
// (falling back to lower ISAs), calling the group kernel on `tok_block` tokens at a time. Returns 0, or -1 when
// `base` has no packed layout or memory runs out.
int slm_packed_matmul_isa(slm_isa isa, slm_type base, const void *packed, int64_t n_out, int64_t n_in,
                          const float *X, int64_t n_tokens, int64_t tok_block, float *Y);
// Tests: slm_packed_matmul_isa with pairs of groups through the 16-row kernel of `isa` (the last group of an odd count
// through the 8-row one); -1 also when that ISA has no 16-row kernel for `base`.
int slm_packed_matmul16_isa(slm_isa isa, slm_type base, const void *packed, int64_t n_out, int64_t n_in,
                            const float *X, int64_t n_tokens, int64_t tok_block, float *Y);
// Tests: the same product for 1..8 tokens through the batched-decode kernel of `isa` (slm_packed_gemm_stream_fn),
// one prefetched stream over the whole matrix; rows16: pairs of groups through its 16-row kernel (the last group of an
// odd count through the 8-row one). Returns 0, or -1 when that ISA has no such kernel for `base`, n_tokens is outside
// 1..8 or memory runs out.
int slm_packed_stream_matmul_isa(slm_isa isa, slm_type base, const void *packed, int64_t n_out, int64_t n_in,
                                 const float *X, int64_t n_tokens, float *Y, int rows16);

#ifdef __cplusplus
}
#endif
