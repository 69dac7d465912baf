/* Error printing, exit codes, number parsing and atomic file writes for the CLI. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/clock.h"

int tfb_cli_exit_code(tfb_status s) {
    switch (s) {
    case TFB_STATUS_OK: return TFB_EXIT_OK;
    case TFB_STATUS_CHECK_FAILED: return TFB_EXIT_FAIL;
    case TFB_STATUS_UNAVAILABLE: return TFB_EXIT_UNAVAILABLE;
    case TFB_STATUS_USAGE:
    case TFB_STATUS_INPUT:
    case TFB_STATUS_IO: return TFB_EXIT_USAGE;
    default: return TFB_EXIT_FAIL;
    }
}

int tfb_cli_fail(tfb_status s, const char *where) {
    const char *what = tfb_error_last();
    if (!what[0])
        what = tfb_status_str(s);
    if (where)
        fprintf(stderr, "tfbench: %s: %s\n", where, what);
    else
        fprintf(stderr, "tfbench: %s\n", what);
    return tfb_cli_exit_code(s);
}

int tfb_cli_usage(const char *where, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "tfbench: %s: %s\n", where, msg);
    return TFB_EXIT_USAGE;
}

bool tfb_cli_parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out) {
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

bool tfb_cli_parse_ints(const char *s, int32_t **out, int64_t *n) {
    *out = NULL;
    *n = 0;
    if (!s || !*s)
        return false;
    int64_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    int32_t *v = malloc((size_t)cap * sizeof *v);
    if (!v)
        return false;
    const char *p = s;
    for (int64_t i = 0; i < cap; i++) {
        char *end;
        errno = 0;
        long long x = strtoll(p, &end, 10);
        if (end == p || errno || x < INT32_MIN || x > INT32_MAX || (*end != ',' && *end != '\0')) {
            free(v);
            return false;
        }
        v[i] = (int32_t)x;
        p = end + 1;
    }
    *out = v;
    *n = cap;
    return true;
}

tfb_status tfb_atomic_open(tfb_atomic_file *af, const char *path, bool force) {
    memset(af, 0, sizeof *af);
    if (strlen(path) >= sizeof af->path)
        return tfb_error_set(TFB_STATUS_USAGE, "%s: path too long", path);
    if (!force && access(path, F_OK) == 0)
        return tfb_error_set(TFB_STATUS_USAGE, "%s: exists (use --force to overwrite)", path);
    snprintf(af->path, sizeof af->path, "%s", path);
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld", path, (long)getpid());
    af->f = fopen(af->tmp, "wb");
    if (!af->f)
        return tfb_error_set(TFB_STATUS_IO, "%s: cannot write: %s", path, strerror(errno));
    return TFB_STATUS_OK;
}

tfb_status tfb_atomic_commit(tfb_atomic_file *af) {
    int err = ferror(af->f);
    if (fclose(af->f) != 0 || err) {
        af->f = NULL;
        remove(af->tmp);
        return tfb_error_set(TFB_STATUS_IO, "%s: write failed", af->path);
    }
    af->f = NULL;
    if (rename(af->tmp, af->path) != 0) {
        remove(af->tmp);
        return tfb_error_set(TFB_STATUS_IO, "%s: rename failed: %s", af->path, strerror(errno));
    }
    return TFB_STATUS_OK;
}

void tfb_atomic_abort(tfb_atomic_file *af) {
    if (af->f)
        fclose(af->f);
    af->f = NULL;
    if (af->tmp[0])
        remove(af->tmp);
}

bool tfb_cli_opt(int argc, char **argv, int *i, const char *name, const char **val, bool *bad) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return false;
    if (a[n] == '=') {
        *val = a + n + 1;
        return true;
    }
    if (a[n] != '\0')
        return false;
    if (*i + 1 >= argc) {
        if (!*bad)
            tfb_cli_usage(name, "missing value");
        *bad = true;
        return false;
    }
    *val = argv[++*i];
    return true;
}

int tfb_cli_backend_opt(int argc, char **argv, int *i, tfb_backend_opts *opts) {
    const char *v;
    bool bad = false;
    if (tfb_cli_opt(argc, argv, i, "--threads", &v, &bad)) {
        int64_t t;
        if (!tfb_cli_parse_int(v, 1, 1024, &t))
            return 100 + tfb_cli_usage("--threads", "expected a number of threads from 1 to 1024, got '%s'", v);
        opts->n_threads = (int)t;
        return 1;
    }
    if (tfb_cli_opt(argc, argv, i, "--device", &v, &bad)) {
        opts->device = v;
        return 1;
    }
    if (tfb_cli_opt(argc, argv, i, "--isa", &v, &bad)) {
        opts->isa = v;
        return 1;
    }
    if (tfb_cli_opt(argc, argv, i, "--gguf-convert", &v, &bad)) {
        /* GGUF tensors of types tfbench does not run (Q4_K, Q6_K, ...) are converted at load. */
        if (strcmp(v, "q8_0") != 0 && strcmp(v, "f16") != 0)
            return 100 + tfb_cli_usage("--gguf-convert", "expected q8_0 or f16, got '%s'", v);
        tfb_model_set_gguf_convert(strcmp(v, "q8_0") == 0 ? TFB_DTYPE_Q8_0 : TFB_DTYPE_F16);
        return 1;
    }
    if (tfb_cli_opt(argc, argv, i, "--act", &v, &bad)) {
        if (strcmp(v, "f32") != 0 && strcmp(v, "q8") != 0)
            return 100 + tfb_cli_usage("--act", "expected f32 or q8, got '%s'", v);
        opts->act_q8 = strcmp(v, "q8") == 0;
        return 1;
    }
    return bad ? 100 + TFB_EXIT_USAGE : 0;
}

bool tfb_cli_act_applies(const tfb_backend_opts *opts, tfb_dtype wt) {
    return opts->act_q8 && (wt == TFB_DTYPE_Q8_0 || wt == TFB_DTYPE_Q4_0);
}

const char *tfb_cli_act_refusal(const tfb_backend_opts *opts, const tfb_backend_i *iface, tfb_dtype wt) {
    static char buf[160]; /* the harness is single-threaded; read before the next call */
    if (!tfb_cli_act_applies(opts, wt) || iface->act_q8)
        return "";
    snprintf(buf, sizeof buf, " (--act q8: %s does not offer 8-bit activations)", iface->name);
    return buf;
}

tfb_status tfb_cli_act_explain(tfb_status s, const tfb_backend_opts *opts, const tfb_backend_i *iface,
                               tfb_dtype wt) {
    const char *why = tfb_cli_act_refusal(opts, iface, wt);
    if (s != TFB_STATUS_UNSUPPORTED || !*why)
        return s;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", tfb_error_last()); /* tfb_error_set overwrites what it would read */
    return tfb_error_set(s, "%s%s", msg, why);
}

int tfb_cli_backend_open(const char *name, const tfb_backend_opts *opts, tfb_backend **out) {
    *out = NULL;
    const tfb_backend_i *iface = tfb_backend_find(name);
    if (!iface) {
        char known[256] = "";
        for (int i = 0; i < tfb_backend_count(); i++) {
            strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
            strncat(known, tfb_backend_get(i)->name, sizeof known - strlen(known) - 1);
        }
        return tfb_cli_usage("--backend", "unknown or not compiled in: '%s' (built: %s)", name, known);
    }
    tfb_status s = tfb_backend_init(iface, opts, out);
    if (s != TFB_STATUS_OK)
        return tfb_cli_fail(s, NULL);
    return 0;
}

double tfb_now(void) {
    return tfb__now();
}

/* Bytes of memory available now: MemAvailable from /proc/meminfo, or the override. */
static double mem_available(void) {
    const char *o = getenv("TFBENCH_MEM_AVAILABLE");
    if (o && *o)
        return strtod(o, NULL);
    FILE *f = fopen("/proc/meminfo", "r");
    double kb = 0.0;
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb > 0.0 ? kb * 1024.0 : 0.0; /* unknown: 0 means "do not check" */
}

tfb_status tfb_cli_check_fit(const tfb_config *c, tfb_dtype wt, int copies, const char *copies_what, size_t extra) {
    double avail = mem_available();
    double need = (double)copies * (double)tfb_config_weight_bytes(c, wt) + (double)extra;
    if (avail <= 0.0 || need <= avail)
        return TFB_STATUS_OK;
    return tfb_error_set(TFB_STATUS_INPUT, "%s: %s weights need %.1f GB (%s), this machine has %.1f GB available",
                         c->name, tfb_dtype_name(wt), need / 1e9, copies_what, avail / 1e9);
}
