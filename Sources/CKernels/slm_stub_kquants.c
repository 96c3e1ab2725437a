// TEMPORARY link stub: replaced by the K-quant family (slm_kquants_*.c). Delete this file when it lands.
#include "slm_kquants.h"
const slm_type_traits *slm_kquant_traits_isa(slm_type type, slm_isa isa) { (void)type; (void)isa; return 0; }
