/* The standard suite's benchmark plan: which `tfbench bench` runs, at which sizes.
 *
 * Every family (pp, e2e, tg at depths, kv, xattn, prefix, quant, scale_pp, scale_tg) runs on one
 * model of each family on the fastest CPU backend; the other backends (oneDNN, and the PoCL and
 * lavapipe devices, where a real-shape model costs tens of milliseconds to seconds per token) run
 * throughput, KV reuse and scaling at sizes that fit. Sizes come from a model's cost tier, then are
 * clipped to its context, so any preset or directory fits.
 *
 * The default is sized from per-step costs measured on the 2-core development machine (simd, 2
 * threads, busy machine; a quiet one is about twice as fast), not from one wall-clock run:
 *   gpt2-124m f32     prefill ~1.2 ms/token, decode ~25 ms/token, load ~5 s
 *   bert-base f32     encode ~2.8 ms/token
 *   marian-base f32   encode ~0.5 ms/token, decode ~10 ms/token
 *   t5-base f32       encode ~2.1 ms/token, decode ~40 ms/token
 *   tinyllama q8_0    prefill ~22 ms/token, decode ~80 ms/token, load ~15 s
 *   gpt2-124m on opencl / vulkan: prefill ~7 / ~24 ms/token, decode ~90 / ~65 ms/token
 * README.md (the suite) has the resulting per-step estimate. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

/* The sizes of one model's runs. */
typedef struct sizes {
    int pp, tg, depth, kv_tg, scale_max, scale_tg, reps, warmup;
    const char *dtype;
} sizes;

static int pow2_floor(int64_t v) {
    int p = 1;
    while ((int64_t)p * 2 <= v && p < (1 << 29))
        p *= 2;
    return p;
}

static int imin(int a, int b) {
    return a < b ? a : b;
}

/* Millions of parameters: small (< 200, the base-size models), medium (t5-base), large (> 500,
 * tinyllama-1.1b and up, run at q8_0 so their decode stays near a tenth of a second a token). */
static sizes sizes_for(tfb_suite_profile p, const tfb_config *c, bool cpu) {
    double mp = (double)tfb_config_weight_bytes(c, TFB_DTYPE_F32) / 4e6;
    sizes s;
    if (p == TFB_SUITE_QUICK)
        s = (sizes){16, 4, 16, 2, 32, 2, 2, 0, "f32"};
    else if (p == TFB_SUITE_FULL)
        s = (sizes){512, 64, 512, 16, 1 << 20, 16, 10, 2, "f32"};
    else if (!cpu) /* the slow devices: seconds per token at worst */
        s = (sizes){64, 8, 32, 4, 64, 8, 3, 1, "f32"};
    /* Decode steps of 16 tokens or more: at 4 and 16 a token's jitter left 6 of 92 decode figures of
     * a quiet default run with a 95% CI half-width over 10% of the median. */
    else if (mp < 200)
        s = (sizes){128, 32, 128, 8, 512, 16, 5, 1, "f32"};
    else if (mp < 500)
        s = (sizes){128, 32, 128, 8, 256, 16, 5, 1, "f32"};
    else
        s = (sizes){64, 32, 64, 8, 128, 16, 3, 1, "q8_0"};
    if (mp >= 500)
        s.dtype = p == TFB_SUITE_FULL ? "q4_0" : "q8_0";
    /* Within the context: a prompt of at most half of it, generation of at most a quarter. */
    int64_t ctx = c->n_ctx;
    s.pp = imin(s.pp, pow2_floor(ctx / 2 > 0 ? ctx / 2 : 1));
    s.tg = imin(s.tg, (int)(ctx / 4 > 0 ? ctx / 4 : 1));
    s.depth = imin(s.depth, (int)(ctx / 2));
    s.kv_tg = imin(s.kv_tg, s.tg);
    s.scale_max = imin(s.scale_max, (int)ctx);
    s.scale_tg = imin(s.scale_tg, s.scale_max / 2 > 0 ? s.scale_max / 2 : 1);
    if (s.depth + s.tg > ctx)
        s.depth = (int)(ctx - s.tg);
    return s;
}

/* ---- building a job's argv ------------------------------------------------------------------ */

static size_t used(const tfb_suite_job *j) {
    return j->argc ? (size_t)(j->argv[j->argc - 1] - j->buf) + strlen(j->argv[j->argc - 1]) + 1 : 0;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
arg(tfb_suite_job *j, const char *fmt, ...) {
    size_t at = used(j);
    TFB_ASSERT(j->argc < (int)(sizeof j->argv / sizeof j->argv[0]) - 1 && at < sizeof j->buf);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(j->buf + at, sizeof j->buf - at, fmt, ap);
    va_end(ap);
    TFB_ASSERT(n >= 0 && at + (size_t)n < sizeof j->buf);
    j->argv[j->argc++] = j->buf + at;
    j->argv[j->argc] = NULL;
}

/* A new job running `bench --backend backend`; its file stem "NN-backend-stem". */
static tfb_suite_job *job(tfb_suite_job *jobs, int *n, int cap, const char *stem, const char *backend) {
    if (*n == cap)
        return NULL;
    tfb_suite_job *j = &jobs[*n];
    memset(j, 0, sizeof *j);
    snprintf(j->name, sizeof j->name, "%02d-%s-%s", *n + 1, backend, stem);
    for (char *p = j->name; *p; p++) /* a model directory's path as a file stem */
        if (*p == '/' || *p == ' ')
            *p = '_';
    arg(j, "bench");
    arg(j, "--backend");
    arg(j, "%s", backend);
    (*n)++;
    return j;
}

static void common(tfb_suite_job *j, const tfb_suite_opts *o, const sizes *s, const char *model) {
    arg(j, "--model");
    arg(j, "%s", model);
    arg(j, "-r");
    if (o->reps)
        arg(j, "%s", o->reps);
    else
        arg(j, "%d", s->reps);
    arg(j, "--warmup");
    arg(j, "%d", s->warmup);
    if (s->reps > 2 && !o->reps) /* decode repeats past -r while its 95% CI is wider than 5% */
        arg(j, "--max-reps"), arg(j, "%d", 4 * s->reps);
    if (o->threads)
        arg(j, "--threads"), arg(j, "%s", o->threads);
    if (o->device)
        arg(j, "--device"), arg(j, "%s", o->device);
    if (o->progress)
        arg(j, "--progress");
}

static void sized(tfb_suite_job *j, const sizes *s, bool depths) {
    arg(j, "--pp");
    arg(j, "%d", s->pp);
    arg(j, "--tg");
    arg(j, "%d", s->tg);
    if (depths)
        arg(j, "--depth"), arg(j, "0,%d", s->depth);
}

/* ---- the plan ------------------------------------------------------------------------------- */

static const char *const default_models[] = {"gpt2-124m", "bert-base", "marian-base", "tinyllama-1.1b",
                                             "t5-base"};
static const char *const quick_models[] = {"gpt2-tiny", "bert-tiny", "marian-tiny", "llama-tiny", "t5-tiny"};
static const char *const quant_dtypes[] = {"f16", "bf16", "q8_0", "q4_0"};

int tfb_suite_plan(const tfb_suite_opts *o, tfb_suite_job *jobs, int cap) {
    const char *const *models = o->models;
    int n_models = o->n_models;
    if (n_models == 0) {
        models = o->profile == TFB_SUITE_QUICK ? quick_models : default_models;
        n_models = 5;
    }
    const tfb_backend_i *cpu_if = tfb_backend_find(o->cpu);
    bool act = cpu_if && cpu_if->act_q8;
    int n = 0;
    for (int mi = 0; mi < n_models; mi++) {
        tfb_config c;
        if (tfb_model_config(models[mi], &c) != TFB_STATUS_OK)
            continue; /* bench reports it when run */
        sizes s = sizes_for(o->profile, &c, true);
        double mp = (double)tfb_config_weight_bytes(&c, TFB_DTYPE_F32) / 4e6;
        bool small = mp < 200, full = o->profile == TFB_SUITE_FULL;
        /* Every family, quantization effects included when the model runs quantized. */
        tfb_suite_job *j = job(jobs, &n, cap, c.name, o->cpu);
        if (!j)
            return n;
        snprintf(j->what, sizeof j->what, "%s %s %s: every family", o->cpu, c.name,
                 tfb_model_stored_dtypes(models[mi]) ? "(stored types)" : s.dtype);
        common(j, o, &s, models[mi]);
        sized(j, &s, true);
        arg(j, "--dtype");
        arg(j, "%s", s.dtype);
        arg(j, "--kinds");
        arg(j, "pp,e2e,tg,kv,xattn,prefix,quant,scale_pp,scale_tg");
        arg(j, "--kv-tg");
        arg(j, "%d", s.kv_tg);
        arg(j, "--scale-max");
        arg(j, "%d", s.scale_max);
        arg(j, "--scale-tg");
        arg(j, "%d", s.scale_tg);
        arg(j, "--requests");
        arg(j, "2");
        /* Speed beside accuracy for the other weight dtypes (each loads the model and its f32 twin);
         * outside --full the larger models only at q8_0 and q4_0 (their f16/bf16 loads cost minutes). */
        char dts[64] = "";
        /* A model file in its own types (GGUF) runs as stored whatever --dtype says: one run of it. */
        bool stored = tfb_model_stored_dtypes(models[mi]);
        for (size_t d = 0; !stored && d < sizeof quant_dtypes / sizeof quant_dtypes[0]; d++) {
            bool pick = strcmp(quant_dtypes[d], s.dtype) != 0 && (small || full || quant_dtypes[d][0] == 'q');
            if (pick)
                snprintf(dts + strlen(dts), sizeof dts - strlen(dts), "%s%s", dts[0] ? "," : "",
                         quant_dtypes[d]);
        }
        if (dts[0] && (j = job(jobs, &n, cap, "quant", o->cpu))) {
            snprintf(j->what, sizeof j->what, "%s %s %s: quantization", o->cpu, c.name, dts);
            snprintf(j->name + strlen(j->name), sizeof j->name - strlen(j->name), "-%s", c.name);
            common(j, o, &s, models[mi]);
            sized(j, &s, false);
            arg(j, "--dtype"), arg(j, "%s", dts);
            arg(j, "--kinds"), arg(j, "pp,tg,quant");
            arg(j, "--interleave"); /* the dtypes' repetitions alternate */
        }
        /* And with 8-bit activations where the backend offers them (llama.cpp's numerics): the first
         * model only (gpt2-124m, which TARGETS.md compares with llama.cpp) outside --full. */
        if (act && (mi == 0 || full) && !stored && (j = job(jobs, &n, cap, "act-q8", o->cpu))) {
            snprintf(j->what, sizeof j->what, "%s %s q8_0,q4_0 --act q8: quantization", o->cpu, c.name);
            snprintf(j->name + strlen(j->name), sizeof j->name - strlen(j->name), "-%s", c.name);
            common(j, o, &s, models[mi]);
            sized(j, &s, false);
            arg(j, "--dtype"), arg(j, "q8_0,q4_0");
            arg(j, "--act"), arg(j, "q8");
            arg(j, "--kinds"), arg(j, "pp,tg,quant");
            arg(j, "--interleave");
        }
    }
    /* The other backends together (one run, --interleave: their repetitions alternate, so drifting
     * load hits them alike): throughput, KV reuse and scaling on the first model; with --full every
     * family, dtype and model. */
    char others[256] = "";
    for (int bi = 0; bi < o->n_others; bi++)
        snprintf(others + strlen(others), sizeof others - strlen(others), "%s%s", bi ? "," : "",
                 o->others[bi]);
    bool full = o->profile == TFB_SUITE_FULL;
    for (int mi = 0; o->n_others && mi < (full ? n_models : 1); mi++) {
        tfb_config c;
        if (tfb_model_config(models[mi], &c) != TFB_STATUS_OK)
            continue;
        sizes s = sizes_for(o->profile, &c, false);
        tfb_suite_job *j = job(jobs, &n, cap, c.name, o->n_others > 1 ? "others" : others);
        if (!j)
            return n;
        j->argc = 2; /* "bench --backend": the whole list, where the file stem says "others" */
        arg(j, "%s", others);
        snprintf(j->what, sizeof j->what, "%s %s %s: %s", others, c.name, s.dtype,
                 full ? "every family" : "throughput, KV reuse, scaling (interleaved)");
        common(j, o, &s, models[mi]);
        sized(j, &s, true);
        arg(j, "--dtype");
        arg(j, "%s", full ? "f32,f16,bf16,q8_0,q4_0" : s.dtype);
        arg(j, "--kinds");
        arg(j, "%s",
            full ? "pp,e2e,tg,kv,xattn,prefix,quant,scale_pp,scale_tg" : "pp,tg,kv,xattn,scale_pp,scale_tg");
        arg(j, "--kv-tg"), arg(j, "%d", s.kv_tg);
        arg(j, "--scale-max"), arg(j, "%d", s.scale_max);
        arg(j, "--scale-tg"), arg(j, "%d", s.scale_tg);
        arg(j, "--interleave");
    }
    return n;
}
