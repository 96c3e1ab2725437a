// Packed layouts of the K-quants Q4_K and Q6_K (see include/slm_packed.h): per super-block of 256 elements, the blocks
// of the group's 8 rows are stored together, interleaved so that one 32-byte vector holds 4 quants of each row (byte
// 4r + e belongs to row r). Both layouts keep exactly the bytes of the 8 GGUF blocks (same size), only permuted or, for
// Q6_K's quants, re-split into other bit fields; unpack gives back the GGUF row bit for bit.
//
// Q4_K, per super-block of a group (1152 bytes = 8 x 144):
//   d[8]      f16 super-block scales of rows 0..7
//   dmin[8]   f16 super-block min scales of rows 0..7
//   sc[3][32] vector v, byte 4r + e = scales[4v + e] of row r (the 12 packed 6-bit scale/min bytes, so that the
//             GGUF unpacking of slm_k4_unpack_scales runs on 8 rows at once with byte-wise masks and shifts)
//   qs[32][32] vector 8c + k, byte 4r + e = qs[32c + 4k + e] of row r: low nibbles are elements 64c + 4k + e (sub-block
//             2c), high nibbles elements 64c + 32 + 4k + e (sub-block 2c + 1), each matching a 4-byte broadcast of
//             the activation.
//
// Q6_K, per super-block of a group (1680 bytes = 8 x 210):
//   d[8]      f16 super-block scales of rows 0..7
//   sc[4][32] vector v, byte 4r + e = scales[4v + e] (int8) of row r
//   q[16][3][32] sub-block s (elements 16s ..< 16s + 16), vectors A, B, C; byte 4r + e holds, for row r and the
//             unsigned 6-bit quants q (0..63, GGUF's ql | qh << 4) of elements 16s + e, 16s + 4 + e, 16s + 8 + e in
//             its low 6 bits, and the 2-bit fields 0, 1, 2 of the quant of element 16s + 12 + e in its top 2 bits:
//               A = q[16s + e] | (q[16s + 12 + e] & 3) << 6
//               B = q[16s + 4 + e] | (q[16s + 12 + e] >> 2 & 3) << 6
//               C = q[16s + 8 + e] | (q[16s + 12 + e] >> 4) << 6
//             so 4 vectors of 6-bit quants (16 elements of 8 rows) come out of 3 loads and 11 byte-wise operations.
#include <string.h>
#include "slm_internal.h"
#include "slm_packed_internal.h"

// ---- Q4_K ----

#define Q4_K_GROUP_BLOCK (SLM_PACK_ROWS * sizeof(slm_block_q4_K))

size_t slm_packed_group_bytes_q4_K(int64_t n_in) { return (size_t)(n_in / SLM_QK_K) * Q4_K_GROUP_BLOCK; }

void slm_pack_q4_K(const void *restrict src, size_t src_row, int64_t n_in, void *restrict dst) {
    uint8_t *o = dst;
    for (int64_t b = 0; b < n_in / SLM_QK_K; b++, o += Q4_K_GROUP_BLOCK) {
        for (int r = 0; r < SLM_PACK_ROWS; r++) {
            const slm_block_q4_K *x = (const slm_block_q4_K *)((const char *)src + (size_t)r * src_row) + b;
            memcpy(o + 2 * r, &x->d, 2);
            memcpy(o + 16 + 2 * r, &x->dmin, 2);
            for (int v = 0; v < 3; v++) memcpy(o + 32 + 32 * v + 4 * r, x->scales + 4 * v, 4);
            for (int k = 0; k < 32; k++) memcpy(o + 128 + 32 * k + 4 * r, x->qs + 4 * k, 4);
        }
    }
}

void slm_unpack_q4_K(const void *restrict group, int64_t n_in, int r, void *restrict dst_row) {
    const uint8_t *g = group;
    slm_block_q4_K *x = dst_row;
    for (int64_t b = 0; b < n_in / SLM_QK_K; b++, g += Q4_K_GROUP_BLOCK) {
        memcpy(&x[b].d, g + 2 * r, 2);
        memcpy(&x[b].dmin, g + 16 + 2 * r, 2);
        for (int v = 0; v < 3; v++) memcpy(x[b].scales + 4 * v, g + 32 + 32 * v + 4 * r, 4);
        for (int k = 0; k < 32; k++) memcpy(x[b].qs + 4 * k, g + 128 + 32 * k + 4 * r, 4);
    }
}

// ---- Q6_K ----

#define Q6_K_GROUP_BLOCK (SLM_PACK_ROWS * sizeof(slm_block_q6_K))

size_t slm_packed_group_bytes_q6_K(int64_t n_in) { return (size_t)(n_in / SLM_QK_K) * Q6_K_GROUP_BLOCK; }

// GGUF's split of the 256 unsigned 6-bit quants (slm_kquants_ref.c): in half h, for l < 32, element 128h + 32g + l has
// its low 4 bits in ql[64h + l] (g = 0, 2: low, high nibble) or ql[64h + 32 + l] (g = 1, 3), its high 2 bits in bits
// 2g, 2g + 1 of qh[32h + l].
void slm_q6_K_quants(const slm_block_q6_K *x, uint8_t q[SLM_QK_K]) {
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = x->ql + 64 * h, *qh = x->qh + 32 * h;
        for (int l = 0; l < 32; l++) {
            q[128 * h + l] = (uint8_t)((ql[l] & 0x0f) | (qh[l] & 3) << 4);
            q[128 * h + 32 + l] = (uint8_t)((ql[32 + l] & 0x0f) | (qh[l] >> 2 & 3) << 4);
            q[128 * h + 64 + l] = (uint8_t)((ql[l] >> 4) | (qh[l] >> 4 & 3) << 4);
            q[128 * h + 96 + l] = (uint8_t)((ql[32 + l] >> 4) | (qh[l] >> 6) << 4);
        }
    }
}

static void quants_to_q6_K(const uint8_t q[SLM_QK_K], slm_block_q6_K *x) {
    for (int h = 0; h < 2; h++) {
        uint8_t *ql = x->ql + 64 * h, *qh = x->qh + 32 * h;
        const uint8_t *p = q + 128 * h;
        for (int l = 0; l < 32; l++) {
            ql[l] = (uint8_t)((p[l] & 0x0f) | (p[64 + l] & 0x0f) << 4);
            ql[32 + l] = (uint8_t)((p[32 + l] & 0x0f) | (p[96 + l] & 0x0f) << 4);
            qh[l] = (uint8_t)((p[l] >> 4) | (p[32 + l] >> 4) << 2 | (p[64 + l] >> 4) << 4 | (p[96 + l] >> 4) << 6);
        }
    }
}

void slm_pack_q6_K(const void *restrict src, size_t src_row, int64_t n_in, void *restrict dst) {
    uint8_t *o = dst;
    for (int64_t b = 0; b < n_in / SLM_QK_K; b++, o += Q6_K_GROUP_BLOCK) {
        for (int r = 0; r < SLM_PACK_ROWS; r++) {
            const slm_block_q6_K *x = (const slm_block_q6_K *)((const char *)src + (size_t)r * src_row) + b;
            memcpy(o + 2 * r, &x->d, 2);
            for (int v = 0; v < 4; v++) memcpy(o + 16 + 32 * v + 4 * r, x->scales + 4 * v, 4);
            uint8_t q[SLM_QK_K];
            slm_q6_K_quants(x, q);
            for (int s = 0; s < 16; s++) {
                uint8_t *abc = o + 144 + 96 * s + 4 * r;
                const uint8_t *qs = q + 16 * s;
                for (int e = 0; e < 4; e++) {
                    const uint8_t top = qs[12 + e];
                    abc[e] = (uint8_t)(qs[e] | (top & 3) << 6);
                    abc[32 + e] = (uint8_t)(qs[4 + e] | (top >> 2 & 3) << 6);
                    abc[64 + e] = (uint8_t)(qs[8 + e] | (top >> 4) << 6);
                }
            }
        }
    }
}

void slm_unpack_q6_K(const void *restrict group, int64_t n_in, int r, void *restrict dst_row) {
    const uint8_t *g = group;
    slm_block_q6_K *x = dst_row;
    for (int64_t b = 0; b < n_in / SLM_QK_K; b++, g += Q6_K_GROUP_BLOCK) {
        memcpy(&x[b].d, g + 2 * r, 2);
        for (int v = 0; v < 4; v++) memcpy(x[b].scales + 4 * v, g + 16 + 32 * v + 4 * r, 4);
        uint8_t q[SLM_QK_K];
        for (int s = 0; s < 16; s++) {
            const uint8_t *abc = g + 144 + 96 * s + 4 * r;
            uint8_t *qs = q + 16 * s;
            for (int e = 0; e < 4; e++) {
                const uint8_t a = abc[e], bb = abc[32 + e], c = abc[64 + e];
                qs[e] = a & 63;
                qs[4 + e] = bb & 63;
                qs[8 + e] = c & 63;
                qs[12 + e] = (uint8_t)(a >> 6 | (bb >> 6) << 2 | (c >> 6) << 4);
            }
        }
        quants_to_q6_K(q, &x[b]);
    }
}
