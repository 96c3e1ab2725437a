// A persistent thread pool. The caller is worker 0; workers wait for a new generation number, spinning briefly
// (decode issues ~300 runs per token, a few microseconds apart) and then parking on a condition variable so that an
// idle pool costs no CPU. Indices 1..n-1 are claimed from a counter rather than tied to threads: when the cores are
// shared with other processes and a worker is descheduled, the caller runs the unclaimed indices itself instead of
// waiting a whole time slice for that worker to wake up.
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "slm_threadpool.h"
#include "slm_internal.h"

#if SLM_HAVE_X86
#include <immintrin.h>
#define SLM_PAUSE() _mm_pause()
#else
#define SLM_PAUSE() ((void)0)
#endif

// Wait budget before parking: spinning for ~250 microseconds bridges the gap between two matmuls of one token;
// then the worker parks so an idle pool costs nothing. (sched_yield while waiting hands the core to another process
// for a whole time slice when the machine is busy, so a worker only yields when the pool has more threads than
// there are CPUs, where spinning would starve the threads doing the work.)
#define SLM_SPIN_NS 250000
#define SLM_SPIN_YIELDS 256
// While the caller waits for running indices it yields every this many pauses (their thread may be preempted).
#define SLM_WAIT_YIELD_EVERY 256

struct slm_threadpool {
    int n_threads;
    int oversubscribed;                   // more threads than CPUs: yield instead of spinning
    pthread_t *threads;
    _Alignas(64) atomic_uint generation;  // bumped once per run; workers start when it changes
    _Alignas(64) atomic_int next_ith;     // next unclaimed index of the current run (>= n_threads: none left)
    _Alignas(64) atomic_int done;         // indices 1..n-1 finished in the current run
    _Alignas(64) atomic_int sleepers;     // workers parked (or about to park) on `wake`
    atomic_int stop;
    slm_task_fn fn;                       // written before next_ith is reset (release), read after claiming
    void *ctx;
    void *scratch;                        // slm_threadpool_scratch: the caller's, grown by doubling
    atomic_int *tids;                     // the workers' thread ids in the order they started (0: not yet)
    atomic_int started;
    atomic_int nice_set;                  // slm_threadpool_set_nice was called: workers starting later apply `nice`
    atomic_int nice;
    size_t scratch_bytes;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
};

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

// Runs indices of the current run until none is left. A claim below n_threads can only come from the counter the
// caller reset after publishing fn/ctx (the previous run ended with every index claimed), so fn/ctx are current.
static void run_claimed(slm_threadpool *tp) {
    for (;;) {
        int ith = atomic_fetch_add_explicit(&tp->next_ith, 1, memory_order_acquire);
        if (ith >= tp->n_threads) return;
        tp->fn(tp->ctx, ith, tp->n_threads);
        atomic_fetch_add_explicit(&tp->done, 1, memory_order_release);
    }
}

static void *worker_main(void *p) {
    slm_threadpool *tp = p;
    // Publishing the id (seq_cst) before reading nice_set pairs with slm_threadpool_set_nice's store of nice_set
    // before reading the ids: either it renices this thread or this thread sees the request.
    atomic_store(&tp->tids[atomic_fetch_add(&tp->started, 1)], (int)syscall(SYS_gettid));
    if (atomic_load(&tp->nice_set)) setpriority(PRIO_PROCESS, 0, atomic_load(&tp->nice));
    // The pool starts at generation 0; a run may bump it before this thread gets here, so do not read it now.
    unsigned seen = 0;
    for (;;) {
        unsigned gen = seen;
        int64_t deadline = now_ns() + SLM_SPIN_NS;
        for (int i = 1;; i++) {
            gen = atomic_load_explicit(&tp->generation, memory_order_acquire);
            if (gen != seen || atomic_load_explicit(&tp->stop, memory_order_relaxed)) break;
            if (tp->oversubscribed) {
                if (i > SLM_SPIN_YIELDS) break;
                sched_yield();
            } else {
                SLM_PAUSE();
                if (i % 64 == 0 && now_ns() > deadline) break;
            }
        }
        if (gen == seen && !atomic_load_explicit(&tp->stop, memory_order_acquire)) {
            // Park. Announcing ourselves (seq_cst) before re-reading the generation pairs with the caller's
            // seq_cst bump-then-read-sleepers: either it sees us and broadcasts, or we see its new generation.
            pthread_mutex_lock(&tp->mutex);
            atomic_fetch_add(&tp->sleepers, 1);
            while ((gen = atomic_load(&tp->generation)) == seen && !atomic_load(&tp->stop)) {
                pthread_cond_wait(&tp->wake, &tp->mutex);
            }
            atomic_fetch_sub(&tp->sleepers, 1);
            pthread_mutex_unlock(&tp->mutex);
        }
        if (atomic_load_explicit(&tp->stop, memory_order_acquire)) break;
        seen = gen;
        run_claimed(tp);
    }
    return NULL;
}

slm_threadpool *slm_threadpool_create(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    if (n_threads > 256) n_threads = 256;
    slm_threadpool *tp = calloc(1, sizeof *tp);
    if (!tp) return NULL;
    tp->n_threads = n_threads;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    tp->oversubscribed = cpus > 0 && n_threads > cpus;
    atomic_init(&tp->generation, 0);
    atomic_init(&tp->next_ith, n_threads);
    atomic_init(&tp->done, 0);
    atomic_init(&tp->sleepers, 0);
    atomic_init(&tp->stop, 0);
    atomic_init(&tp->started, 0);
    atomic_init(&tp->nice_set, 0);
    atomic_init(&tp->nice, 0);
    pthread_mutex_init(&tp->mutex, NULL);
    pthread_cond_init(&tp->wake, NULL);
    if (n_threads > 1) {
        tp->threads = calloc((size_t)n_threads, sizeof(pthread_t));
        tp->tids = calloc((size_t)n_threads, sizeof(atomic_int));
        if (!tp->threads || !tp->tids) { slm_threadpool_destroy(tp); return NULL; }
    }
    for (int i = 1; i < n_threads; i++) {
        if (pthread_create(&tp->threads[i], NULL, worker_main, tp) != 0) {
            tp->n_threads = i;  // join only the threads that exist
            slm_threadpool_destroy(tp);
            return NULL;
        }
    }
    return tp;
}

void slm_threadpool_destroy(slm_threadpool *tp) {
    if (!tp) return;
    atomic_store(&tp->stop, 1);
    pthread_mutex_lock(&tp->mutex);
    pthread_cond_broadcast(&tp->wake);
    pthread_mutex_unlock(&tp->mutex);
    for (int i = 1; i < tp->n_threads; i++) pthread_join(tp->threads[i], NULL);
    pthread_mutex_destroy(&tp->mutex);
    pthread_cond_destroy(&tp->wake);
    free(tp->threads);
    free(tp->tids);
    free(tp->scratch);
    free(tp);
}

void *slm_threadpool_scratch(slm_threadpool *tp, size_t bytes) {
    if (!tp) return NULL;
    if (bytes <= tp->scratch_bytes) return tp->scratch;
    size_t grown = tp->scratch_bytes * 2 > bytes ? tp->scratch_bytes * 2 : bytes;
    grown = (grown + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, grown);
    if (!p) return NULL;  // the old buffer stays for smaller requests
    free(tp->scratch);
    tp->scratch = p;
    tp->scratch_bytes = grown;
    return p;
}

int slm_threadpool_n_threads(const slm_threadpool *tp) { return tp ? tp->n_threads : 1; }

int slm_thread_set_nice(int nice) { return setpriority(PRIO_PROCESS, 0, nice); }

int slm_thread_nice(void) { return getpriority(PRIO_PROCESS, 0); }

int slm_threadpool_set_nice(slm_threadpool *tp, int nice) {
    if (!tp) return 0;
    atomic_store(&tp->nice, nice);
    atomic_store(&tp->nice_set, 1);
    int rc = 0;
    for (int i = 0; i < tp->n_threads - 1; i++) {
        const int tid = atomic_load(&tp->tids[i]);
        if (tid != 0 && setpriority(PRIO_PROCESS, (id_t)tid, nice) != 0) rc = -1;
    }
    return rc;
}

void slm_threadpool_run(slm_threadpool *tp, slm_task_fn fn, void *ctx) {
    if (!tp || tp->n_threads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    tp->fn = fn;
    tp->ctx = ctx;
    atomic_store_explicit(&tp->done, 0, memory_order_relaxed);
    atomic_store_explicit(&tp->next_ith, 1, memory_order_release);  // publishes fn/ctx/done to claimers
    atomic_fetch_add(&tp->generation, 1);  // seq_cst: wakes spinners, orders before reading sleepers
    if (atomic_load(&tp->sleepers) > 0) {
        pthread_mutex_lock(&tp->mutex);
        pthread_cond_broadcast(&tp->wake);
        pthread_mutex_unlock(&tp->mutex);
    }
    fn(ctx, 0, tp->n_threads);
    run_claimed(tp);  // whatever no worker has picked up yet
    for (unsigned i = 1; atomic_load_explicit(&tp->done, memory_order_acquire) < tp->n_threads - 1; i++) {
        if (i % SLM_WAIT_YIELD_EVERY == 0) sched_yield();
        else SLM_PAUSE();
    }
}

void slm_split_range(int64_t n, int64_t align, int ith, int nth, int64_t *begin, int64_t *end) {
    if (align < 1) align = 1;
    if (nth < 1) nth = 1;
    if (n <= 0 || ith < 0 || ith >= nth) { *begin = *end = n > 0 ? n : 0; return; }
    int64_t blocks = (n + align - 1) / align;
    int64_t per = blocks / nth, extra = blocks % nth;
    int64_t b0 = (int64_t)ith * per + SLM_MIN((int64_t)ith, extra);
    int64_t b1 = b0 + per + (ith < extra ? 1 : 0);
    *begin = SLM_MIN(b0 * align, n);
    *end = SLM_MIN(b1 * align, n);
}
