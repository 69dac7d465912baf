/* Progress lines on stderr, one per step: "[bench 7/24] simd gpt2-124m q8_0 tg64@d512 ... elapsed 0:41,
 * eta 2:10", "[conform 3/40] opencl gpt2-tiny q4_0 ...". One count of steps at a time, possibly over
 * several runs (the suite's bench runs). */
#ifndef TFB_HARNESS_PROGRESS_H
#define TFB_HARNESS_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

/* Start a count of `steps` steps (`units` of work, for the eta) under `tag` ("bench", "conform") that
 * lasts until tfb_progress_close. Lines appear when stderr is a terminal, or always with force. */
void tfb_progress_open(const char *tag, int steps, double units, bool force);
bool tfb_progress_is_open(void);
void tfb_progress_close(void);
/* Mark steps done without running them (a configuration skipped or cut short). */
void tfb_progress_advance(int steps, double units);
/* The progress position, to advance past a configuration's remaining steps. */
void tfb_progress_where(int *steps, double *units);
/* A step of `units` work begins: counted, and its line printed when lines are on. */
void tfb_progress_step(const char *what, double units);
/* Seconds as "m:ss" (or "h:mm:ss"). */
void tfb_progress_clock(char *out, size_t len, double seconds);

#endif
