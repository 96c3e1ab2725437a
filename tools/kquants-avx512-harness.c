// Compares the AVX-512 K-quant/Q5 vec_dots with their scalar twins on machines without AVX-512, by compiling
// slm_kquants_avx512.c against SIMDe's portable intrinsics (see tools/check-kquants-avx512.sh). Exit status 1 on a
// mismatch. Tolerance: both sides compute the same exact integer block sums, so only f32 summation order differs.
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include "slm_kquants_internal.h"

typedef void (*dot_fn)(int64_t, const void *, const void *, float *);
typedef void (*quant_fn)(const float *, void *, int64_t);

static float gauss(void) {
    double u = (rand() + 1.0) / (RAND_MAX + 2.0), v = rand() / (double)RAND_MAX;
    return (float)(sqrt(-2 * log(u)) * cos(2 * M_PI * v));
}

// Q8_0 / Q8_1 activations: d = amax/127 in f16, q = round(x/d); Q8_1's s = f16(d * sum q).
static void quant_q8_01(const float *x, void *dst, int n, int with_sum) {
    for (int i = 0; i < n / 32; i++) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[32 * i + j]));
        uint16_t d16 = slm_float_to_half(amax / 127);
        float d = slm_half_to_float(d16);
        int8_t q[32];
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            int v = d != 0 ? (int)nearbyintf(x[32 * i + j] / d) : 0;
            q[j] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
            sum += q[j];
        }
        if (with_sum) {
            slm_block_q8_1 *b = (slm_block_q8_1 *)dst + i;
            b->d = d16;
            b->s = slm_float_to_half(d * sum);
            memcpy(b->qs, q, 32);
        } else {
            slm_block_q8_0 *b = (slm_block_q8_0 *)dst + i;
            b->d = d16;
            memcpy(b->qs, q, 32);
        }
    }
}

int main(void) {
    const struct {
        const char *name;
        int block;
        size_t size;
        quant_fn quant;
        dot_fn ref, simd;
        int act;  // 0 Q8_K, 1 Q8_0, 2 Q8_1
    } types[] = {
        {"Q4_K", 256, sizeof(slm_block_q4_K), slm_quant_q4_K_ref, slm_vec_dot_q4_K_q8_K_ref, slm_vec_dot_q4_K_q8_K_avx512, 0},
        {"Q5_K", 256, sizeof(slm_block_q5_K), slm_quant_q5_K_ref, slm_vec_dot_q5_K_q8_K_ref, slm_vec_dot_q5_K_q8_K_avx512, 0},
        {"Q6_K", 256, sizeof(slm_block_q6_K), slm_quant_q6_K_ref, slm_vec_dot_q6_K_q8_K_ref, slm_vec_dot_q6_K_q8_K_avx512, 0},
        {"Q5_0", 32, sizeof(slm_block_q5_0), slm_quant_q5_0_ref, slm_vec_dot_q5_0_q8_0_ref, slm_vec_dot_q5_0_q8_0_avx512, 1},
        {"Q5_1", 32, sizeof(slm_block_q5_1), slm_quant_q5_1_ref, slm_vec_dot_q5_1_q8_1_ref, slm_vec_dot_q5_1_q8_1_avx512, 2},
    };
    const int k_lengths[] = {256, 512, 2304}, q5_lengths[] = {32, 96, 640, 2048};
    int fails = 0, cases = 0;
    srand(1);
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const int *lengths = types[t].block == 256 ? k_lengths : q5_lengths;
        const int count = types[t].block == 256 ? 3 : 4;
        for (int r = 0; r < count; r++) {
            for (int trial = 0; trial < 3; trial++) {
                const int n = lengths[r];
                float *x = malloc(sizeof(float) * n), *a = malloc(sizeof(float) * n);
                double magnitude = 0;
                for (int i = 0; i < n; i++) {
                    x[i] = gauss() * (trial == 2 && i % 37 == 0 ? 40 : 1);
                    a[i] = gauss();
                    magnitude += fabs((double)x[i] * a[i]);
                }
                void *w = malloc((size_t)n / types[t].block * types[t].size);
                void *act = malloc((size_t)n / 256 * sizeof(slm_block_q8_K) + (size_t)n / 32 * sizeof(slm_block_q8_1) + 64);
                types[t].quant(x, w, n);
                if (types[t].act == 0) slm_quant_q8_K_ref(a, act, n);
                else quant_q8_01(a, act, n, types[t].act == 2);
                float want, got;
                types[t].ref(n, w, act, &want);
                types[t].simd(n, w, act, &got);
                const int bad = !(fabs((double)got - want) <= 1e-5 * magnitude);
                fails += bad;
                cases++;
                if (bad) printf("MISMATCH %s n=%d trial %d: ref %.7g avx512 %.7g\n", types[t].name, n, trial, want, got);
                free(x); free(a); free(w); free(act);
            }
        }
    }
    printf("%d of %d cases match\n", cases - fails, cases);
    return fails != 0;
}
