// A decode thread's weight stream and its software prefetch (not public). slm_matmul builds one stream per thread
// over that thread's slices of a call's matrices, started SLM_PREFETCH_BYTES ahead; kernels that take a stream
// advance it by each block's bytes as they consume the block, so the prefetches are spread one line at a time through
// the arithmetic instead of issued in a burst before each 8-row group (a burst fills the core's miss buffers and
// stalls the loads behind it).
// A kernel works on a cursor, a copy of the stream's position held in registers for the length of the call, and
// writes it back at the end: advancing the stream in memory block by block would make a chain of stores and reloads.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include "slm_matmul.h"

typedef struct slm_pf_stream {
    const char *p, *lim;  // next line to prefetch; end of the segment it is in
    int64_t credit;       // bytes consumed but not yet matched by prefetches (SLM_PF_DONE once the stream has ended)
    int n, k;             // segments; the one p is in
    const char *begin[SLM_MATMUL_MAX_JOBS], *end[SLM_MATMUL_MAX_JOBS];
} slm_pf_stream;

#define SLM_PF_DONE (INT64_MIN / 2)

typedef struct {
    const char *p, *lim;
    int64_t credit;
    slm_pf_stream *s;
} slm_pf_cursor;

typedef struct {
    const char *p, *lim;
} slm_pf_span;

// The next non-empty segment of s ({NULL, NULL} when there is none); moves s->k. Inline: a call from a kernel's loop
// would make the compiler keep the kernel's accumulators in memory (every vector register is caller-saved).
static inline __attribute__((always_inline)) slm_pf_span slm_pf_next_segment(slm_pf_stream *s) {
    while (++s->k < s->n) {
        if (s->begin[s->k] < s->end[s->k]) return (slm_pf_span){s->begin[s->k], s->end[s->k]};
    }
    s->k = s->n;
    return (slm_pf_span){NULL, NULL};
}

static inline __attribute__((always_inline)) slm_pf_cursor slm_pf_open(slm_pf_stream *s) {
    return (slm_pf_cursor){s->p, s->lim, s->credit, s};
}

// Prefetches until the window is `credit` bytes further on (none past the last segment).
static inline __attribute__((always_inline)) void slm_pf_catch_up(slm_pf_cursor *c) {
    while (c->credit > 0) {
        if (c->p >= c->lim) {
            const slm_pf_span next = slm_pf_next_segment(c->s);
            if (!next.p) {
                c->credit = SLM_PF_DONE;
                break;
            }
            c->p = next.p;
            c->lim = next.lim;
        }
        __builtin_prefetch(c->p, 0, 3);
        c->p += 64;
        c->credit -= 64;
    }
}

// Ends a kernel call: the prefetches still owed, then the position back into the stream.
static inline __attribute__((always_inline)) void slm_pf_close(slm_pf_cursor *c) {
    slm_pf_catch_up(c);
    c->s->p = c->p;
    c->s->lim = c->lim;
    c->s->credit = c->credit;
}

// `bytes` more consumed (a constant in every kernel): one prefetch per whole line, with no data-dependent branch
// while the segment lasts; the remainder is owed until a later step or the call's end (slm_pf_close). A branch per
// block (prefetching exactly as far as the consumption) would cost the cache-resident tiles a quarter of their speed.
static inline __attribute__((always_inline)) void slm_pf_step(slm_pf_cursor *c, int64_t bytes) {
    const int64_t lines = bytes / 64;
    if (lines > 0 && (uintptr_t)c->lim >= (uintptr_t)c->p + 64 * (uintptr_t)lines) {
        for (int64_t i = 0; i < lines; i++) __builtin_prefetch(c->p + 64 * i, 0, 3);
        c->p += 64 * lines;
        c->credit += bytes - 64 * lines;
    } else {
        c->credit += bytes;
        slm_pf_catch_up(c);
    }
}

// slm_pf_step on the stream itself, for callers that advance it once per call.
static inline __attribute__((always_inline)) void slm_pf_advance(slm_pf_stream *s, int64_t bytes) {
    slm_pf_cursor c = slm_pf_open(s);
    slm_pf_step(&c, bytes);
    slm_pf_close(&c);
}
