// A decode thread's weight stream and its software prefetch (not public). slm_matmul builds one stream per thread
// over that thread's slices of a call's matrices, started SLM_PREFETCH_BYTES ahead; kernels that take a stream
// advance it by each block's bytes as they consume the block, so the prefetches are spread one line at a time through
// the arithmetic instead of issued in a burst before each 8-row group (a burst fills the core's miss buffers and
// stalls the loads behind it: +15% for a whole SmolLM2 decode on one thread, measured).
#pragma once
#include <stdint.h>
#include <stddef.h>
#include "slm_matmul.h"

typedef struct slm_pf_stream {
    const char *begin[SLM_MATMUL_MAX_JOBS], *end[SLM_MATMUL_MAX_JOBS];
    int n, k;           // segments; the one the cursor is in
    const char *p;      // next line to prefetch
    int64_t credit;     // bytes consumed but not yet matched by prefetches
} slm_pf_stream;

// Prefetches the lines that `bytes` more of consumption moves into the window (none past the last segment).
static inline __attribute__((always_inline)) void slm_pf_advance(slm_pf_stream *s, int64_t bytes) {
    s->credit += bytes;
    while (s->credit > 0 && s->k < s->n) {
        __builtin_prefetch(s->p, 0, 3);
        s->p += 64;
        s->credit -= 64;
        if (s->p >= s->end[s->k]) {
            if (++s->k < s->n) s->p = s->begin[s->k];
        }
    }
}
