/* The C unit tests' one check: on a false condition count a failure, say where and what, and go on
 * (so one run lists every failing case). Header-only: each test is one translation unit, and this
 * gives it its `failures` count, which main reports and returns on. */
#ifndef TFB_TESTS_CHECK_H
#define TFB_TESTS_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            failures++;                                                                                      \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                  \
            fprintf(stderr, __VA_ARGS__);                                                                    \
            fputc('\n', stderr);                                                                             \
        }                                                                                                    \
    } while (0)

#endif
