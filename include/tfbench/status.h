/* tfbench status codes: one X-macro list gives the enum and its strings. */
#ifndef TFBENCH_STATUS_H
#define TFBENCH_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, string). Harness maps them to exit codes: USAGE/INPUT -> 2, UNAVAILABLE -> 3. */
#define TFB_STATUS_MAP(X)                                          \
    X(OK, "ok")                                                    \
    X(USAGE, "bad usage")                                          \
    X(INPUT, "malformed input")                                    \
    X(IO, "i/o error")                                             \
    X(NOMEM, "out of memory")                                      \
    X(DEVICE_NOMEM, "out of device memory")                        \
    X(UNAVAILABLE, "backend unavailable")                          \
    X(UNSUPPORTED, "unsupported op or dtype")                      \
    X(BACKEND, "backend API error")                                \
    X(CHECK_FAILED, "check failed")                                \
    X(INTERNAL, "internal error")

typedef enum tfb_status {
#define TFB_STATUS_ENUM_(name, str) TFB_STATUS_##name,
    TFB_STATUS_MAP(TFB_STATUS_ENUM_)
#undef TFB_STATUS_ENUM_
    TFB_STATUS_COUNT
} tfb_status;

/* Static string for a status; never NULL. */
const char *tfb_status_str(tfb_status s);

/* The last error's detail ("file.safetensors: header length 99 past end of file"), set by the
 * function that returned a non-OK status. Thread-local; valid until the next tfb_error_set. */
const char *tfb_error_last(void);
/* Record an error detail (printf-style) and return the status, so callers can
 * `return tfb_error_set(TFB_STATUS_INPUT, "%s: bad dtype", path);` */
tfb_status tfb_error_set(tfb_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Propagate a non-OK status unchanged. */
#define TFB_TRY(expr)                          \
    do {                                       \
        tfb_status tfb_try_s_ = (expr);        \
        if (tfb_try_s_ != TFB_STATUS_OK)       \
            return tfb_try_s_;                 \
    } while (0)

/* Broken invariants abort in every build (never compiled out). */
#define TFB_ASSERT(cond)                                                   \
    do {                                                                   \
        if (!(cond))                                                       \
            tfb__assert_fail(#cond, __FILE__, __LINE__);                   \
    } while (0)
_Noreturn void tfb__assert_fail(const char *what, const char *file, int line);

#ifdef __cplusplus
}
#endif
#endif
