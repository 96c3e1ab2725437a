// Packed layouts of Q4_0, Q5_0, Q5_1 and Q8_0 (see slm_packed.c for Q4_1 and include/slm_packed.h for the idea):
// packing and unpacking, ISA-independent. Every layout holds exactly the bits of its 8 rows' blocks (the same
// byte count), so unpack(pack(x)) == x. "Vector k" is 32 bytes whose byte 4r + e belongs to row r, so that it meets
// one 4-byte broadcast of the activation quants in a maddubs; "d[8]" is the f16 scales of rows 0..7.
//
// Q4_0, per block b of a group (144 bytes = 8 x 18):
//   d[8], then qs[4][32]: vector k, byte 4r + e = qs[4k + e] of row r (low nibble = element 4k + e, high nibble =
//   element 16 + 4k + e), as in Q4_1.
//
// Q5_0, per block (176 bytes = 8 x 22):
//   d[8]
//   h[32]: byte 4r + e holds the 5th bits of row r: bit k (k < 4) that of element 4k + e, bit 4 + k that of element
//          16 + 4k + e; so for vector k the 5th bits reach bit 4 of each byte with one 16-bit shift and one mask:
//          (h << (4 - k)) & 0x10 for the low nibbles, (h >> k) & 0x10 for the high nibbles.
//   qs[4][32]: the low 4 bits, as Q4_0's qs.
//
// Q5_1, per block (192 bytes = 8 x 24): d[8], m[8] (f16 minimums of rows 0..7), then h[32] and qs[4][32] as Q5_0's.
//
// Q8_0, per block (272 bytes = 8 x 34):
//   d[8], then qs[8][32]: vector k, byte 4r + e = qs[4k + e] of row r.
#include <string.h>
#include "slm_internal.h"
#include "slm_packed_internal.h"

#define ROWS SLM_PACK_ROWS

static const void *src_block(const void *src, size_t src_row, int r, size_t block_bytes, int64_t b) {
    return (const char *)src + (size_t)r * src_row + (size_t)b * block_bytes;
}

// ---- Q4_0 ----

#define Q4_0_GROUP_BLOCK (ROWS * sizeof(slm_block_q4_0))

size_t slm_packed_group_bytes_q4_0(int64_t n_in) { return (size_t)(n_in / 32) * Q4_0_GROUP_BLOCK; }

void slm_pack_q4_0(const void *restrict src, size_t src_row, int64_t n_in, void *restrict dst) {
    uint8_t *o = dst;
    for (int64_t b = 0; b < n_in / 32; b++, o += Q4_0_GROUP_BLOCK) {
        for (int r = 0; r < ROWS; r++) {
            const slm_block_q4_0 *x = src_block(src, src_row, r, sizeof(slm_block_q4_0), b);
            memcpy(o + 2 * r, &x->d, 2);
            for (int k = 0; k < 4; k++) memcpy(o + 16 + 32 * k + 4 * r, x->qs + 4 * k, 4);
        }
    }
}

void slm_unpack_q4_0(const void *restrict group, int64_t n_in, int r, void *restrict dst_row) {
    const uint8_t *g = group;
    slm_block_q4_0 *x = dst_row;
    for (int64_t b = 0; b < n_in / 32; b++, g += Q4_0_GROUP_BLOCK) {
        memcpy(&x[b].d, g + 2 * r, 2);
        for (int k = 0; k < 4; k++) memcpy(x[b].qs + 4 * k, g + 16 + 32 * k + 4 * r, 4);
    }
}

// ---- Q5_0 ----

// The 5th bits of row r (GGUF's qh: bit j of the little-endian u32 = element j) <-> bytes 4r..4r+3 of h (see above).
// Packing gathers bits e, e + 4, e + 8, e + 12 of a 16-bit half into bits 0..3 with one multiply: the bit at 4i moves
// to 12 + i through the term 1 << (12 - 3i) of 0x1248, and no two of the 16 partial products share a position (so no
// carries). Load time: gemma3's Q5_0 matrices packed ~4x faster than bit by bit.
static inline uint8_t gather_nibble_bits(uint32_t half) { return (uint8_t)((((half & 0x1111u) * 0x1248u) >> 12) & 0xFu); }

static void pack_h(const uint8_t qh_bytes[4], uint8_t *h, int r) {
    uint32_t qh;
    memcpy(&qh, qh_bytes, 4);
    for (int e = 0; e < 4; e++)
        h[4 * r + e] = (uint8_t)(gather_nibble_bits(qh >> e) | gather_nibble_bits(qh >> (16 + e)) << 4);
}

static void unpack_h(const uint8_t *h, int r, uint8_t qh_bytes[4]) {
    uint32_t qh = 0;
    for (int e = 0; e < 4; e++) {
        for (int k = 0; k < 4; k++) {
            qh |= (uint32_t)((h[4 * r + e] >> k) & 1) << (4 * k + e);
            qh |= (uint32_t)((h[4 * r + e] >> (4 + k)) & 1) << (16 + 4 * k + e);
        }
    }
    memcpy(qh_bytes, &qh, 4);
}

#define Q5_0_GROUP_BLOCK (ROWS * sizeof(slm_block_q5_0))

size_t slm_packed_group_bytes_q5_0(int64_t n_in) { return (size_t)(n_in / 32) * Q5_0_GROUP_BLOCK; }

void slm_pack_q5_0(const void *restrict src, size_t src_row, int64_t n_in, void *restrict dst) {
    uint8_t *o = dst;
    for (int64_t b = 0; b < n_in / 32; b++, o += Q5_0_GROUP_BLOCK) {
        for (int r = 0; r < ROWS; r++) {
            const slm_block_q5_0 *x = src_block(src, src_row, r, sizeof(slm_block_q5_0), b);
            memcpy(o + 2 * r, &x->d, 2);
            pack_h(x->qh, o + 16, r);
            for (int k = 0; k < 4; k++) memcpy(o + 48 + 32 * k + 4 * r, x->qs + 4 * k, 4);
        }
    }
}

void slm_unpack_q5_0(const void *restrict group, int64_t n_in, int r, void *restrict dst_row) {
    const uint8_t *g = group;
    slm_block_q5_0 *x = dst_row;
    for (int64_t b = 0; b < n_in / 32; b++, g += Q5_0_GROUP_BLOCK) {
        memcpy(&x[b].d, g + 2 * r, 2);
        unpack_h(g + 16, r, x[b].qh);
        for (int k = 0; k < 4; k++) memcpy(x[b].qs + 4 * k, g + 48 + 32 * k + 4 * r, 4);
    }
}

// ---- Q5_1 ----

#define Q5_1_GROUP_BLOCK (ROWS * sizeof(slm_block_q5_1))

size_t slm_packed_group_bytes_q5_1(int64_t n_in) { return (size_t)(n_in / 32) * Q5_1_GROUP_BLOCK; }

void slm_pack_q5_1(const void *restrict src, size_t src_row, int64_t n_in, void *restrict dst) {
    uint8_t *o = dst;
    for (int64_t b = 0; b < n_in / 32; b++, o += Q5_1_GROUP_BLOCK) {
        for (int r = 0; r < ROWS; r++) {
            const slm_block_q5_1 *x = src_block(src, src_row, r, sizeof(slm_block_q5_1), b);
            memcpy(o + 2 * r, &x->d, 2);
            memcpy(o + 16 + 2 * r, &x->m, 2);
            pack_h(x->qh, o + 32, r);
            for (int k = 0; k < 4; k++) memcpy(o + 64 + 32 * k + 4 * r, x->qs + 4 * k, 4);
        }
    }
}

void slm_unpack_q5_1(const void *restrict group, int64_t n_in, int r, void *restrict dst_row) {
    const uint8_t *g = group;
    slm_block_q5_1 *x = dst_row;
    for (int64_t b = 0; b < n_in / 32; b++, g += Q5_1_GROUP_BLOCK) {
        memcpy(&x[b].d, g + 2 * r, 2);
        memcpy(&x[b].m, g + 16 + 2 * r, 2);
        unpack_h(g + 32, r, x[b].qh);
        for (int k = 0; k < 4; k++) memcpy(x[b].qs + 4 * k, g + 64 + 32 * k + 4 * r, 4);
    }
}

// ---- Q8_0 ----

#define Q8_0_GROUP_BLOCK (ROWS * sizeof(slm_block_q8_0))

size_t slm_packed_group_bytes_q8_0(int64_t n_in) { return (size_t)(n_in / 32) * Q8_0_GROUP_BLOCK; }

void slm_pack_q8_0(const void *restrict src, size_t src_row, int64_t n_in, void *restrict dst) {
    uint8_t *o = dst;
    for (int64_t b = 0; b < n_in / 32; b++, o += Q8_0_GROUP_BLOCK) {
        for (int r = 0; r < ROWS; r++) {
            const slm_block_q8_0 *x = src_block(src, src_row, r, sizeof(slm_block_q8_0), b);
            memcpy(o + 2 * r, &x->d, 2);
            for (int k = 0; k < 8; k++) memcpy(o + 16 + 32 * k + 4 * r, x->qs + 4 * k, 4);
        }
    }
}

void slm_unpack_q8_0(const void *restrict group, int64_t n_in, int r, void *restrict dst_row) {
    const uint8_t *g = group;
    slm_block_q8_0 *x = dst_row;
    for (int64_t b = 0; b < n_in / 32; b++, g += Q8_0_GROUP_BLOCK) {
        memcpy(&x[b].d, g + 2 * r, 2);
        for (int k = 0; k < 8; k++) memcpy(x[b].qs + 4 * k, g + 16 + 32 * k + 4 * r, 4);
    }
}
