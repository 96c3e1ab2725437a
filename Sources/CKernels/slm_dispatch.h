// The one dispatch table: every kernel of one instruction set (not public). slm_cpu.c fills one table per ISA, once,
// at start-up, the same way on every machine (the choice is a pure function of the ISA), and makes the best one the
// CPU runs active (SLM_ISA may cap it).
#pragma once
#include "slm_quants_internal.h"
#include "slm_packed_internal.h"
#include "slm_ops_impl.h"

typedef struct {
    slm_type_traits type[SLM_TYPE_COUNT];        // by tensor type; name == NULL: unsupported type
    const slm_dot_tiles *tiles[SLM_TYPE_COUNT];  // register tiles bit-identical to type[t].vec_dot, or NULL
    slm_packed_traits packed[SLM_TYPE_COUNT];    // packed layout by base type; pack == NULL: none
    slm_ops_impl ops;
} slm_kernel_table;

// The table of `isa` whatever this CPU runs (never call a kernel of an ISA above slm_cpu_best_isa), or NULL for no
// such ISA.
const slm_kernel_table *slm_kernel_table_of(slm_isa isa);
// The active ISA's table.
const slm_kernel_table *slm_kernels(void);

// The families' fillers, called for each ISA in this order on a copy of the table of the ISA below (REF: on zeros);
// each sets the kernels its family has for `isa` and leaves the rest (the packed family reads the Q8_K quantizer the
// K-quant family set). Called once, from inside slm_kernels_init: they must not call back into slm_cpu.c.
void slm_quants_fill(slm_kernel_table *t, slm_isa isa);
void slm_kquants_fill(slm_kernel_table *t, slm_isa isa);
void slm_packed_fill(slm_kernel_table *t, slm_isa isa);
void slm_ops_fill(slm_kernel_table *t, slm_isa isa);
