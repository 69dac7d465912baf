/* Model-level conformance: the backend against the reference with the same weights (the same
 * quantized bytes), (1) free-running greedy generation, (2) teacher-forced on the reference's tokens
 * with the logits compared at every position; encoders per position (hidden states, MLM logits).
 * For dtype != f32 also the quantization effects against the f32 reference: KL divergence (mean,
 * p99), top-1 agreement and RMS of the probability change. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "quant_metrics.h"

#define N_PROMPT 8  /* decoder prompt */
#define N_SRC    10 /* encoder-decoder source */
#define N_ENC    16 /* encoder input */
#define N_GEN    16 /* generated tokens */
#define SEED     42

/* A fixed, spread-out token sequence (the standard suite uses the same form). */
static void fill_tokens(int32_t *t, int64_t n, int64_t vocab, int64_t salt) {
    for (int64_t i = 0; i < n; i++)
        t[i] = (int32_t)((i * 7919 + 13 + salt * 104729) % vocab);
}

static int64_t argmax_row(const float *x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

/* ---- running one side -------------------------------------------------------------------------------- */

/* A sequence to feed: decoders the prompt + generated tokens but the last; encoder-decoders the
 * start token + generated tokens but the last (after encoding src). */
typedef struct feed {
    const int32_t *src;
    int64_t n_src;
    int32_t *seq;
    int64_t n_seq, n_prefill;
} feed;

/* Teacher-forced logits [n_seq, V]: the prefill rows in one call, then one token per call. */
static tfb_status teacher_forced(tfb_session *s, const feed *f, float *logits) {
    const tfb_config *c = &tfb_session_model(s)->cfg;
    int64_t V = tfb_config_out_width(c);
    if (tfb_config_encoder_only(c) && !c->has_lm_head) { /* no head: the last hidden state [n_src, C] */
        TFB_TRY(tfb_session_encode(s, f->src, f->n_src, NULL));
        return tfb_session_hidden(s, logits);
    }
    if (tfb_config_encoder_only(c))
        return tfb_session_encode(s, f->src, f->n_src, logits);
    if (tfb_config_has_cross(c))
        TFB_TRY(tfb_session_encode(s, f->src, f->n_src, NULL));
    int64_t np = f->n_prefill < f->n_seq ? f->n_prefill : f->n_seq;
    TFB_TRY(tfb_session_decode(s, f->seq, np, 0, true, logits));
    for (int64_t p = np; p < f->n_seq; p++)
        TFB_TRY(tfb_session_decode(s, &f->seq[p], 1, p, true, logits + p * V));
    return TFB_STATUS_OK;
}

/* Free-running greedy tokens (encoders: per-position argmax of the MLM head). */
static tfb_status greedy(tfb_session *s, const int32_t *prompt, int64_t n_prompt, const int32_t *src,
                         int64_t n_src, int32_t *out, int64_t *n_out) {
    const tfb_config *c = &tfb_session_model(s)->cfg;
    if (tfb_config_has_decoder(c))
        return tfb_generate(s, prompt, n_prompt, src, n_src, N_GEN, out, n_out, NULL, NULL, NULL);
    if (!c->has_lm_head) { /* nothing to pick tokens from: the hidden states are compared instead */
        *n_out = 0;
        return tfb_session_encode(s, src, n_src, NULL);
    }
    float *logits = malloc((size_t)(n_src * c->n_vocab) * sizeof *logits);
    if (!logits)
        return tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    tfb_status st = tfb_session_encode(s, src, n_src, logits);
    for (int64_t t = 0; st == TFB_STATUS_OK && t < n_src; t++)
        out[t] = (int32_t)argmax_row(logits + t * c->n_vocab, c->n_vocab);
    *n_out = n_src;
    free(logits);
    return st;
}

/* ---- comparing ---------------------------------------------------------------------------------------- */

typedef struct row_summary {
    tfb_cf_verdict verdict;
    double worst_nmse, max_abs;
    int64_t top1_agree, rows, first_bad, near_ties;
    char detail[400];
} row_summary;

/* Compare [rows, n] row by row: NMSE and per-element bound, then top-1 with the near-tie rule. */
static void compare_rows(const float *x, const float *ref, int64_t rows, int64_t n, double tol, double etol,
                         bool check_top1, row_summary *s) {
    memset(s, 0, sizeof *s);
    s->first_bad = -1;
    s->rows = rows;
    s->verdict = TFB_CF_PASS;
    int64_t mistrusted = 0;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n, *rr = ref + r * n;
        tfb_cf_cmp cmp;
        tfb__cf_compare_elem(xr, rr, n, tol, etol, &cmp);
        s->worst_nmse = cmp.nmse > s->worst_nmse || isnan(cmp.nmse) ? cmp.nmse : s->worst_nmse;
        s->max_abs = cmp.max_abs > s->max_abs ? cmp.max_abs : s->max_abs;
        mistrusted += cmp.verdict == TFB_CF_MISTRUSTED;
        bool bad = tfb__cf_verdict_fails(cmp.verdict);
        char why[360];
        snprintf(why, sizeof why, "%s", cmp.detail);
        if (check_top1) {
            int64_t a = argmax_row(xr, n), b = argmax_row(rr, n);
            if (a == b) {
                s->top1_agree++;
            } else {
                double m, allowed;
                if (tfb__cf_near_tie(rr, n, tol, &m, &allowed)) {
                    s->near_ties++;
                } else {
                    bad = true;
                    snprintf(why, sizeof why,
                             "top-1 %lld vs reference %lld (margin %.3g > tie tolerance %.3g)", (long long)a,
                             (long long)b, m, allowed);
                }
            }
        }
        if (bad && s->first_bad < 0) {
            s->first_bad = r;
            s->verdict = TFB_CF_FAIL;
            snprintf(s->detail, sizeof s->detail, "first diverging position %lld: %s", (long long)r, why);
        }
    }
    if (s->verdict == TFB_CF_PASS && mistrusted == rows) {
        s->verdict = TFB_CF_MISTRUSTED;
        snprintf(s->detail, sizeof s->detail, "every row degenerate on both sides");
    } else if (s->verdict == TFB_CF_PASS) {
        if (s->near_ties)
            s->verdict = TFB_CF_NEAR_TIE;
        if (check_top1)
            snprintf(s->detail, sizeof s->detail, "top-1 %lld/%lld, %lld near-ties, max |err| %.3g",
                     (long long)s->top1_agree, (long long)rows, (long long)s->near_ties, s->max_abs);
        else
            snprintf(s->detail, sizeof s->detail, "%lld positions, max |err| %.3g", (long long)rows,
                     s->max_abs);
    }
}

/* The dtype label of the model being checked when its matrices keep stored types (a GGUF file:
 * "q4_0", "mixed"), else "": set by tfb__cf_run_model once the model is open. */
static char stored_label[8];

static tfb_cf_result *new_result(tfb_cf_report *rep, const tfb_cf_args *a, const char *backend,
                                 const char *model, const char *what, tfb_dtype wt, const char *kind) {
    tfb_cf_result *r = tfb__cf_add(rep);
    char name[sizeof r->name];
    snprintf(name, sizeof name, "%s %s", model, what);
    tfb__cf_label(r, a, backend, kind, name, (int)wt);
    if (stored_label[0])
        snprintf(r->dtype, sizeof r->dtype, "%s", stored_label);
    tfb__cf_repro(r->repro, sizeof r->repro, a, backend, model, tfb_dtype_name(wt), NULL, NULL, false);
    return r;
}

static void emit(const tfb_cf_args *a, const tfb_cf_result *r) {
    if (!a->quiet)
        tfb__cf_print_row(stdout, r, a->repro_all);
}

/* Softmax of one row in double. */
static void probs(const float *x, int64_t n, double *p) {
    double mx = -INFINITY, sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        mx = x[i] > mx ? x[i] : mx;
    for (int64_t i = 0; i < n; i++)
        sum += p[i] = exp((double)x[i] - mx);
    for (int64_t i = 0; i < n; i++)
        p[i] /= sum;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- one backend x model x dtype ----------------------------------------------------------------------- */

typedef struct model_run {
    tfb_model m;
    bool have_m;
    tfb_session *sr, *sb;
    int32_t *prompt, *src, *gen_r, *gen_b;
    float *lr, *lb, *lb2, *hr, *hb;
    feed f;
} model_run;

static void model_run_free(model_run *mr) {
    tfb_session_free(mr->sb);
    tfb_session_free(mr->sr);
    free(mr->prompt);
    free(mr->src);
    free(mr->gen_r);
    free(mr->gen_b);
    free(mr->lr);
    free(mr->lb);
    free(mr->lb2);
    free(mr->hr);
    free(mr->hb);
    free(mr->f.seq);
    if (mr->have_m)
        tfb_model_free(&mr->m);
}

/* A model without a head has no distribution to compare: its quantization effect is measured on the
 * last hidden state h [rows, C] against the f32 model's h32, as NMSE and the mean and worst cosine
 * of each position's vector. The verdict is a sanity bound (mean cosine >= 0.9), as top-1 is for
 * logits: these are effects to report, not an accuracy claim. */
static void hidden_effects(tfb_cf_result *r, const float *h32, const float *h, int64_t rows, int64_t C) {
    tfb_hidden_metrics hm;
    tfb_hidden_metrics_compute(h32, h, rows, C, &hm);
    double nmse = hm.nmse, cos_mean = hm.cos_mean, cos_min = hm.cos_min;
    snprintf(r->metric_name, sizeof r->metric_name, "cosine");
    r->threshold = 0.9;
    r->metric = cos_mean;
    r->verdict = isfinite(nmse) && cos_mean >= r->threshold ? TFB_CF_PASS : TFB_CF_FAIL;
    snprintf(r->detail, sizeof r->detail, "hidden states: cosine mean %.6f min %.6f (bound %.2f), NMSE %.3g over %lld positions",
             cos_mean, cos_min, r->threshold, nmse, (long long)rows);
    r->extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(r->extra, "hidden_nmse", nmse);
    cJSON_AddNumberToObject(r->extra, "hidden_cosine_mean", cos_mean);
    cJSON_AddNumberToObject(r->extra, "hidden_cosine_min", cos_min);
    cJSON_AddNumberToObject(r->extra, "positions", (double)rows);
    cJSON_AddStringToObject(r->extra, "bound_reason", "sanity bound on the mean cosine of each position's hidden state");
}

/* Quantization effects: the backend at wt against the f32 reference on the f32 reference's tokens. */
static void quant_effects(const tfb_cf_args *a, tfb_backend *ref, tfb_session *sb, const char *model,
                          tfb_dtype wt, const feed *f_b, tfb_cf_report *rep) {
    const char *bname = tfb_session_backend(sb)->iface->name;
    tfb_cf_result *r = new_result(rep, a, bname, model, "quantization vs f32", wt, "quant");
    snprintf(r->metric_name, sizeof r->metric_name, "top1");
    const char *why;
    r->threshold = tfb__cf_quant_min_top1(wt, &why);
    double t0 = tfb_now();
    tfb_model m32;
    tfb_session *s32 = NULL;
    float *l32 = NULL, *lq = NULL;
    double *p = NULL, *q = NULL, *kl = NULL;
    int32_t *gen = NULL;
    feed f = *f_b;
    f.seq = NULL;
    tfb_status st = tfb_model_open_f32(model, SEED, &m32);
    if (st != TFB_STATUS_OK) {
        r->verdict = TFB_CF_ERROR;
        snprintf(r->detail, sizeof r->detail, "%s", tfb_error_last());
        emit(a, r);
        return;
    }
    const tfb_config *c = &m32.cfg;
    int64_t V = tfb_config_out_width(c);
    if ((st = tfb_session_init(ref, &m32, 0, &s32)) != TFB_STATUS_OK)
        goto fail;
    /* The f32 reference's own tokens define the sequence. */
    if (tfb_config_has_decoder(c)) {
        gen = calloc(N_GEN, sizeof *gen);
        f.seq = calloc(N_PROMPT + N_GEN, sizeof *f.seq);
        if (!gen || !f.seq) {
            st = tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
            goto fail;
        }
        int64_t n_gen = 0;
        if ((st = greedy(s32, f_b->seq, f_b->n_prefill, f_b->src, f_b->n_src, gen, &n_gen)) != TFB_STATUS_OK)
            goto fail;
        if (!tfb_config_has_encoder(c)) {
            memcpy(f.seq, f_b->seq, (size_t)f_b->n_prefill * sizeof *f.seq);
            memcpy(f.seq + f_b->n_prefill, gen, (size_t)(n_gen - 1) * sizeof *f.seq);
            f.n_seq = f_b->n_prefill + n_gen - 1;
        } else {
            f.seq[0] = (int32_t)c->decoder_start_id;
            memcpy(f.seq + 1, gen, (size_t)(n_gen - 1) * sizeof *f.seq);
            f.n_seq = n_gen;
        }
    }
    int64_t rows = tfb_config_encoder_only(c) ? f.n_src : f.n_seq;
    l32 = malloc((size_t)(rows * V) * sizeof *l32);
    lq = malloc((size_t)(rows * V) * sizeof *lq);
    p = malloc((size_t)V * sizeof *p);
    q = malloc((size_t)V * sizeof *q);
    kl = malloc((size_t)rows * sizeof *kl);
    if (!l32 || !lq || !p || !q || !kl) {
        st = tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
        goto fail;
    }
    if ((st = teacher_forced(s32, &f, l32)) != TFB_STATUS_OK ||
        (st = teacher_forced(sb, &f, lq)) != TFB_STATUS_OK)
        goto fail;
    if (!c->has_lm_head) {
        hidden_effects(r, l32, lq, rows, V);
        goto done;
    }
    double kl_sum = 0.0, dp2 = 0.0;
    int64_t agree = 0;
    for (int64_t t = 0; t < rows; t++) {
        probs(l32 + t * V, V, p);
        probs(lq + t * V, V, q);
        double k = 0.0;
        for (int64_t v = 0; v < V; v++) {
            if (p[v] > 0.0)
                k += p[v] * (log(p[v]) - log(q[v] > 1e-300 ? q[v] : 1e-300));
            dp2 += (p[v] - q[v]) * (p[v] - q[v]);
        }
        kl[t] = k;
        kl_sum += k;
        agree += argmax_row(l32 + t * V, V) == argmax_row(lq + t * V, V);
    }
    qsort(kl, (size_t)rows, sizeof *kl, cmp_double);
    int64_t i99 = (int64_t)ceil(0.99 * (double)rows) - 1;
    double top1 = (double)agree / (double)rows, kl_mean = kl_sum / (double)rows;
    double kl_p99 = kl[i99 < 0 ? 0 : i99], rms_dp = sqrt(dp2 / (double)(rows * V));
    r->metric = top1;
    r->verdict = isfinite(kl_mean) && top1 >= r->threshold ? TFB_CF_PASS : TFB_CF_FAIL;
    snprintf(r->detail, sizeof r->detail,
             "top-1 %lld/%lld (bound %.2f), KL mean %.3g p99 %.3g, RMS dprob %.3g over %lld positions",
             (long long)agree, (long long)rows, r->threshold, kl_mean, kl_p99, rms_dp, (long long)rows);
    r->extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(r->extra, "top1_agreement", top1);
    cJSON_AddNumberToObject(r->extra, "kl_mean", kl_mean);
    cJSON_AddNumberToObject(r->extra, "kl_p99", kl_p99);
    cJSON_AddNumberToObject(r->extra, "rms_prob_change", rms_dp);
    cJSON_AddNumberToObject(r->extra, "positions", (double)rows);
    cJSON_AddStringToObject(r->extra, "bound_reason", why);
    goto done;
fail:
    r->verdict = st == TFB_STATUS_UNSUPPORTED ? TFB_CF_UNSUPPORTED : TFB_CF_ERROR;
    snprintf(r->detail, sizeof r->detail, "%s", tfb_error_last());
done:
    r->seconds = tfb_now() - t0;
    emit(a, r);
    free(gen);
    free(f.seq);
    free(l32);
    free(lq);
    free(p);
    free(q);
    free(kl);
    tfb_session_free(s32);
    tfb_model_free(&m32);
}

void tfb__cf_run_model(const tfb_cf_args *a, tfb_backend *b, tfb_backend *ref, const char *model,
                       tfb_dtype wt, tfb_cf_report *rep) {
    model_run mr = {0};
    const char *bname = b->iface->name;
    double t0 = tfb_now();
    /* Memory before anything is allocated: the model, the backend's and the reference's copies
     * with their KV caches, and for a quantized dtype the f32 twin (host and reference). */
    tfb_config plan;
    tfb_status st = tfb_model_config(model, &plan);
    if (st == TFB_STATUS_OK && tfb_model_stored_dtypes(model)) /* a GGUF file: its own types */
        st = tfb_model_stored_dtype(model, &wt);
    if (st == TFB_STATUS_OK)
        st = tfb_cli_check_fit(&plan, wt, 3, "3 copies: host, backend and reference, the KV caches and an f32 twin",
                               2 * tfb_config_kv_bytes(&plan, plan.n_ctx) +
                                   (wt != TFB_DTYPE_F32 ? 2 * tfb_config_weight_bytes(&plan, TFB_DTYPE_F32) : 0));
    if (st == TFB_STATUS_OK)
        st = tfb_model_open(model, SEED, wt, &mr.m);
    stored_label[0] = '\0';
    if (st == TFB_STATUS_OK && mr.m.per_tensor) {
        /* A GGUF file: its own types set the label and the tolerances, whatever --dtype said. */
        wt = mr.m.wtype;
        tfb_model_dtype_label(&mr.m, stored_label, sizeof stored_label);
    }
    if (st != TFB_STATUS_OK) {
        tfb_cf_result *r = new_result(rep, a, bname, model, "load", wt, "model");
        r->verdict = TFB_CF_ERROR;
        snprintf(r->detail, sizeof r->detail, "%s", tfb_error_last());
        emit(a, r);
        return;
    }
    mr.have_m = true;
    const tfb_config *c = &mr.m.cfg;
    int64_t V = tfb_config_out_width(c);
    if ((st = tfb_session_init(b, &mr.m, 0, &mr.sb)) != TFB_STATUS_OK) {
        st = tfb_cli_act_explain(st, &a->opts, b->iface, wt);
        tfb_cf_result *r = new_result(rep, a, bname, model, "model", wt, "model");
        r->verdict = st == TFB_STATUS_UNSUPPORTED ? TFB_CF_UNSUPPORTED : TFB_CF_ERROR;
        snprintf(r->detail, sizeof r->detail, "%s", tfb_error_last());
        emit(a, r);
        goto done;
    }
    if ((st = tfb_session_init(ref, &mr.m, 0, &mr.sr)) != TFB_STATUS_OK) {
        tfb_cf_result *r = new_result(rep, a, bname, model, "model", wt, "model");
        r->verdict = TFB_CF_ERROR;
        snprintf(r->detail, sizeof r->detail, "reference: %s", tfb_error_last());
        emit(a, r);
        goto done;
    }
    const char *why;
    double etol;
    double tol = tfb__cf_model_tol(wt, a->opts.act_q8, &etol, &why);
    int64_t n_in = !tfb_config_has_encoder(c) ? N_PROMPT : tfb_config_has_cross(c) ? N_SRC : N_ENC;
    mr.prompt = malloc((size_t)n_in * sizeof *mr.prompt);
    mr.gen_r = calloc(N_GEN > N_ENC ? N_GEN : N_ENC, sizeof *mr.gen_r);
    mr.gen_b = calloc(N_GEN > N_ENC ? N_GEN : N_ENC, sizeof *mr.gen_b);
    mr.f.seq = calloc(N_PROMPT + N_GEN, sizeof *mr.f.seq);
    TFB_ASSERT(mr.prompt && mr.gen_r && mr.gen_b && mr.f.seq);
    fill_tokens(mr.prompt, n_in, c->n_vocab, 0);
    const int32_t *src = !tfb_config_has_encoder(c) ? NULL : mr.prompt;
    int64_t n_src = !tfb_config_has_encoder(c) ? 0 : n_in;

    /* (1) free-running greedy */
    /* A model without a head has no tokens and no logits: its greedy and logits results are kept
     * off the report (scratch), and the hidden states below are what is compared. */
    tfb_cf_result scratch_g = {0}, scratch_t = {0};
    bool head = c->has_lm_head;
    tfb_cf_result *rg = head ? new_result(rep, a, bname, model, tfb_config_encoder_only(c) ? "argmax" : "greedy",
                                          wt, "model")
                             : &scratch_g;
    snprintf(rg->metric_name, sizeof rg->metric_name, "diverge@");
    rg->metric = -1;
    int64_t n_r = 0, n_b = 0;
    double tg = tfb_now();
    if ((st = greedy(mr.sr, !tfb_config_has_encoder(c) ? mr.prompt : NULL,
                     !tfb_config_has_encoder(c) ? n_in : 0, src, n_src, mr.gen_r, &n_r)) != TFB_STATUS_OK) {
        if (!head)
            rg = new_result(rep, a, bname, model, "hidden", wt, "model");
        rg->verdict = TFB_CF_ERROR;
        snprintf(rg->detail, sizeof rg->detail, "reference: %s", tfb_error_last());
        emit(a, rg);
        goto done;
    }
    st = greedy(mr.sb, !tfb_config_has_encoder(c) ? mr.prompt : NULL, !tfb_config_has_encoder(c) ? n_in : 0,
                src, n_src, mr.gen_b, &n_b);
    int64_t diverge = -1;
    if (st == TFB_STATUS_OK) {
        for (int64_t i = 0; i < (n_r < n_b ? n_r : n_b) && diverge < 0; i++)
            if (mr.gen_r[i] != mr.gen_b[i])
                diverge = i;
        if (diverge < 0 && n_r != n_b)
            diverge = n_r < n_b ? n_r : n_b;
    }
    if (a->determinism && st == TFB_STATUS_OK && diverge < 0) {
        int32_t again[N_GEN > N_ENC ? N_GEN : N_ENC];
        int64_t n_again = 0;
        st = greedy(mr.sb, !tfb_config_has_encoder(c) ? mr.prompt : NULL,
                    !tfb_config_has_encoder(c) ? n_in : 0, src, n_src, again, &n_again);
        if (st == TFB_STATUS_OK &&
            (n_again != n_b || memcmp(again, mr.gen_b, (size_t)n_b * sizeof *again) != 0)) {
            rg->verdict = TFB_CF_FAIL;
            snprintf(rg->detail, sizeof rg->detail,
                     "not deterministic: a second greedy run gave other tokens");
        }
    }
    rg->seconds = tfb_now() - tg;

    /* (2) teacher-forced on the reference's tokens */
    if (!tfb_config_has_encoder(c)) {
        memcpy(mr.f.seq, mr.prompt, (size_t)n_in * sizeof *mr.f.seq);
        memcpy(mr.f.seq + n_in, mr.gen_r, (size_t)(n_r - 1) * sizeof *mr.f.seq);
        mr.f.n_seq = n_in + n_r - 1;
        mr.f.n_prefill = n_in;
    } else if (tfb_config_has_cross(c)) {
        mr.f.seq[0] = (int32_t)c->decoder_start_id;
        memcpy(mr.f.seq + 1, mr.gen_r, (size_t)(n_r - 1) * sizeof *mr.f.seq);
        mr.f.n_seq = n_r;
        mr.f.n_prefill = n_r < 4 ? n_r : 4; /* a decoder prefill too, then single steps */
    }
    mr.f.src = src ? src : NULL;
    mr.f.n_src = n_src;
    int64_t rows = tfb_config_encoder_only(c) ? n_src : mr.f.n_seq;
    mr.lr = malloc((size_t)(rows * V) * sizeof *mr.lr);
    mr.lb = malloc((size_t)(rows * V) * sizeof *mr.lb);
    TFB_ASSERT(mr.lr && mr.lb);
    tfb_cf_result *rt =
        head ? new_result(rep, a, bname, model, tfb_config_encoder_only(c) ? "mlm logits" : "teacher-forced", wt,
                          "model")
             : &scratch_t;
    snprintf(rt->metric_name, sizeof rt->metric_name, "nmse");
    rt->threshold = tol * tol;
    double tt = tfb_now();
    tfb_status str = teacher_forced(mr.sr, &mr.f, mr.lr);
    tfb_status stb = str == TFB_STATUS_OK ? teacher_forced(mr.sb, &mr.f, mr.lb) : str;
    row_summary sum = {0};
    if (str != TFB_STATUS_OK || stb != TFB_STATUS_OK) {
        rt->verdict = TFB_CF_ERROR;
        snprintf(rt->detail, sizeof rt->detail, "%s%s", str != TFB_STATUS_OK ? "reference: " : "",
                 tfb_error_last());
    } else {
        compare_rows(mr.lb, mr.lr, rows, V, tol, etol, true, &sum);
        rt->verdict = sum.verdict;
        rt->metric = sum.worst_nmse;
        snprintf(rt->detail, sizeof rt->detail, "%s", sum.detail);
        rt->extra = cJSON_CreateObject();
        cJSON_AddNumberToObject(rt->extra, "positions", (double)rows);
        cJSON_AddNumberToObject(rt->extra, "top1_agree", (double)sum.top1_agree);
        cJSON_AddNumberToObject(rt->extra, "near_ties", (double)sum.near_ties);
        cJSON_AddNumberToObject(rt->extra, "max_abs", sum.max_abs);
        cJSON_AddNumberToObject(rt->extra, "first_diverging_position", (double)sum.first_bad);
        cJSON_AddStringToObject(rt->extra, "tolerance_reason", why);
        if (a->determinism && !tfb__cf_verdict_fails(rt->verdict)) {
            mr.lb2 = malloc((size_t)(rows * V) * sizeof *mr.lb2);
            TFB_ASSERT(mr.lb2);
            if ((stb = teacher_forced(mr.sb, &mr.f, mr.lb2)) != TFB_STATUS_OK ||
                memcmp(mr.lb2, mr.lb, (size_t)(rows * V) * sizeof *mr.lb) != 0) {
                rt->verdict = TFB_CF_FAIL;
                snprintf(rt->detail, sizeof rt->detail, "not deterministic: %s",
                         stb != TFB_STATUS_OK ? tfb_error_last() : "second run's logits differ");
            }
        }
    }
    rt->seconds = tfb_now() - tt;

    /* The greedy verdict: a divergence is excused only by a near-tie at that step. */
    if (st != TFB_STATUS_OK) {
        rg->verdict = st == TFB_STATUS_UNSUPPORTED ? TFB_CF_UNSUPPORTED : TFB_CF_ERROR;
        snprintf(rg->detail, sizeof rg->detail, "%s", tfb_error_last());
    } else if (diverge >= 0) {
        rg->metric = (double)diverge;
        int64_t row = !tfb_config_has_encoder(c) ? n_in - 1 + diverge : diverge;
        bool tie = false;
        if (row < rows && str == TFB_STATUS_OK)
            tie = tfb__cf_near_tie(mr.lr + row * V, V, tol, NULL, NULL);
        rg->verdict = tie ? TFB_CF_NEAR_TIE : TFB_CF_FAIL;
        snprintf(rg->detail, sizeof rg->detail, "first diverging step %lld: got token %d, reference %d%s%s",
                 (long long)diverge, diverge < n_b ? mr.gen_b[diverge] : -1,
                 diverge < n_r ? mr.gen_r[diverge] : -1, n_r != n_b ? " (lengths differ)" : "",
                 tie ? " (reference near-tie)" : "");
    } else if (rg->verdict != TFB_CF_FAIL) {
        rg->verdict = TFB_CF_PASS;
        snprintf(rg->detail, sizeof rg->detail, "%lld tokens identical", (long long)n_r);
    }
    if (head) {
        emit(a, rg);
        emit(a, rt);
    } else {
        cJSON_Delete(rt->extra);
    }

    /* Encoders: hidden states per position too. */
    if (tfb_config_encoder_only(c) && str == TFB_STATUS_OK && stb == TFB_STATUS_OK) {
        tfb_cf_result *rh = new_result(rep, a, bname, model, "hidden", wt, "model");
        snprintf(rh->metric_name, sizeof rh->metric_name, "nmse");
        rh->threshold = tol * tol;
        int64_t C = c->d_model;
        mr.hr = malloc((size_t)(n_src * C) * sizeof *mr.hr);
        mr.hb = malloc((size_t)(n_src * C) * sizeof *mr.hb);
        TFB_ASSERT(mr.hr && mr.hb);
        if ((st = tfb_session_hidden(mr.sr, mr.hr)) != TFB_STATUS_OK ||
            (st = tfb_session_hidden(mr.sb, mr.hb)) != TFB_STATUS_OK) {
            rh->verdict = TFB_CF_ERROR;
            snprintf(rh->detail, sizeof rh->detail, "%s", tfb_error_last());
        } else {
            compare_rows(mr.hb, mr.hr, n_src, C, tol, etol, false, &sum);
            rh->verdict = sum.verdict;
            rh->metric = sum.worst_nmse;
            snprintf(rh->detail, sizeof rh->detail, "%s", sum.detail);
        }
        emit(a, rh);
    }
    if (wt != TFB_DTYPE_F32)
        quant_effects(a, ref, mr.sb, model, wt, &mr.f, rep);
done:
    (void)t0;
    model_run_free(&mr);
}
