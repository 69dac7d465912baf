/* Interleaved measurement (bench --interleave): several configurations of one model (backends,
 * dtypes, thread counts) measured A B A B rather than A A B B, so load that drifts during the run
 * hits them all alike (issue 19; llama-bench users ask for it because its results depend on test
 * order).
 *
 * Each configuration runs the ordinary sequential code on a thread of its own, and the threads take
 * turns: a thread computes only while it holds the turn, and passes it on at every step and every
 * repetition (tfb__bench_turn). Exactly one thread runs at a time, so timings see an otherwise idle
 * process, and the shared state (results, progress, error strings) needs no other lock. */
#include <pthread.h>
#include <string.h>

#include "bench.h"

#define MAX_TURNS 64

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool active, live[MAX_TURNS];
    int n, cur;
} T = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static _Thread_local int my_turn = -1;

/* The next live thread after i, cyclically; i itself when it is the only one left; -1 when none. */
static int next_live(int i) {
    for (int k = 1; k <= T.n; k++) {
        int j = (i + k) % T.n;
        if (T.live[j])
            return j;
    }
    return -1;
}

void tfb__bench_turn(void) {
    if (my_turn < 0)
        return;
    pthread_mutex_lock(&T.mu);
    T.cur = next_live(my_turn);
    pthread_cond_broadcast(&T.cv);
    while (T.cur != my_turn)
        pthread_cond_wait(&T.cv, &T.mu);
    pthread_mutex_unlock(&T.mu);
}

typedef struct turn_arg {
    int id;
    int (*fn)(void *);
    void *arg;
    int rc;
} turn_arg;

static void *turn_main(void *p) {
    turn_arg *t = p;
    pthread_mutex_lock(&T.mu);
    while (T.cur != t->id)
        pthread_cond_wait(&T.cv, &T.mu);
    pthread_mutex_unlock(&T.mu);
    my_turn = t->id;
    t->rc = t->fn(t->arg);
    pthread_mutex_lock(&T.mu); /* done: out of the ring, the turn to the next */
    T.live[t->id] = false;
    T.cur = next_live(t->id);
    pthread_cond_broadcast(&T.cv);
    pthread_mutex_unlock(&T.mu);
    my_turn = -1;
    return NULL;
}

int tfb__bench_interleave(int n, int (*fn)(void *), void *const *args, int *rcs) {
    TFB_ASSERT(n > 0 && n <= MAX_TURNS && !T.active);
    pthread_t th[MAX_TURNS];
    bool started[MAX_TURNS];
    turn_arg ta[MAX_TURNS];
    pthread_mutex_lock(&T.mu);
    T.active = true, T.n = n, T.cur = 0;
    for (int i = 0; i < n; i++)
        T.live[i] = true;
    pthread_mutex_unlock(&T.mu);
    int n_started = 0;
    for (int i = 0; i < n; i++) {
        ta[i] = (turn_arg){i, fn, args[i], TFB_EXIT_FAIL};
        started[i] = pthread_create(&th[i], NULL, turn_main, &ta[i]) == 0;
        if (!started[i]) { /* out of the ring, not measured: the caller reports its rc */
            pthread_mutex_lock(&T.mu);
            T.live[i] = false;
            if (T.cur == i)
                T.cur = next_live(i);
            pthread_cond_broadcast(&T.cv);
            pthread_mutex_unlock(&T.mu);
        }
        n_started += started[i];
    }
    for (int i = 0; i < n; i++)
        if (started[i])
            pthread_join(th[i], NULL);
    for (int i = 0; i < n; i++)
        rcs[i] = ta[i].rc;
    pthread_mutex_lock(&T.mu);
    T.active = false;
    pthread_mutex_unlock(&T.mu);
    return n_started;
}
