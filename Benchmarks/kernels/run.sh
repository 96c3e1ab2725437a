#!/bin/sh
# Builds and runs the kernel micro-benchmarks (see kernels_bench.c). Usage: Benchmarks/kernels/run.sh [THREADS...]
# KB_ONLY=decode|prefill limits the run to one half.
set -e
cd "$(dirname "$0")/../.."
mkdir -p .build
clang -O3 -fno-math-errno -Wall -Wno-unused-function -ISources/CKernels/include $(pkg-config --cflags openblas) \
    Sources/CKernels/*.c Benchmarks/kernels/kernels_bench.c $(pkg-config --libs openblas) -lpthread -lm \
    -o .build/kernels_bench
exec .build/kernels_bench "$@"
