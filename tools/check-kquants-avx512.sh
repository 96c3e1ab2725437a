#!/usr/bin/env bash
# Checks the AVX-512 K-quant/Q5 vec_dots against their scalar twins on a CPU without AVX-512: compiles
# Sources/CKernels/slm_kquants_avx512.c against SIMDe (portable implementations of the intrinsics, from the PyPI
# package simde-py) with gcc, and runs tools/kquants-avx512-harness.c. Where the CPU has AVX-512, the Swift tests
# (KQuantTests.testAVX512VecDotsMatchReference) run the real thing instead.
# Usage: tools/check-kquants-avx512.sh [simde-include-dir]   (default: installs simde-py into a temp dir)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
inc="${1:-}"
if [ -z "$inc" ]; then
    pip install -q --target "$work/simde" simde-py
    inc="$work/simde/simde_py/simde"
fi
k="$root/Sources/CKernels"
# SIMDe in place of <immintrin.h>, no target attributes, and the scalar twin for the odd-block tail that the real
# file hands to the AVX2 kernel. SIMDe lacks _mm512_reduce_add_ps; a plain sum stands in.
sed -e 's|#include <immintrin.h>|#define SIMDE_ENABLE_NATIVE_ALIASES\n#include <simde/x86/avx512.h>\n#include <simde/x86/f16c.h>\n#include <simde/x86/fma.h>\nstatic float shim_reduce_add_ps(__m512 v) { float t[16]; _mm512_storeu_ps(t, v); float s = 0; for (int i = 0; i < 16; i++) s += t[i]; return s; }\n#define _mm512_reduce_add_ps shim_reduce_add_ps|' \
    -e 's/SLM_TARGET_AVX512 //g' \
    -e 's/slm_vec_dot_q5_\([01]\)_q8_\([01]\)_avx2(/slm_vec_dot_q5_\1_q8_\2_ref(/g' \
    "$k/slm_kquants_avx512.c" > "$work/avx512_simde.c"
gcc -O1 -w -Wno-psabi -I "$inc" -I "$k/include" -I "$k" "$root/tools/kquants-avx512-harness.c" "$work/avx512_simde.c" \
    "$k/slm_kquants_ref.c" -lm -o "$work/check"
"$work/check"
