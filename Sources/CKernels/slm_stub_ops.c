// TEMPORARY link stub: replaced by the ops family (slm_ops_*.c). Delete this file when they land.
#include "slm_ops.h"
void slm_ops_init(slm_isa isa) { (void)isa; }
