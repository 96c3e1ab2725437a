// Packed layouts of the 32-element block types Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 (see include/slm_packed.h for the
// idea): packing and unpacking, ISA-independent. Every layout holds exactly the bits of its 8 rows' blocks (the same
// byte count), so unpack(pack(x)) == x. "Vector k" is 32 bytes whose byte 4r + e belongs to row r, so that it meets
// one 4-byte broadcast of the activation quants in a maddubs. Per block b of a group of 8 rows, in this order:
//   d[8]   f16 scales of rows 0..7
//   m[8]   f16 minimums of rows 0..7 (Q4_1, Q5_1)
//   h[32]  (Q5_0, Q5_1) byte 4r + e holds the 5th bits of row r: bit k (k < 4) that of element 4k + e, bit 4 + k that
//          of element 16 + 4k + e; so for vector k the 5th bits reach bit 4 of each byte with one 16-bit shift and one
//          mask: (h << (4 - k)) & 0x10 for the low nibbles, (h >> k) & 0x10 for the high nibbles.
//   qs     4-bit types: qs[4][32], vector k, byte 4r + e = qs[4k + e] of row r (low nibble = element 4k + e, high
//          nibble = element 16 + 4k + e: GGUF's nibble order), so one byte vector yields elements 4k..4k+3 of all 8
//          rows (low nibbles) and 16+4k..16+4k+3 (high nibbles); Q8_0: qs[8][32], vector k, byte 4r + e = qs[4k + e].
// Block sizes: Q4_0 144 = 8 x 18, Q4_1 160 = 8 x 20, Q5_0 176 = 8 x 22, Q5_1 192 = 8 x 24, Q8_0 272 = 8 x 34.
#include <string.h>
#include "slm_internal.h"
#include "slm_packed_internal.h"

// A GGUF block is d (f16), then m (f16) if `min`, then qh (4 bytes) if `high`, then `vectors` x 4 bytes of quants per
// row; the packed block holds the same fields for 8 rows in the order above. pack / unpack are inlined into each
// type's functions, so every layout constant folds away (load time).
typedef struct {
    size_t block;  // bytes of one GGUF block
    int min, high, vectors;
} q32_layout;

static const q32_layout k_q4_0 = {sizeof(slm_block_q4_0), 0, 0, 4}, k_q4_1 = {sizeof(slm_block_q4_1), 1, 0, 4},
                        k_q5_0 = {sizeof(slm_block_q5_0), 0, 1, 4}, k_q5_1 = {sizeof(slm_block_q5_1), 1, 1, 4},
                        k_q8_0 = {sizeof(slm_block_q8_0), 0, 0, 8};

// The 5th bits of row r (GGUF's qh: bit j of the little-endian u32 = element j) <-> bytes 4r..4r+3 of h (see above).
// Packing gathers bits e, e + 4, e + 8, e + 12 of a 16-bit half into bits 0..3 with one multiply: the bit at 4i moves
// to 12 + i through the term 1 << (12 - 3i) of 0x1248, and no two of the 16 partial products share a position (so no
// carries), instead of 16 shifts and masks per half.
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

static inline __attribute__((always_inline)) void pack(const q32_layout *l, const void *restrict src, size_t src_row, int64_t n_in, void *restrict dst) {
    const size_t qh = 2 + 2 * (size_t)l->min, qs = qh + 4 * (size_t)l->high;        // offsets in a GGUF block
    const size_t h = 16 + 16 * (size_t)l->min, v = h + 32 * (size_t)l->high;       // offsets in a packed block
    uint8_t *o = dst;
    for (int64_t b = 0; b < n_in / 32; b++, o += SLM_PACK_ROWS * l->block) {
        for (int r = 0; r < SLM_PACK_ROWS; r++) {
            const uint8_t *x = (const uint8_t *)src + (size_t)r * src_row + (size_t)b * l->block;
            memcpy(o + 2 * r, x, 2);
            if (l->min) memcpy(o + 16 + 2 * r, x + 2, 2);
            if (l->high) pack_h(x + qh, o + h, r);
            for (int k = 0; k < l->vectors; k++) memcpy(o + v + 32 * k + 4 * r, x + qs + 4 * k, 4);
        }
    }
}

static inline __attribute__((always_inline)) void unpack(const q32_layout *l, const void *restrict group, int64_t n_in, int r, void *restrict dst_row) {
    const size_t qh = 2 + 2 * (size_t)l->min, qs = qh + 4 * (size_t)l->high;
    const size_t h = 16 + 16 * (size_t)l->min, v = h + 32 * (size_t)l->high;
    const uint8_t *g = group;
    for (int64_t b = 0; b < n_in / 32; b++, g += SLM_PACK_ROWS * l->block) {
        uint8_t *x = (uint8_t *)dst_row + (size_t)b * l->block;
        memcpy(x, g + 2 * r, 2);
        if (l->min) memcpy(x + 2, g + 16 + 2 * r, 2);
        if (l->high) unpack_h(g + h, r, x + qh);
        for (int k = 0; k < l->vectors; k++) memcpy(x + qs + 4 * k, g + v + 32 * k + 4 * r, 4);
    }
}

#define Q32_LAYOUT(t)                                                                                                \
    size_t slm_packed_group_bytes_##t(int64_t n_in) { return (size_t)(n_in / 32) * SLM_PACK_ROWS * k_##t.block; }   \
    void slm_pack_##t(const void *restrict src, size_t src_row, int64_t n_in, void *restrict dst) {                 \
        pack(&k_##t, src, src_row, n_in, dst);                                                                       \
    }                                                                                                                \
    void slm_unpack_##t(const void *restrict group, int64_t n_in, int r, void *restrict dst_row) {                  \
        unpack(&k_##t, group, n_in, r, dst_row);                                                                     \
    }

Q32_LAYOUT(q4_0)
Q32_LAYOUT(q4_1)
Q32_LAYOUT(q5_0)
Q32_LAYOUT(q5_1)
Q32_LAYOUT(q8_0)
