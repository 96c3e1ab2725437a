// Umbrella header of the CKernels target: everything Swift sees of the C side.
#pragma once
#include "slm_cpu.h"
#include "slm_threadpool.h"
#include "slm_quants.h"
#include "slm_kquants.h"
#include "slm_matmul.h"
#include "slm_packed.h"
#include "slm_ops.h"
