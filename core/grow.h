/* Growing an array by doubling (internal): the one form of "room for one more" that the graph and
 * the backends' caches and queues share. */
#ifndef TFB_CORE_GROW_H
#define TFB_CORE_GROW_H

#include <stdlib.h>

/* p (cap elements of elem bytes) reallocated to twice cap, or 64 elements when empty; *cap updated.
 * NULL when out of memory: then p and *cap are as they were. */
static inline void *tfb__grow(void *p, int *cap, size_t elem) {
    int ncap = *cap ? 2 * *cap : 64;
    void *q = realloc(p, (size_t)ncap * elem);
    if (q)
        *cap = ncap;
    return q;
}

#endif
