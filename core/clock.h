/* tfbench's wall clock (internal): monotonic seconds, for the timings the library reports itself
 * (generation, per-op profiles) and, through tfb_now, for the harness's measurements. */
#ifndef TFB_CORE_CLOCK_H
#define TFB_CORE_CLOCK_H

#include <time.h>

static inline double tfb__now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
