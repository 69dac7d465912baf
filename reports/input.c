/* Loading the report's inputs: tfbench results files and Google Benchmark JSON. Every check happens
 * here, before anything is written. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

void tfb_sbuf_printf(tfb_sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0)
        return;
    if (b->n + (size_t)need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + (size_t)need + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s)
            abort(); /* out of memory while formatting text: nothing sensible to do */
        b->s = s;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, (size_t)need + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)need;
}

void tfb_sbuf_free(tfb_sbuf *b) {
    free(b->s);
    memset(b, 0, sizeof *b);
}

static char *read_text(const char *path, tfb_status *st) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        *st = tfb_error_set(TFB_STATUS_INPUT, "%s: cannot open", path);
        return NULL;
    }
    char *text = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = cap ? 2 * cap : 65536 * 2;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                fclose(f);
                *st = tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", path);
                return NULL;
            }
            text = t;
        }
        size_t got = fread(text + n, 1, 65536, f);
        n += got;
        if (got < 65536)
            break;
    }
    bool err = ferror(f);
    fclose(f);
    if (err) {
        free(text);
        *st = tfb_error_set(TFB_STATUS_INPUT, "%s: read failed (a directory?)", path);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

static const char *str_of(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool num_of(const cJSON *o, const char *k, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return true;
    }
    if (cJSON_IsNull(v)) { /* the schema writes non-finite numbers as null */
        *out = NAN;
        return true;
    }
    return false;
}

static int add_source(tfb_rep_data *d, const char *path, const cJSON *env, bool gbench) {
    tfb_rep_source *s = realloc(d->src, (size_t)(d->n_src + 1) * sizeof *s);
    if (!s)
        return -1;
    d->src = s;
    tfb_rep_source *n = &d->src[d->n_src];
    memset(n, 0, sizeof *n);
    snprintf(n->path, sizeof n->path, "%s", path);
    n->gbench = gbench;
    n->env = env ? cJSON_Duplicate(env, true) : NULL;
    const char *host = env ? str_of(env, gbench ? "host_name" : "hostname") : NULL;
    const char *cpu = env ? str_of(env, "cpu_model") : NULL;
    double cores = 0;
    if (host && host[0])
        snprintf(n->host, sizeof n->host, "%s", host);
    else if (cpu && cpu[0] && env && num_of(env, "cores", &cores) && cores > 0)
        snprintf(n->host, sizeof n->host, "%s x%d", cpu, (int)cores);
    else if (cpu && cpu[0])
        snprintf(n->host, sizeof n->host, "%s", cpu);
    else
        snprintf(n->host, sizeof n->host, "unknown host");
    /* Host labels are compared when deciding to show them; count distinct ones over results files
     * (kernel files label their own roofline lines). */
    int distinct = 0;
    for (int i = 0; i <= d->n_src; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen |= strcmp(d->src[i].host, d->src[j].host) == 0;
        distinct += !seen;
    }
    d->n_hosts = distinct;
    return d->n_src++;
}

static tfb_status load_results(tfb_rep_data *d, const char *path, const cJSON *doc) {
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(doc, "results");
    if (!cJSON_IsArray(rows))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: no \"results\" array", path);
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(doc, "environment");
    if (env && !cJSON_IsObject(env))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: \"environment\" is not an object", path);
    int src = add_source(d, path, env, false);
    if (src < 0)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", path);
    double cores = 0;
    if (!env || !num_of(env, "cores", &cores))
        cores = 0;
    int idx = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, rows) {
        tfb_rep_row w;
        memset(&w, 0, sizeof w);
        w.src = src;
        const char *s[7] = {str_of(o, "backend"), str_of(o, "model"),  str_of(o, "dtype"), str_of(o, "test"),
                            str_of(o, "kind"),    str_of(o, "metric"), str_of(o, "unit")};
        double thr, np, ng, dep, med, ci;
        bool ok = cJSON_IsObject(o) && num_of(o, "threads", &thr) && num_of(o, "n_prompt", &np) &&
                  num_of(o, "n_gen", &ng) && num_of(o, "depth", &dep) && num_of(o, "median", &med);
        for (int k = 0; k < 7; k++)
            ok = ok && s[k];
        if (!ok)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: results[%d]: missing or mistyped field", path, idx);
        if (!num_of(o, "ci95", &ci))
            ci = NAN;
        double cv, n_smp;
        if (!num_of(o, "cv", &cv) || !num_of(o, "n", &n_smp) || n_smp < 2)
            cv = NAN;
        snprintf(w.backend, sizeof w.backend, "%s", s[0]);
        snprintf(w.model, sizeof w.model, "%s", s[1]);
        /* A row measured with --act q8 is other numerics than a plain one: "q4_0/a8", as bench shows it. */
        const char *act = str_of(o, "act");
        snprintf(w.dtype, sizeof w.dtype, "%s%s", s[2], act && strcmp(act, "q8") == 0 ? "/a8" : "");
        snprintf(w.test, sizeof w.test, "%s", s[3]);
        snprintf(w.kind, sizeof w.kind, "%s", s[4]);
        snprintf(w.metric, sizeof w.metric, "%s", s[5]);
        snprintf(w.unit, sizeof w.unit, "%s", s[6]);
        w.threads = thr > 0 ? (int)thr : (int)cores;
        w.n_prompt = (int64_t)np;
        w.n_gen = (int64_t)ng;
        w.depth = (int64_t)dep;
        w.median = med;
        w.ci95 = ci;
        w.cv = cv;
        if (d->n_rows == d->cap_rows) {
            size_t cap = d->cap_rows ? 2 * d->cap_rows : 128;
            tfb_rep_row *r = realloc(d->rows, cap * sizeof *r);
            if (!r)
                return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", path);
            d->rows = r;
            d->cap_rows = cap;
        }
        d->rows[d->n_rows++] = w;
        idx++;
    }
    return TFB_STATUS_OK;
}

static tfb_rep_kernel *kernel_find(tfb_rep_data *d, int src, const char *name) {
    for (size_t i = 0; i < d->n_kern; i++)
        if (d->kern[i].src == src && strcmp(d->kern[i].name, name) == 0)
            return &d->kern[i];
    return NULL;
}

static double time_to_ns(double t, const char *unit) {
    if (!unit || strcmp(unit, "ns") == 0)
        return t;
    if (strcmp(unit, "us") == 0)
        return t * 1e3;
    if (strcmp(unit, "ms") == 0)
        return t * 1e6;
    return t * 1e9; /* "s" */
}

/* Google Benchmark's JSON: {"context": {...}, "benchmarks": [{name, run_name, run_type, aggregate_name,
 * real_time, time_unit, <counters>...}]}. With repetitions, the "mean" and "stddev" aggregates are
 * used; otherwise the iteration entries (the last one of a name wins). */
static tfb_status load_gbench(tfb_rep_data *d, const char *path, const cJSON *doc) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "benchmarks");
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
    if (!cJSON_IsArray(list) || !cJSON_IsObject(ctx))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: not a Google Benchmark JSON file", path);
    int src = add_source(d, path, ctx, true);
    if (src < 0)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", path);
    int idx = 0;
    const cJSON *b;
    cJSON_ArrayForEach(b, list) {
        const char *name = str_of(b, "run_name");
        if (!name)
            name = str_of(b, "name");
        const char *type = str_of(b, "run_type");
        const char *agg = str_of(b, "aggregate_name");
        double rt;
        if (!cJSON_IsObject(b) || !name || !num_of(b, "real_time", &rt))
            return tfb_error_set(TFB_STATUS_INPUT, "%s: benchmarks[%d]: no name or real_time", path, idx);
        idx++;
        bool aggregate = type && strcmp(type, "aggregate") == 0;
        if (aggregate && (!agg || (strcmp(agg, "mean") != 0 && strcmp(agg, "stddev") != 0)))
            continue;
        tfb_rep_kernel *k = kernel_find(d, src, name);
        if (!k) {
            if (d->n_kern == d->cap_kern) {
                size_t cap = d->cap_kern ? 2 * d->cap_kern : 64;
                tfb_rep_kernel *nk = realloc(d->kern, cap * sizeof *nk);
                if (!nk)
                    return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", path);
                d->kern = nk;
                d->cap_kern = cap;
            }
            k = &d->kern[d->n_kern++];
            memset(k, 0, sizeof *k);
            k->src = src;
            snprintf(k->name, sizeof k->name, "%s", name);
            k->gflops = k->gbs = k->gflops_sd = k->gbs_sd = NAN;
        }
        double gf = NAN, gb = NAN;
        if (!num_of(b, "GFLOP/s", &gf))
            gf = NAN;
        if (!num_of(b, "GB/s", &gb))
            gb = NAN;
        /* The bandwidth probe's roof is its fastest pass (a shared machine's mean is not a limit). */
        double best;
        if (strncmp(name, "probe/bandwidth", 15) == 0 && num_of(b, "best GB/s", &best) &&
            !(aggregate && strcmp(agg, "stddev") == 0))
            gb = best;
        if (aggregate && strcmp(agg, "stddev") == 0) {
            k->gflops_sd = gf;
            k->gbs_sd = gb;
        } else {
            k->gflops = gf;
            k->gbs = gb;
            k->time_ns = time_to_ns(rt, str_of(b, "time_unit"));
        }
    }
    return TFB_STATUS_OK;
}

tfb_status tfb_rep_load(tfb_rep_data *d, const char *path) {
    tfb_status st = TFB_STATUS_OK;
    char *text = read_text(path, &st);
    if (!text)
        return st;
    cJSON *doc = cJSON_Parse(text);
    free(text);
    if (!doc)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: not valid JSON", path);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
    if (cJSON_IsString(schema) && strcmp(schema->valuestring, "tfbench-results/1") == 0)
        st = load_results(d, path, doc);
    else if (cJSON_GetObjectItemCaseSensitive(doc, "benchmarks") &&
             cJSON_GetObjectItemCaseSensitive(doc, "context"))
        st = load_gbench(d, path, doc);
    else if (cJSON_IsString(schema))
        st = tfb_error_set(TFB_STATUS_INPUT, "%s: unknown schema \"%s\" (expected tfbench-results/1)", path,
                           schema->valuestring);
    else
        st = tfb_error_set(TFB_STATUS_INPUT,
                           "%s: neither a tfbench results file nor Google Benchmark JSON (no \"schema\", no "
                           "\"benchmarks\"+\"context\")",
                           path);
    cJSON_Delete(doc);
    return st;
}

void tfb_rep_data_free(tfb_rep_data *d) {
    for (int i = 0; i < d->n_src; i++)
        cJSON_Delete(d->src[i].env);
    free(d->src);
    free(d->rows);
    free(d->kern);
    memset(d, 0, sizeof *d);
}

void tfb_rep_series_label(const tfb_rep_data *d, const tfb_rep_row *r, bool with_threads, char *out,
                          size_t len) {
    bool many_models = false, many_hosts = false, many_threads = false;
    for (size_t i = 0; i < d->n_rows; i++) {
        const tfb_rep_row *x = &d->rows[i];
        many_models |= strcmp(x->model, r->model) != 0;
        many_hosts |= strcmp(d->src[x->src].host, d->src[r->src].host) != 0;
        many_threads |= x->threads != r->threads;
    }
    tfb_sbuf b = {0};
    if (many_hosts)
        tfb_sbuf_printf(&b, "%s / ", d->src[r->src].host);
    tfb_sbuf_printf(&b, "%s", r->backend);
    if (many_models)
        tfb_sbuf_printf(&b, " %s", r->model);
    tfb_sbuf_printf(&b, " %s", r->dtype);
    if (with_threads && many_threads)
        tfb_sbuf_printf(&b, " %dt", r->threads);
    snprintf(out, len, "%s", b.s ? b.s : "");
    tfb_sbuf_free(&b);
}
