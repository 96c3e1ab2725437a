#!/bin/sh
# Builds and runs the kernel micro-benchmarks (see kernels_bench.c). Usage: Benchmarks/kernels/run.sh [THREADS...]
# KB_ONLY=decode|prefill|sequence picks one part (sequence: a whole model's matvecs per token, packed as slm loads
# them; run only when asked; KB_BATCH=n: n-token steps, a batched decode of n sequences); KB_MATCH=text runs only shapes whose name contains it; KB_HOT=1 keeps one copy of each matrix (cache-resident: compute speed); KB_PACKED=1 repacks the weights (slm_packed.h); KB_HUGE=1 uses
# transparent huge pages; KB_CPU=1 times by thread CPU time (1-thread runs on a busy box).
set -e
cd "$(dirname "$0")/../.."
mkdir -p .build
K=Sources/CKernels
clang -O3 -fno-math-errno -Wall -Wno-unused-function -I$K/include -I$K -I$K/quants -I$K/kquants -I$K/packed -I$K/ops \
    -I$K/matmul $(pkg-config --cflags openblas) $(find $K -name '*.c') Benchmarks/kernels/kernels_bench.c \
    $(pkg-config --libs openblas) -lpthread -lm -o .build/kernels_bench
exec .build/kernels_bench "$@"
