// Memory read bandwidth with N threads: each thread sums its share of a 1 GiB buffer (bigger than any cache) several
// times; prints the best GB/s. Build: cc -O2 -mavx2 -pthread membw.c -o membw; run: ./membw THREADS
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BYTES (1ull << 30)
static char *buf;
static int nth;

static void *reader(void *arg) {
    long i = (long)arg;
    size_t per = BYTES / nth;
    const __m256i *p = (const __m256i *)(buf + i * per);
    __m256i acc = _mm256_setzero_si256();
    for (size_t k = 0; k < per / 32; k += 4) {
        acc = _mm256_xor_si256(acc, _mm256_load_si256(p + k));
        acc = _mm256_xor_si256(acc, _mm256_load_si256(p + k + 1));
        acc = _mm256_xor_si256(acc, _mm256_load_si256(p + k + 2));
        acc = _mm256_xor_si256(acc, _mm256_load_si256(p + k + 3));
    }
    volatile int sink = _mm256_extract_epi32(acc, 0);
    (void)sink;
    return NULL;
}

int main(int argc, char **argv) {
    nth = argc > 1 ? atoi(argv[1]) : 1;
    if (nth < 1 || nth > 64) nth = 1;
    buf = aligned_alloc(64, BYTES);
    memset(buf, 1, BYTES);
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        pthread_t t[64];
        for (long i = 0; i < nth; i++) pthread_create(&t[i], NULL, reader, (void *)i);
        for (int i = 0; i < nth; i++) pthread_join(t[i], NULL);
        clock_gettime(CLOCK_MONOTONIC, &b);
        double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
        if (BYTES / s / 1e9 > best) best = BYTES / s / 1e9;
    }
    printf("%.2f\n", best);
    return 0;
}
