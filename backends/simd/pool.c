/* The SIMD backend's thread pool. One job at a time: the caller publishes (fn, arg, nth) and bumps a
 * generation counter; each worker i < nth runs its share and bumps `done`. Workers spin a short while
 * on the generation (decode steps issue jobs every few microseconds) before sleeping. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
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
    atomic_int done;  /* workers finished with the current job */
    atomic_bool stop;
    int sleepers;     /* under mu */
    tfb__pool_fn fn;
    void *arg;
    int nth;
};

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
        if (wa.ith < p->nth)
            p->fn(p->arg, wa.ith, p->nth);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_acq_rel);
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
    atomic_init(&p->done, 0);
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

void tfb__pool_run(tfb__pool *p, int nth, tfb__pool_fn fn, void *arg) {
    if (nth > p->n_threads)
        nth = p->n_threads;
    if (nth <= 1 || p->n_threads == 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->nth = nth;
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_acq_rel);
    if (p->sleepers > 0)
        pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0, nth);
    int workers = p->n_threads - 1;
    int spins = 0;
    while (atomic_load_explicit(&p->done, memory_order_acquire) < workers) {
        if (++spins < SPIN_ITERS)
            CPU_RELAX();
        else
            sched_yield();
    }
}
