/* The SIMD backend's thread pool. One job at a time: the caller publishes (fn, arg, n_chunks), opens
 * the chunk counter for the new generation and bumps `gen`. Every thread (caller included) claims
 * chunks by compare-and-swap on `ctr` = generation << 32 | next chunk, so a stale worker can never
 * claim a chunk of a later job; `left` counts chunks not yet finished and the caller waits for it to
 * reach zero. Workers spin a short while on `gen` (decode issues jobs every few microseconds) before
 * sleeping. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "backends/simd/pool.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

#define SPIN_ITERS 20000 /* roughly 50-200 us of spinning before a worker sleeps */

struct tfb__pool {
    int n_threads;
    pthread_t *threads; /* [n_threads - 1] */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint gen;  /* bumped per job */
    _Atomic uint64_t ctr; /* generation << 32 | next chunk to claim */
    atomic_int left;  /* chunks of the current job not finished */
    atomic_bool stop;
    int sleepers;     /* under mu */
    /* The current job; written by the caller only while no chunk can be claimed. */
    _Atomic(tfb__pool_fn) fn;
    _Atomic(void *) arg;
    atomic_int n_chunks;
};

#define CLOSED 0xffffffffu /* chunk index of a counter whose job fields are being rewritten */

/* Claim and run chunks of generation g until none is left. */
static void run_chunks(tfb__pool *p, unsigned g, int tid) {
    for (;;) {
        uint64_t v = atomic_load(&p->ctr);
        uint32_t idx = (uint32_t)(v & 0xffffffffu);
        if ((unsigned)(v >> 32) != g || idx == CLOSED)
            return;
        tfb__pool_fn fn = atomic_load(&p->fn);
        void *arg = atomic_load(&p->arg);
        int n = atomic_load(&p->n_chunks);
        if ((int64_t)idx >= n)
            return;
        /* The claim succeeds only if the counter is still v: the caller closes the counter before it
         * rewrites fn/arg/n_chunks, so the fields read above belong to generation g. */
        if (!atomic_compare_exchange_strong(&p->ctr, &v, v + 1))
            continue;
        fn(arg, (int)idx, n, tid);
        atomic_fetch_sub(&p->left, 1);
    }
}

typedef struct worker_arg {
    tfb__pool *p;
    int ith;
} worker_arg;

static void *worker_main(void *v) {
    worker_arg wa = *(worker_arg *)v;
    free(v);
    tfb__pool *p = wa.p;
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen &&
               !atomic_load_explicit(&p->stop, memory_order_acquire)) {
            if (++spins < SPIN_ITERS) {
                CPU_RELAX();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            p->sleepers++;
            while (atomic_load_explicit(&p->gen, memory_order_acquire) == seen &&
                   !atomic_load_explicit(&p->stop, memory_order_acquire))
                pthread_cond_wait(&p->cv, &p->mu);
            p->sleepers--;
            pthread_mutex_unlock(&p->mu);
            spins = 0;
        }
        if (atomic_load_explicit(&p->stop, memory_order_acquire))
            return NULL;
        seen = g;
        run_chunks(p, g, wa.ith);
    }
}

tfb_status tfb__pool_init(int n_threads, tfb__pool **out) {
    *out = NULL;
    tfb__pool *p = calloc(1, sizeof *p);
    if (!p)
        return tfb_error_set(TFB_STATUS_NOMEM, "simd: out of memory");
    p->n_threads = n_threads < 1 ? 1 : n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    atomic_init(&p->gen, 0);
    atomic_init(&p->ctr, 0);
    atomic_init(&p->left, 0);
    atomic_init(&p->fn, NULL);
    atomic_init(&p->arg, NULL);
    atomic_init(&p->n_chunks, 0);
    atomic_init(&p->stop, false);
    if (p->n_threads > 1) {
        p->threads = calloc((size_t)p->n_threads - 1, sizeof *p->threads);
        if (!p->threads) {
            free(p);
            return tfb_error_set(TFB_STATUS_NOMEM, "simd: out of memory");
        }
    }
    for (int i = 1; i < p->n_threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (wa)
            *wa = (worker_arg){p, i};
        int rc = wa ? pthread_create(&p->threads[i - 1], NULL, worker_main, wa) : -1;
        if (rc != 0) {
            free(wa);
            p->n_threads = i; /* join the ones that started */
            tfb__pool_free(p);
            return tfb_error_set(TFB_STATUS_BACKEND, "simd: cannot start worker thread %d", i);
        }
    }
    *out = p;
    return TFB_STATUS_OK;
}

void tfb__pool_free(tfb__pool *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store_explicit(&p->stop, true, memory_order_release);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n_threads; i++)
        pthread_join(p->threads[i - 1], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}

int tfb__pool_threads(const tfb__pool *p) {
    return p->n_threads;
}

void tfb__pool_run(tfb__pool *p, int n_chunks, tfb__pool_fn fn, void *arg) {
    if (n_chunks <= 1 || p->n_threads == 1) {
        for (int c = 0; c < n_chunks; c++)
            fn(arg, c, n_chunks, 0);
        return;
    }
    unsigned g = atomic_load(&p->gen) + 1;
    /* Close the previous job's counter first: a late worker that read it may still try to claim;
     * its compare-and-swap fails from here on, so the job fields can be rewritten. */
    atomic_store(&p->ctr, ((uint64_t)(g - 1) << 32) | CLOSED);
    atomic_store(&p->fn, fn);
    atomic_store(&p->arg, arg);
    atomic_store(&p->n_chunks, n_chunks);
    atomic_store(&p->left, n_chunks);
    atomic_store(&p->ctr, (uint64_t)g << 32);
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->gen, g);
    if (p->sleepers > 0)
        pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    run_chunks(p, g, 0);
    int spins = 0;
    while (atomic_load(&p->left) > 0) {
        if (++spins < SPIN_ITERS)
            CPU_RELAX();
        else
            sched_yield();
    }
}
