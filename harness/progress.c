/* Progress lines of bench, conform and the suite (progress.h): one count of steps across runs. */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"

/* One count of steps, possibly over several bench runs (the suite's). The eta is the remaining
 * work units at the rate measured so far: each step's units are an estimate of its cost (tokens x
 * millions of parameters, decode tokens weighted), so the rate self-calibrates as steps complete. */
static struct {
    const char *tag;
    bool open, print;
    int done, total;
    double units_done, units_total, t0;
} prog;

void tfb_progress_open(const char *tag, int steps, double units, bool force) {
    prog.tag = tag;
    prog.open = true;
    prog.print = force || isatty(2);
    prog.done = 0, prog.total = steps;
    prog.units_done = 0, prog.units_total = units;
    prog.t0 = tfb_now();
}

bool tfb_progress_is_open(void) {
    return prog.open;
}

void tfb_progress_close(void) {
    prog.open = false;
}

void tfb_progress_advance(int steps, double units) {
    prog.done += steps;
    prog.units_done += units;
}

void tfb_progress_where(int *steps, double *units) {
    *steps = prog.done;
    *units = prog.units_done;
}

void tfb_progress_clock(char *out, size_t len, double s) {
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, len, "%ld:%02ld", t / 60, t % 60);
}

void tfb_progress_step(const char *what, double units) {
    if (!prog.open)
        return;
    prog.done++;
    prog.units_done += units;
    if (!prog.print)
        return;
    double el = tfb_now() - prog.t0, before = prog.units_done - units;
    char eta[32] = "?";
    if (before > 0) /* the rate of the steps completed so far */
        tfb_progress_clock(eta, sizeof eta, el / before * (prog.units_total - before));
    char elapsed[32];
    tfb_progress_clock(elapsed, sizeof elapsed, el);
    fprintf(stderr, "[%s %d/%d] %s ... elapsed %s, eta %s\n", prog.tag, prog.done, prog.total, what, elapsed,
            eta);
    fflush(stderr);
}
