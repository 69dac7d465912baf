// The C API of gbench.h over Google Benchmark: opaque pointers are the library's own objects.
#include "gbench.h"

#include <benchmark/benchmark.h>

#include <string>

static benchmark::State &S(tfb_gb_state *st) {
    return *reinterpret_cast<benchmark::State *>(st);
}
static benchmark::internal::Benchmark *B(tfb_gb_bench *b) {
    return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}

extern "C" {

tfb_gb_bench *tfb_gb_register(const char *name, tfb_gb_fn fn, void *ctx) {
    benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(
        name, [fn, ctx](benchmark::State &st) { fn(reinterpret_cast<tfb_gb_state *>(&st), ctx); });
    return reinterpret_cast<tfb_gb_bench *>(b);
}

void tfb_gb_arg(tfb_gb_bench *b, int64_t a) {
    B(b)->Arg(a);
}
void tfb_gb_args2(tfb_gb_bench *b, int64_t a, int64_t c) {
    B(b)->Args({a, c});
}
void tfb_gb_iterations(tfb_gb_bench *b, int64_t n) {
    B(b)->Iterations(n);
}
void tfb_gb_min_time(tfb_gb_bench *b, double seconds) {
    B(b)->MinTime(seconds);
}
void tfb_gb_use_real_time(tfb_gb_bench *b) {
    B(b)->UseRealTime();
}
void tfb_gb_unit_ms(tfb_gb_bench *b) {
    B(b)->Unit(benchmark::kMillisecond);
}

bool tfb_gb_keep_running(tfb_gb_state *st) {
    return S(st).KeepRunning();
}
void tfb_gb_pause(tfb_gb_state *st) {
    S(st).PauseTiming();
}
void tfb_gb_resume(tfb_gb_state *st) {
    S(st).ResumeTiming();
}
int64_t tfb_gb_range(tfb_gb_state *st, int i) {
    return S(st).range(static_cast<std::size_t>(i));
}
int64_t tfb_gb_iterations_done(tfb_gb_state *st) {
    return static_cast<int64_t>(S(st).iterations());
}
void tfb_gb_set_bytes(tfb_gb_state *st, int64_t bytes) {
    S(st).SetBytesProcessed(bytes);
}
void tfb_gb_set_items(tfb_gb_state *st, int64_t items) {
    S(st).SetItemsProcessed(items);
}
void tfb_gb_counter(tfb_gb_state *st, const char *name, double value, bool rate) {
    S(st).counters[name] =
        benchmark::Counter(value, rate ? benchmark::Counter::kIsRate : benchmark::Counter::kDefaults);
}
void tfb_gb_label(tfb_gb_state *st, const char *label) {
    S(st).SetLabel(label);
}
void tfb_gb_skip(tfb_gb_state *st, const char *msg) {
    S(st).SkipWithError(msg);
}

int tfb_gb_main(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
}
