/* A C API over Google Benchmark (gbench.cpp), so every benchmark body is C.
 *
 *   static void body(tfb_gb_state *st, void *ctx) {
 *       ... set up (not timed) ...
 *       while (tfb_gb_keep_running(st)) { ... the timed work ... }
 *       tfb_gb_counter(st, "GFLOP/s", flop * tfb_gb_iterations_done(st) / 1e9, true);
 *   }
 *   tfb_gb_bench *b = tfb_gb_register("matmul/reference/f32/512x768x768", body, ctx);
 *   tfb_gb_use_real_time(b);
 *   ...
 *   return tfb_gb_main(argc, argv);   // Google Benchmark's own flags work
 *
 * ctx must outlive tfb_gb_main. Names are copied. */
#ifndef TFB_GBENCH_H
#define TFB_GBENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tfb_gb_state tfb_gb_state; /* benchmark::State */
typedef struct tfb_gb_bench tfb_gb_bench; /* benchmark::internal::Benchmark */
typedef void (*tfb_gb_fn)(tfb_gb_state *st, void *ctx);

/* Registration (before tfb_gb_main). */
tfb_gb_bench *tfb_gb_register(const char *name, tfb_gb_fn fn, void *ctx);
void tfb_gb_arg(tfb_gb_bench *b, int64_t a);              /* one more run with range(0) = a */
void tfb_gb_args2(tfb_gb_bench *b, int64_t a, int64_t c); /* range(0) = a, range(1) = c */
void tfb_gb_iterations(tfb_gb_bench *b, int64_t n);       /* exactly n iterations */
void tfb_gb_min_time(tfb_gb_bench *b, double seconds);
void tfb_gb_use_real_time(tfb_gb_bench *b); /* wall time (multithreaded and device work) */
void tfb_gb_unit_ms(tfb_gb_bench *b);       /* report times in milliseconds */

/* Inside a benchmark. */
bool tfb_gb_keep_running(tfb_gb_state *st);
void tfb_gb_pause(tfb_gb_state *st);
void tfb_gb_resume(tfb_gb_state *st);
int64_t tfb_gb_range(tfb_gb_state *st, int i);
int64_t tfb_gb_iterations_done(tfb_gb_state *st);
void tfb_gb_set_bytes(tfb_gb_state *st, int64_t bytes); /* total over all iterations -> bytes_per_second */
void tfb_gb_set_items(tfb_gb_state *st, int64_t items);
/* A user counter; rate: divided by the elapsed time (benchmark::Counter::kIsRate). */
void tfb_gb_counter(tfb_gb_state *st, const char *name, double value, bool rate);
void tfb_gb_label(tfb_gb_state *st, const char *label);
/* Report the run as failed with this message; the body should return without looping. */
void tfb_gb_skip(tfb_gb_state *st, const char *msg);

/* benchmark::Initialize, reject unknown flags (exit 2), run the selected benchmarks, Shutdown. */
int tfb_gb_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
