/* Status strings and the thread-local last-error detail. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tfbench/status.h"

static const char *const status_strings[] = {
#define TFB_STATUS_STR_(name, str) str,
    TFB_STATUS_MAP(TFB_STATUS_STR_)
#undef TFB_STATUS_STR_
};

const char *tfb_status_str(tfb_status s) {
    if ((unsigned)s >= TFB_STATUS_COUNT)
        return "unknown status";
    return status_strings[s];
}

static _Thread_local char last_error[1024];

const char *tfb_error_last(void) {
    return last_error;
}

tfb_status tfb_error_set(tfb_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

void tfb__assert_fail(const char *what, const char *file, int line) {
    fprintf(stderr, "tfbench: %s:%d: assertion failed: %s\n", file, line, what);
    abort();
}
