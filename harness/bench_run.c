/* The measurements of `tfbench bench` for one (backend, model, dtype, threads).
 *
 * Every figure: `warmup` unrecorded runs, then `reps` recorded ones; decode more of both where
 * needed (run_decode). The clock stops only after
 * the backend has synchronized (tfb_session_decode with NULL logits synchronizes; the argmax and
 * logits paths download, which completes pending work). Device time, where the backend reports it,
 * is summed over the computes of a sample and kept beside the wall time. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"
#include "progress.h"
#include "quant_metrics.h"

/* One (backend, model, dtype, threads) being measured. */
typedef struct bctx {
    const tfb_bench_args *a;
    const tfb_bench_plan *plan;
    tfb_backend *b;
    tfb_session *s;
    const tfb_config *c;
    tfb_results *res;
    tfb_result_row proto; /* backend, model, dtype, threads filled in */
    int32_t *seq;         /* [n_ctx + 1] a fixed token sequence: prompts and depth fills */
    int32_t *work;        /* [n_ctx + 1] recompute: seq up to the depth, then the generated tokens */
    double dev;           /* device seconds summed over the current sample; <0 once any compute lacked it */
    bool dry;             /* count steps and their units, measure nothing (x->s is NULL) */
    int dry_steps;
    double dry_units, mparams; /* mparams: millions of parameters, the unit of work per token */
} bctx;

/* Work units of one forward call beyond its rows, and so of one decode token: a call streams every
 * weight once, which costs about as much as 7 more prefill rows on the CPU backends (more on the
 * devices, where the eta then calibrates). */
#define CALL_WEIGHT 7.0
#define DECODE_WEIGHT (1.0 + CALL_WEIGHT)
/* Work units of loading a model (synthesising or reading, quantizing, uploading), per parameter. */
#define LOAD_WEIGHT 2000.0

/* A measurement begins: counted (dry) or announced. Returns true when it must not run (dry). */
static bool step(bctx *x, const char *what, double tokens) {
    double units = tokens * x->mparams;
    if (!x->dry)
        tfb__bench_turn(); /* --interleave: the other configurations' turn first */
    if (x->dry) {
        x->dry_steps++;
        x->dry_units += units;
        return true;
    }
    char line[256];
    snprintf(line, sizeof line, "%s %s %s%s %s", x->proto.backend, x->proto.model, x->proto.dtype,
             x->proto.act[0] ? "/a8" : "", what);
    tfb_progress_step(line, units);
    return false;
}

/* Recorded and unrecorded runs of one measurement. */
static double runs(const bctx *x) {
    return (double)(x->a->warmup + x->a->reps);
}

/* A fixed, spread-out token sequence (the same for every backend and dtype). */
static void fill_prompt(int32_t *t, int64_t n, int64_t V, int64_t salt) {
    for (int64_t i = 0; i < n; i++)
        t[i] = (int32_t)((i * 7919 + 13 + salt * 104729) % V);
}

static void dev_reset(bctx *x) {
    x->dev = 0;
}

static void dev_add(bctx *x) {
    double d = tfb_backend_last_device_time(x->b);
    if (d < 0 || x->dev < 0)
        x->dev = -1;
    else
        x->dev += d;
}

static tfb_result_row proto_for(const bctx *x, const char *kind, const char *test, const char *metric,
                                const char *unit, bool higher, bool rate) {
    tfb_result_row w = x->proto;
    snprintf(w.kind, sizeof w.kind, "%s", kind);
    snprintf(w.test, sizeof w.test, "%s", test);
    snprintf(w.metric, sizeof w.metric, "%s", metric);
    snprintf(w.unit, sizeof w.unit, "%s", unit);
    w.higher_is_better = higher;
    w.rate = rate;
    w.p50 = w.p90 = w.p99 = NAN;
    w.ratio_lo = w.ratio_hi = NAN;
    return w;
}

static tfb_status add_row(bctx *x, tfb_result_row *w, const double *samples, size_t n, const double *dev) {
    tfb_result_row *row = tfb_results_add(x->res, w, samples, n);
    if (!row)
        return tfb_error_set(TFB_STATUS_NOMEM, "bench: out of memory");
    if (dev)
        tfb_results_set_device(row, dev, n);
    return TFB_STATUS_OK;
}

static tfb_status add_single(bctx *x, const char *kind, const char *test, const char *metric, const char *unit,
                             bool higher, double v) {
    tfb_result_row w = proto_for(x, kind, test, metric, unit, higher, false);
    return add_row(x, &w, &v, 1, NULL);
}

/* Repeat `body` warmup + reps times; samples[i] = what body returns through *value. dev[i] gets the
 * device time of the sample, and *have_dev says whether every sample had one. */
typedef tfb_status (*body_fn)(bctx *x, void *arg, double *value);

static tfb_status repeat(bctx *x, body_fn body, void *arg, double *samples, double *dev, bool *have_dev) {
    double v;
    for (int64_t i = 0; i < x->a->warmup; i++) {
        tfb__bench_turn();
        TFB_TRY(body(x, arg, &v));
    }
    *have_dev = true;
    for (int64_t i = 0; i < x->a->reps; i++) {
        tfb__bench_turn();
        dev_reset(x);
        TFB_TRY(body(x, arg, &samples[i]));
        dev[i] = x->dev;
        if (x->dev < 0)
            *have_dev = false;
    }
    return TFB_STATUS_OK;
}

/* One more run of body with per-op timing on: the share of the op time spent in ATTENTION, as a
 * single-sample row beside the timed figure it explains (w: its parameters). Nothing when the backend
 * cannot time its ops. Kept out of the timed samples: a backend may slow down while it times ops. */
static tfb_status attention_share(bctx *x, const tfb_result_row *like, body_fn body, void *arg) {
    if (!tfb_backend_op_profile(x->b, true, NULL))
        return TFB_STATUS_OK;
    double v, secs[TFB_OP_COUNT] = {0}, total = 0;
    tfb_status st = body(x, arg, &v);
    bool ok = tfb_backend_op_profile(x->b, false, secs);
    TFB_TRY(st);
    for (int op = 0; op < TFB_OP_COUNT; op++)
        total += secs[op];
    if (!ok || total <= 0)
        return TFB_STATUS_OK;
    tfb_result_row w = proto_for(x, like->kind, like->test, "attention_share", "ratio", false, false);
    w.n_prompt = like->n_prompt;
    w.n_gen = like->n_gen;
    w.depth = like->depth;
    double share = secs[TFB_OP_ATTENTION] / total;
    return add_row(x, &w, &share, 1, NULL);
}

/* Room for the samples of one measurement: decode may repeat up to --max-reps times. */
static double *new_samples(const bctx *x) {
    return calloc((size_t)(x->a->max_reps > x->a->reps ? x->a->max_reps : x->a->reps), sizeof(double));
}

/* ---- prefill / encode -------------------------------------------------------------------------- */

typedef struct pp_arg {
    int64_t n;
    bool seconds; /* value in seconds instead of tokens/s */
} pp_arg;

/* Decoder prefill of n tokens at position 0, last-row path (the logits of the last token). */
static tfb_status body_prefill(bctx *x, void *arg, double *value) {
    pp_arg *p = arg;
    double t0 = tfb_now();
    TFB_TRY(tfb_session_decode(x->s, x->seq, p->n, 0, false, NULL));
    double t = tfb_now() - t0;
    dev_add(x);
    *value = p->seconds ? t : (double)p->n / t;
    return TFB_STATUS_OK;
}

static tfb_status body_encode(bctx *x, void *arg, double *value) {
    pp_arg *p = arg;
    double t0 = tfb_now();
    TFB_TRY(tfb_session_encode(x->s, x->seq, p->n, NULL));
    double t = tfb_now() - t0;
    dev_add(x);
    *value = p->seconds ? t : (double)p->n / t;
    return TFB_STATUS_OK;
}

static tfb_status measure_pp(bctx *x, const char *kind, int64_t n, bool encode, bool seconds) {
    char test[48];
    snprintf(test, sizeof test, "pp%lld", (long long)n);
    bool scale = strcmp(kind, "scale_pp") == 0;
    char what[96];
    snprintf(what, sizeof what, "%s%s%s%s", strcmp(kind, "pp") ? kind : "", strcmp(kind, "pp") ? " " : "", test,
             seconds ? " (s)" : "");
    if (step(x, what, (runs(x) + scale) * ((double)n + CALL_WEIGHT)))
        return TFB_STATUS_OK;
    double *smp = new_samples(x), *dev = new_samples(x);
    bool have_dev = false;
    pp_arg p = {n, seconds};
    tfb_status st = smp && dev ? repeat(x, encode ? body_encode : body_prefill, &p, smp, dev, &have_dev)
                               : tfb_error_set(TFB_STATUS_NOMEM, "bench: out of memory");
    if (st == TFB_STATUS_OK) {
        tfb_result_row w = proto_for(x, kind, test, seconds ? "encode_s" : "tokens_per_s", seconds ? "s" : "tokens/s",
                                     !seconds, !seconds);
        w.n_prompt = n;
        st = add_row(x, &w, smp, (size_t)x->a->reps, have_dev ? dev : NULL);
        if (st == TFB_STATUS_OK && scale)
            st = attention_share(x, &w, encode ? body_encode : body_prefill, &p);
    }
    free(smp);
    free(dev);
    return st;
}

/* ---- decode at a depth ----------------------------------------------------------------------- */

/* Fill the self-attention cache with seq[0..depth) once; repetitions then decode from pos = depth,
 * overwriting only positions >= depth, so the filled state is reused rather than recomputed. */
static tfb_status fill_depth(bctx *x, int64_t depth) {
    if (depth == 0)
        return TFB_STATUS_OK;
    return tfb_session_decode(x->s, x->seq, depth, 0, false, NULL);
}

typedef struct tg_arg {
    int64_t depth, n;
    double *lat;   /* per-token latencies of the recorded reps, [reps * n] */
    int64_t n_lat; /* filled so far; warm-up runs are not kept (lat_on false) */
    bool lat_on;
    bool recompute; /* recompute the whole sequence from position 0 every step */
    bool reencode;  /* encoder-decoder: run the encoder again before every step */
} tg_arg;

static tfb_status body_decode(bctx *x, void *arg, double *value) {
    tg_arg *g = arg;
    int32_t tok = x->seq[g->depth];
    double total = 0;
    for (int64_t i = 0; i < g->n; i++) {
        int64_t pos = g->depth + i;
        int32_t next;
        double t0 = tfb_now();
        if (g->reencode) {
            TFB_TRY(tfb_session_encode(x->s, x->seq, x->plan->pp[0], NULL));
            dev_add(x);
        }
        if (g->recompute) {
            if (i == 0)
                memcpy(x->work, x->seq, (size_t)g->depth * sizeof *x->work);
            x->work[pos] = tok;
            TFB_TRY(tfb_session_decode_argmax(x->s, x->work, pos + 1, 0, &next));
        } else {
            TFB_TRY(tfb_session_decode_argmax(x->s, &tok, 1, pos, &next));
        }
        double t = tfb_now() - t0;
        dev_add(x);
        total += t;
        if (g->lat_on && g->lat)
            g->lat[g->n_lat++] = t;
        tok = next;
    }
    *value = (double)g->n / total;
    return TFB_STATUS_OK;
}

/* How decode is measured (issue 19): the first steps of a session fault in weights and grow its
 * caches, so warm-up goes on past --warmup (by up to WARMUP_MORE runs) until two runs in a row
 * agree within STABLE; and the recorded repetitions go on past -r (up to --max-reps) until the 95%
 * CI half-width is within TARGET_CI of the median. */
#define WARMUP_MORE 2
#define STABLE 0.05
#define TARGET_CI 0.05

/* Decode n tokens at depth, `reps` times or more (adaptive: only for the cached path, whose runs are
 * cheap); the tokens/s samples into smp, *n_out of them, latencies kept. */
static tfb_status run_decode(bctx *x, tg_arg *g, double *smp, double *dev, bool *have_dev, int64_t *n_out) {
    /* Warm-up without recording latencies, then the recorded repetitions. */
    g->lat_on = false;
    bool adaptive = !g->recompute && !g->reencode;
    double v, prev = NAN;
    int64_t most = x->a->warmup + (adaptive && x->a->warmup > 0 ? WARMUP_MORE : 0);
    for (int64_t i = 0; i < most; i++) {
        tfb__bench_turn();
        TFB_TRY(body_decode(x, g, &v));
        if (i + 1 >= x->a->warmup && isfinite(prev) && fabs(v - prev) <= STABLE * prev)
            break;
        prev = v;
    }
    g->lat_on = true;
    g->n_lat = 0;
    *have_dev = true;
    int64_t max = adaptive && x->a->max_reps > x->a->reps ? x->a->max_reps : x->a->reps, i;
    for (i = 0; i < max; i++) {
        if (i >= x->a->reps) { /* enough when the interval is tight */
            tfb_stats st;
            tfb_stats_compute(smp, (size_t)i, true, &st);
            if (isfinite(st.ci95) && st.ci95 <= TARGET_CI * st.median)
                break;
        }
        tfb__bench_turn();
        dev_reset(x);
        TFB_TRY(body_decode(x, g, &smp[i]));
        dev[i] = x->dev;
        if (x->dev < 0)
            *have_dev = false;
    }
    *n_out = i;
    return TFB_STATUS_OK;
}

/* Decode tokens/s for n tokens at depth (kind "tg" or "scale_tg"); *median_out gets the median. */
static tfb_status measure_tg(bctx *x, const char *kind, int64_t n, int64_t depth, double *median_out) {
    char test[48];
    snprintf(test, sizeof test, "tg%lld@d%lld", (long long)n, (long long)depth);
    bool scale = strcmp(kind, "scale_tg") == 0;
    char what[96];
    snprintf(what, sizeof what, "%s%s%s", scale ? kind : "", scale ? " " : "", test);
    if (step(x, what, (double)depth + (runs(x) + scale) * (double)n * DECODE_WEIGHT))
        return TFB_STATUS_OK;
    TFB_TRY(fill_depth(x, depth));
    double *smp = new_samples(x), *dev = new_samples(x);
    int64_t most = x->a->max_reps > x->a->reps ? x->a->max_reps : x->a->reps, n_smp = 0;
    tg_arg g = {.depth = depth, .n = n, .lat = malloc((size_t)(most * n) * sizeof(double))};
    tfb_status st = TFB_STATUS_NOMEM;
    bool have_dev = false;
    if (smp && dev && g.lat)
        st = run_decode(x, &g, smp, dev, &have_dev, &n_smp);
    else
        tfb_error_set(st, "bench: out of memory");
    if (st == TFB_STATUS_OK) {
        if (scale) /* ms per token: a time, averaged arithmetically */
            for (int64_t i = 0; i < n_smp; i++)
                smp[i] = 1000.0 / smp[i];
        tfb_result_row w = proto_for(x, kind, test, scale ? "ms_per_token" : "tokens_per_s", scale ? "ms" : "tokens/s",
                                     !scale, !scale);
        w.n_gen = n;
        w.depth = depth;
        w.p50 = tfb_percentile(g.lat, (size_t)g.n_lat, 50);
        w.p90 = tfb_percentile(g.lat, (size_t)g.n_lat, 90);
        w.p99 = tfb_percentile(g.lat, (size_t)g.n_lat, 99);
        st = add_row(x, &w, smp, (size_t)n_smp, have_dev ? dev : NULL);
        if (st == TFB_STATUS_OK && median_out)
            *median_out = x->res->rows[x->res->n - 1].st.median;
        g.lat_on = false;
        if (st == TFB_STATUS_OK && scale)
            st = attention_share(x, &w, body_decode, &g);
    }
    free(smp);
    free(dev);
    free(g.lat);
    return st;
}

/* ---- time to first token / time per output token ------------------------------------------- */

typedef struct e2e_arg {
    int64_t n_prompt, n_gen;
    double ttft, tpot; /* of the last run */
} e2e_arg;

static tfb_status body_e2e(bctx *x, void *arg, double *value) {
    e2e_arg *e = arg;
    const tfb_config *c = x->c;
    int32_t tok;
    int64_t pos0;
    double t0 = tfb_now();
    if (tfb_config_has_cross(c)) {
        TFB_TRY(tfb_session_encode(x->s, x->seq, e->n_prompt, NULL));
        int32_t start = (int32_t)c->decoder_start_id;
        TFB_TRY(tfb_session_decode_argmax(x->s, &start, 1, 0, &tok));
        pos0 = 1;
    } else {
        TFB_TRY(tfb_session_decode_argmax(x->s, x->seq, e->n_prompt, 0, &tok));
        pos0 = e->n_prompt;
    }
    double ttft = tfb_now() - t0;
    for (int64_t i = 1; i < e->n_gen; i++) {
        int32_t next;
        TFB_TRY(tfb_session_decode_argmax(x->s, &tok, 1, pos0 + i - 1, &next));
        tok = next;
    }
    double e2e = tfb_now() - t0;
    e->ttft = ttft;
    e->tpot = e->n_gen > 1 ? (e2e - ttft) / (double)(e->n_gen - 1) : NAN;
    *value = e2e;
    return TFB_STATUS_OK;
}

static tfb_status measure_e2e(bctx *x, int64_t n_prompt, int64_t n_gen) {
    char test[48];
    snprintf(test, sizeof test, "pp%lld+tg%lld", (long long)n_prompt, (long long)n_gen);
    if (step(x, test, runs(x) * ((double)n_prompt + CALL_WEIGHT + (double)(n_gen - 1) * DECODE_WEIGHT)))
        return TFB_STATUS_OK;
    size_t r = (size_t)x->a->reps;
    double *ttft = calloc(r, sizeof *ttft), *tpot = calloc(r, sizeof *tpot);
    if (!ttft || !tpot) {
        free(ttft), free(tpot);
        return tfb_error_set(TFB_STATUS_NOMEM, "bench: out of memory");
    }
    e2e_arg e = {n_prompt, n_gen, 0, 0};
    double v;
    tfb_status st = TFB_STATUS_OK;
    for (int64_t i = 0; i < x->a->warmup && st == TFB_STATUS_OK; i++) {
        tfb__bench_turn();
        st = body_e2e(x, &e, &v);
    }
    for (size_t i = 0; i < r && st == TFB_STATUS_OK; i++) {
        tfb__bench_turn();
        st = body_e2e(x, &e, &v);
        ttft[i] = e.ttft;
        tpot[i] = e.tpot;
    }
    if (st == TFB_STATUS_OK) {
        tfb_result_row w = proto_for(x, "e2e", test, "ttft_s", "s", false, false);
        w.n_prompt = n_prompt;
        w.n_gen = n_gen;
        st = add_row(x, &w, ttft, r, NULL);
        if (st == TFB_STATUS_OK && n_gen > 1) {
            w = proto_for(x, "e2e", test, "tpot_s", "s", false, false);
            w.n_prompt = n_prompt;
            w.n_gen = n_gen;
            st = add_row(x, &w, tpot, r, NULL);
        }
    }
    free(ttft);
    free(tpot);
    return st;
}

/* ---- KV-cache reuse ------------------------------------------------------------------------- */

/* (a) decode with the cache vs recomputing the whole sequence every step, at one depth; and (c) for
 * encoder-decoders at depth 0, cross-attention K/V cached vs the encoder rerun every step. The cached
 * variant is measured again right before the other, so the pair shares the machine's state. */
static tfb_status measure_recompute(bctx *x, const char *kind, int64_t n, int64_t depth, bool reencode) {
    char test[48];
    snprintf(test, sizeof test, "tg%lld@d%lld", (long long)n, (long long)depth);
    /* The recomputing side prefills depth + i + 1 rows for token i, or reruns the encoder. */
    double other = reencode ? (double)n * ((double)x->plan->pp[0] + DECODE_WEIGHT)
                            : (double)n * ((double)depth + CALL_WEIGHT) + (double)n * (double)(n + 1) / 2;
    char what[96];
    snprintf(what, sizeof what, "%s %s", kind, test);
    if (step(x, what, 2.0 * depth + runs(x) * ((double)n * DECODE_WEIGHT + other)))
        return TFB_STATUS_OK;
    double *smp[2] = {new_samples(x), new_samples(x)}, *dev = new_samples(x);
    tfb_status st = TFB_STATUS_OK;
    if (!smp[0] || !smp[1] || !dev)
        st = tfb_error_set(TFB_STATUS_NOMEM, "bench: out of memory");
    static const char *metric[2] = {"cached_tokens_per_s", "recompute_tokens_per_s"};
    double med[2] = {0, 0};
    int64_t n_smp[2] = {0, 0};
    for (int rec = 0; rec < 2 && st == TFB_STATUS_OK; rec++) {
        tg_arg g = {.depth = depth, .n = n, .recompute = rec && !reencode, .reencode = rec && reencode};
        bool have_dev = false;
        st = fill_depth(x, depth);
        if (st == TFB_STATUS_OK)
            st = run_decode(x, &g, smp[rec], dev, &have_dev, &n_smp[rec]);
        if (st != TFB_STATUS_OK)
            break;
        tfb_result_row w = proto_for(x, kind, test, metric[rec], "tokens/s", true, true);
        w.n_gen = n;
        w.depth = depth;
        st = add_row(x, &w, smp[rec], (size_t)n_smp[rec], have_dev ? dev : NULL);
        med[rec] = x->res->rows[x->res->n - 1].st.median;
    }
    if (st == TFB_STATUS_OK) {
        /* A ratio of the underlying medians, never an average of ratios; its interval by bootstrap. */
        double speedup = med[0] / med[1];
        tfb_result_row w = proto_for(x, kind, test, "speedup", "x", true, false);
        w.n_gen = n;
        w.depth = depth;
        tfb_ratio_ci(smp[0], (size_t)n_smp[0], smp[1], (size_t)n_smp[1], &w.ratio_lo, &w.ratio_hi);
        st = add_row(x, &w, &speedup, 1, NULL);
    }
    free(smp[0]), free(smp[1]), free(dev);
    return st;
}

/* (b) K requests sharing a P-token prefix, each adding its own S-token suffix and producing its
 * first output token: with the prefix's K/V computed once and restored from a snapshot before every
 * request, vs every request prefilled from scratch. Values: seconds for all K requests. */
typedef struct prefix_arg {
    int64_t P, S, K;
    int32_t *req;   /* [K][P + S] */
    void *snap;     /* kv snapshot of P positions */
    bool reuse;
} prefix_arg;

static tfb_status body_prefix(bctx *x, void *arg, double *value) {
    prefix_arg *p = arg;
    int64_t L = p->P + p->S;
    int32_t next;
    double t0 = tfb_now();
    if (p->reuse) {
        TFB_TRY(tfb_session_decode(x->s, p->req, p->P, 0, false, NULL));
        dev_add(x);
        TFB_TRY(tfb_session_kv_save(x->s, p->P, p->snap));
        for (int64_t k = 0; k < p->K; k++) {
            TFB_TRY(tfb_session_kv_load(x->s, p->P, p->snap));
            TFB_TRY(tfb_session_decode_argmax(x->s, p->req + k * L + p->P, p->S, p->P, &next));
            dev_add(x);
        }
    } else {
        for (int64_t k = 0; k < p->K; k++) {
            TFB_TRY(tfb_session_decode_argmax(x->s, p->req + k * L, L, 0, &next));
            dev_add(x);
        }
    }
    *value = tfb_now() - t0;
    return TFB_STATUS_OK;
}

static tfb_status measure_prefix(bctx *x, int64_t P, int64_t S, int64_t K) {
    char test[48];
    snprintf(test, sizeof test, "prefix%lld+%lldx%lld", (long long)P, (long long)S, (long long)K);
    if (step(x, test, runs(x) * ((double)(P + K * S + K * (P + S)) + (1.0 + 2.0 * (double)K) * CALL_WEIGHT)))
        return TFB_STATUS_OK;
    int64_t L = P + S;
    prefix_arg p = {P, S, K, malloc((size_t)(K * L) * sizeof(int32_t)), malloc(tfb_session_kv_bytes(x->s, P)), false};
    double *smp[2] = {new_samples(x), new_samples(x)}, *dev = new_samples(x);
    tfb_status st = TFB_STATUS_OK;
    if (!p.req || !p.snap || !smp[0] || !smp[1] || !dev)
        st = tfb_error_set(TFB_STATUS_NOMEM, "bench: out of memory");
    for (int64_t k = 0; k < K && st == TFB_STATUS_OK; k++) {
        fill_prompt(p.req + k * L, P, x->c->n_vocab, 0);           /* the shared prefix */
        fill_prompt(p.req + k * L + P, S, x->c->n_vocab, k + 1); /* each request's own suffix */
    }
    static const char *metric[2] = {"recompute_s", "reuse_s"};
    double med[2] = {0, 0};
    for (int reuse = 0; reuse < 2 && st == TFB_STATUS_OK; reuse++) {
        bool have_dev = false;
        p.reuse = reuse;
        st = repeat(x, body_prefix, &p, smp[reuse], dev, &have_dev);
        if (st != TFB_STATUS_OK)
            break;
        tfb_result_row w = proto_for(x, "prefix", test, metric[reuse], "s", false, false);
        w.n_prompt = P;
        w.n_gen = S;
        w.depth = K;
        st = add_row(x, &w, smp[reuse], (size_t)x->a->reps, have_dev ? dev : NULL);
        med[reuse] = x->res->rows[x->res->n - 1].st.median;
    }
    if (st == TFB_STATUS_OK) {
        double speedup = med[0] / med[1];
        tfb_result_row w = proto_for(x, "prefix", test, "speedup", "x", true, false);
        w.n_prompt = P;
        w.n_gen = S;
        w.depth = K;
        tfb_ratio_ci(smp[0], (size_t)x->a->reps, smp[1], (size_t)x->a->reps, &w.ratio_lo, &w.ratio_hi);
        st = add_row(x, &w, &speedup, 1, NULL);
    }
    free(p.req), free(p.snap), free(smp[0]), free(smp[1]), free(dev);
    return st;
}

/* ---- quantization ----------------------------------------------------------------------------- */

/* Teacher-forced logits of the fixed sequence, [T, V] (encoder-decoders: decoder rows after
 * encoding the sequence as the source). */
static tfb_status teacher_logits(tfb_session *s, const int32_t *seq, int64_t T, float *out) {
    const tfb_config *c = &tfb_session_model(s)->cfg;
    if (tfb_config_encoder_only(c) && !c->has_lm_head) { /* no head: the last hidden state [T, C] */
        TFB_TRY(tfb_session_encode(s, seq, T, NULL));
        return tfb_session_hidden(s, out);
    }
    if (tfb_config_encoder_only(c))
        return tfb_session_encode(s, seq, T, out);
    if (tfb_config_has_cross(c))
        TFB_TRY(tfb_session_encode(s, seq, T, NULL));
    return tfb_session_decode(s, seq, T, 0, true, out);
}

static tfb_status measure_quant(bctx *x, const char *model, tfb_dtype dtype) {
    int64_t T = x->plan->pp[0] < 64 ? x->plan->pp[0] : 64, V = tfb_config_out_width(x->c);
    char what[64];
    snprintf(what, sizeof what, "quant teacher%lld (and an f32 twin)", (long long)T);
    if (step(x, what, LOAD_WEIGHT + 2.0 * (double)T))
        return TFB_STATUS_OK;
    float *ref = malloc((size_t)(T * V) * sizeof *ref), *q = malloc((size_t)(T * V) * sizeof *q);
    if (!ref || !q) {
        free(ref), free(q);
        return tfb_error_set(TFB_STATUS_NOMEM, "bench: out of memory");
    }
    tfb_model m32;
    tfb_session *s32 = NULL;
    tfb_status st = tfb_model_open_f32(model, (uint64_t)x->a->seed, &m32);
    if (st == TFB_STATUS_OK) {
        st = tfb_session_init(x->b, &m32, 0, &s32);
        if (st == TFB_STATUS_OK)
            st = teacher_logits(s32, x->seq, T, ref);
        tfb_session_free(s32);
        tfb_model_free(&m32);
    }
    if (st == TFB_STATUS_OK)
        st = teacher_logits(x->s, x->seq, T, q);
    char test[48];
    snprintf(test, sizeof test, "teacher%lld", (long long)T);
    if (st == TFB_STATUS_OK && !x->c->has_lm_head) {
        /* A model without a head: the effect on its hidden states (docs/results-schema.md). */
        tfb_hidden_metrics hm;
        tfb_hidden_metrics_compute(ref, q, T, V, &hm);
        st = add_single(x, "quant", test, "hidden_nmse", "ratio", false, hm.nmse);
        if (st == TFB_STATUS_OK)
            st = add_single(x, "quant", test, "hidden_cosine", "ratio", true, hm.cos_mean);
        free(ref), free(q);
        return st;
    }
    tfb_quant_metrics qm;
    if (st == TFB_STATUS_OK)
        st = tfb_quant_metrics_compute(ref, q, T, V, &qm);
    if (st == TFB_STATUS_OK)
        st = add_single(x, "quant", test, "kl_mean", "nats", false, qm.kl_mean);
    if (st == TFB_STATUS_OK)
        st = add_single(x, "quant", test, "kl_p99", "nats", false, qm.kl_p99);
    if (st == TFB_STATUS_OK)
        st = add_single(x, "quant", test, "top1_agreement", "ratio", true, qm.top1);
    if (st == TFB_STATUS_OK)
        st = add_single(x, "quant", test, "rms_dp", "prob", false, qm.rms_dp);
    free(ref), free(q);
    return st;
}

/* ---- context scaling ------------------------------------------------------------------------ */

/* Powers of two, then the limit itself: 1, 2, 4, ..., 64, 100. Lengths up to --scale-max (default
 * the context), decode depths up to it less the --scale-tg tokens generated at each. */
static int64_t next_point(int64_t v, int64_t limit) {
    return v * 2 < limit ? v * 2 : limit;
}

static tfb_status measure_scaling(bctx *x) {
    int64_t n_ctx = x->plan->scale_max, tg = x->plan->scale_tg;
    bool enc = tfb_config_has_encoder(x->c);
    for (int64_t len = 1; x->a->kinds & TFB_BENCH_SCALE_PP; len = next_point(len, n_ctx)) {
        TFB_TRY(measure_pp(x, "scale_pp", len, enc, false));
        if (len == n_ctx)
            break;
    }
    if (tfb_config_encoder_only(x->c) || !(x->a->kinds & TFB_BENCH_SCALE_TG))
        return TFB_STATUS_OK;
    if (tfb_config_has_cross(x->c) && !x->dry)
        TFB_TRY(tfb_session_encode(x->s, x->seq, x->plan->pp[0], NULL));
    int64_t last = n_ctx - tg;
    for (int64_t d = 0;; d = d == 0 ? 1 : next_point(d, last)) {
        if (d > last)
            break;
        TFB_TRY(measure_tg(x, "scale_tg", tg, d, NULL));
        if (d == last)
            break;
    }
    return TFB_STATUS_OK;
}

/* ---- one configuration ---------------------------------------------------------------------- */

static tfb_status run_all(bctx *x, const char *model, tfb_dtype dtype, bool quant) {
    const tfb_bench_args *a = x->a;
    const tfb_bench_plan *pl = x->plan;
    const tfb_config *c = x->c;
    unsigned k = a->kinds;
    for (int i = 0; i < pl->n_pp && (k & TFB_BENCH_PP); i++) {
        if (tfb_config_encoder_only(c)) {
            TFB_TRY(measure_pp(x, "encode", pl->pp[i], true, false));
        } else if (tfb_config_has_cross(c)) {
            TFB_TRY(measure_pp(x, "encode", pl->pp[i], true, false));
            TFB_TRY(measure_pp(x, "encode", pl->pp[i], true, true));
        } else {
            TFB_TRY(measure_pp(x, "pp", pl->pp[i], false, false));
        }
    }
    if (tfb_config_has_decoder(c)) {
        for (int i = 0; i < pl->n_pp && (k & TFB_BENCH_E2E); i++)
            TFB_TRY(measure_e2e(x, pl->pp[i], pl->tg[0]));
        /* The decoder side of an encoder-decoder attends to the source of pp[0] tokens. */
        if (tfb_config_has_cross(c) && !x->dry)
            TFB_TRY(tfb_session_encode(x->s, x->seq, pl->pp[0], NULL));
        for (int d = 0; d < pl->n_depth; d++) {
            for (int j = 0; j < pl->n_tg && (k & TFB_BENCH_TG); j++)
                TFB_TRY(measure_tg(x, "tg", pl->tg[j], pl->depth[d], NULL));
            if (k & TFB_BENCH_KV)
                TFB_TRY(measure_recompute(x, "kv", pl->kv_tg, pl->depth[d], false));
        }
        if ((k & TFB_BENCH_XATTN) && tfb_config_has_cross(c))
            TFB_TRY(measure_recompute(x, "xattn", pl->kv_tg, 0, true));
        if ((k & TFB_BENCH_PREFIX) && !tfb_config_has_encoder(c))
            TFB_TRY(measure_prefix(x, pl->prefix, pl->tg[0], a->requests));
    }
    if (k & (TFB_BENCH_SCALE_PP | TFB_BENCH_SCALE_TG))
        TFB_TRY(measure_scaling(x));
    if (quant)
        TFB_TRY(measure_quant(x, model, dtype));
    return TFB_STATUS_OK;
}

static void proto_init(bctx *x, const char *backend, const tfb_backend_opts *opts, const tfb_config *c,
                       tfb_dtype dtype, int threads) {
    snprintf(x->proto.backend, sizeof x->proto.backend, "%s", backend);
    snprintf(x->proto.model, sizeof x->proto.model, "%s", c->name);
    snprintf(x->proto.dtype, sizeof x->proto.dtype, "%s", tfb_dtype_name(dtype));
    if (tfb_cli_act_applies(opts, dtype)) /* only the rows whose numerics --act q8 changed */
        snprintf(x->proto.act, sizeof x->proto.act, "q8");
    x->proto.threads = threads;
    x->mparams = (double)tfb_config_weight_bytes(c, TFB_DTYPE_F32) / 4e6;
}

void tfb_bench_count_one(const tfb_bench_args *a, const tfb_bench_plan *plan, const tfb_config *c, bool quant,
                         int *steps, double *units) {
    bctx x = {.a = a, .plan = plan, .c = c, .dry = true};
    proto_init(&x, "", &a->opts, c, TFB_DTYPE_F32, 0);
    step(&x, "load", LOAD_WEIGHT);
    run_all(&x, c->name, TFB_DTYPE_F32, quant); /* dry: no session is touched */
    *steps = x.dry_steps;
    *units = x.dry_units;
}

tfb_status tfb_bench_one(const tfb_bench_args *a, const tfb_bench_plan *plan, tfb_backend *b, const char *model,
                         tfb_dtype dtype, int threads, bool quant, tfb_results *res) {
    bctx x = {.a = a, .plan = plan, .b = b, .res = res};
    tfb_config cfg;
    TFB_TRY(tfb_model_config(model, &cfg));
    proto_init(&x, b->iface->name, &b->opts, &cfg, dtype, threads);
    step(&x, "load", LOAD_WEIGHT);
    /* Model load time: open (read or synthesise, quantize) plus session init (upload, graphs). */
    tfb_model m;
    double t0 = tfb_now();
    TFB_TRY(tfb_model_open(model, (uint64_t)a->seed, dtype, &m));
    if (m.per_tensor) /* a GGUF file: labelled by its stored types, whatever --dtype said */
        tfb_model_dtype_label(&m, x.proto.dtype, sizeof x.proto.dtype);
    tfb_status st = tfb_session_init(b, &m, 0, &x.s);
    double load = tfb_now() - t0;
    if (st != TFB_STATUS_OK) {
        tfb_model_free(&m);
        return st;
    }
    x.c = &m.cfg;
    snprintf(x.proto.model, sizeof x.proto.model, "%s", m.cfg.name);
    x.seq = malloc((size_t)(m.cfg.n_ctx + 1) * sizeof *x.seq);
    x.work = malloc((size_t)(m.cfg.n_ctx + 1) * sizeof *x.work);
    if (!x.seq || !x.work) {
        st = tfb_error_set(TFB_STATUS_NOMEM, "bench: out of memory");
    } else {
        /* Tokens valid on both sides (an encoder-decoder's vocabularies may differ). */
        fill_prompt(x.seq, m.cfg.n_ctx + 1, m.cfg.n_vocab < m.cfg.n_dec_vocab ? m.cfg.n_vocab : m.cfg.n_dec_vocab, 0);
        st = add_single(&x, "load", "load", "load_s", "s", false, load);
    }
    if (st == TFB_STATUS_OK)
        st = run_all(&x, model, dtype, quant);
    if (st == TFB_STATUS_OK) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru); /* ru_maxrss is in kB on Linux; the process peak so far */
        st = add_single(&x, "memory", "memory", "peak_rss_bytes", "bytes", false, 1024.0 * (double)ru.ru_maxrss);
        tfb_device_info info;
        tfb_backend_device_info(b, &info);
        if (st == TFB_STATUS_OK && info.mem_used >= 0)
            st = add_single(&x, "memory", "memory", "device_mem_bytes", "bytes", false, (double)info.mem_used);
    }
    free(x.seq);
    free(x.work);
    tfb_session_free(x.s);
    tfb_model_free(&m);
    return st;
}
