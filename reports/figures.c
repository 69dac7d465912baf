/* The figures: each one writes its data file(s) (.dat, whitespace-separated, header comment), one
 * self-contained gnuplot script NAME.gp that renders NAME.<fmt> for every requested format, and a
 * section of report.md (the figure and its table) and tables.tex. A figure without data is skipped
 * with a note, never drawn empty. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures_int.h"

/* ---- helpers ---------------------------------------------------------------------------------- */

/* A number for .dat files: gnuplot reads NaN as undefined (the point is skipped). */
void tfb__rep_dat_num(tfb_sbuf *b, double v) {
    if (isfinite(v))
        tfb_sbuf_printf(b, " %.6g", v);
    else
        tfb_sbuf_printf(b, " NaN");
}

/* "12.3 ± 0.4" for tables. */
static void fmt_ci(char *out, size_t len, double m, double ci) {
    if (isfinite(ci))
        snprintf(out, len, "%.4g ± %.2g", m, ci);
    else
        snprintf(out, len, "%.4g", m);
}

void tfb__rep_tex_escape(tfb_sbuf *b, const char *s) {
    for (; *s; s++) {
        if (strchr("_%&#$", *s))
            tfb_sbuf_printf(b, "\\%c", *s);
        else
            tfb_sbuf_printf(b, "%c", *s);
    }
}

/* Strings in gnuplot scripts and .dat labels are double-quoted; keep them free of quotes. */
void tfb__rep_gp_str(tfb_sbuf *b, const char *s) {
    tfb_sbuf_printf(b, "\"");
    for (; *s; s++)
        tfb_sbuf_printf(b, "%c", *s == '"' ? '\'' : *s);
    tfb_sbuf_printf(b, "\"");
}

/* The script prologue: a loop over the requested formats around the plot body, so `gnuplot NAME.gp`
 * re-renders every one. */
tfb_sbuf *tfb__rep_gp_begin(tfb_rep_out *o, const char *name, const char *title) {
    int w = o->width ? o->width : 1200, h = o->height ? o->height : 700;
    char fn[64];
    snprintf(fn, sizeof fn, "%s.gp", name);
    tfb_sbuf *g = tfb_rep_file(o, fn);
    snprintf(o->figs[o->n_figs++], sizeof o->figs[0], "%s", name);
    tfb_sbuf_printf(g, "# %s (tfbench report). Re-render with: gnuplot %s.gp\n", title, name);
    tfb_sbuf_printf(g, "formats = \"");
    for (int i = 0; i < o->n_formats; i++)
        tfb_sbuf_printf(g, "%s%s", i ? " " : "", o->formats[i]);
    tfb_sbuf_printf(g, "\"\n");
    tfb_sbuf_printf(
        g,
        "do for [fmt in formats] {\n"
        "  if (fmt eq \"png\") { set terminal pngcairo size %d,%d enhanced font \"Sans,11\" }\n"
        "  if (fmt eq \"svg\") { set terminal svg size %d,%d enhanced font \"Sans,11\" }\n"
        "  if (fmt eq \"pdf\") { set terminal pdfcairo size %.2fin,%.2fin enhanced font \"Sans,10\" }\n"
        "  set output \"%s.\".fmt\n"
        "  reset\n"
        "  set datafile missing \"NaN\"\n"
        "  set grid ytics lc rgb \"#dddddd\"\n"
        "  set key below noenhanced\n"
        "  caption = ",
        w, h, w, h, w / 120.0, h / 116.7, name);
    tfb__rep_gp_str(g, o->caption);
    tfb_sbuf_printf(g, "\n  set title noenhanced ");
    tfb__rep_gp_str(g, title);
    tfb_sbuf_printf(g, ".\"\\n\".caption\n");
    return g;
}

tfb_sbuf *tfb__rep_gp_multiplot(tfb_rep_out *o, const char *name, const char *title, const char *heading,
                                int rows, int cols, int panel_w, int panel_h) {
    o->width = panel_w * (cols > 2 ? cols : 2);
    o->height = panel_h * rows + 80;
    tfb_sbuf *g = tfb__rep_gp_begin(o, name, title);
    o->width = o->height = 0;
    tfb_sbuf_printf(g, "  unset title\n  set multiplot layout %d,%d title ", rows, cols);
    tfb__rep_gp_str(g, heading);
    tfb_sbuf_printf(g, ".\"\\n\".caption noenhanced\n  set key noenhanced font \",8\"\n");
    return g;
}

void tfb__rep_gp_end(tfb_sbuf *g) {
    tfb_sbuf_printf(g, "  set output\n}\n");
}

void tfb__rep_md_figure(tfb_rep_out *o, const char *name, const char *title, const char *what) {
    tfb_sbuf_printf(&o->md, "\n## %s\n\n%s\n\n![%s](%s.%s)\n\n", title, what, title, name,
                    o->n_formats && strcmp(o->formats[0], "pdf") != 0 ? o->formats[0] : "png");
}

void tfb__rep_md_skip(tfb_rep_out *o, const char *title, const char *why) {
    tfb_sbuf_printf(&o->md, "\n## %s\n\n*Skipped: %s.*\n", title, why);
}

int tfb__rep_label_index(labels *l, const char *s) {
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->s[i], s) == 0)
            return i;
    if (l->n == 64)
        return -1;
    snprintf(l->s[l->n], sizeof l->s[0], "%s", s);
    return l->n++;
}

bool tfb__rep_is_rate(const tfb_rep_row *r) {
    return strcmp(r->metric, "tokens_per_s") == 0;
}
bool tfb__rep_is_pp(const tfb_rep_row *r) {
    return (strcmp(r->kind, "pp") == 0 || strcmp(r->kind, "encode") == 0) && tfb__rep_is_rate(r);
}
bool tfb__rep_is_tg(const tfb_rep_row *r) {
    return strcmp(r->kind, "tg") == 0 && tfb__rep_is_rate(r);
}
static bool is_scale_pp(const tfb_rep_row *r) {
    return strcmp(r->kind, "scale_pp") == 0 && tfb__rep_is_rate(r);
}
static bool is_scale_tg(const tfb_rep_row *r) {
    return strcmp(r->kind, "scale_tg") == 0 &&
           (tfb__rep_is_rate(r) || strcmp(r->metric, "ms_per_token") == 0);
}
bool tfb__rep_is_ratio(const tfb_rep_row *r) {
    return strcmp(r->unit, "ratio") == 0 || strstr(r->metric, "speedup") || strstr(r->metric, "gain");
}
static bool is_kv(const tfb_rep_row *r) {
    return strcmp(r->kind, "kv") == 0 && tfb__rep_is_ratio(r);
}

int tfb__rep_count_rows(const tfb_rep_data *d, row_pred p) {
    int n = 0;
    for (size_t i = 0; i < d->n_rows; i++)
        n += p(&d->rows[i]);
    return n;
}

/* Table rows for md and tex from the same rows. */
void tfb__rep_tables_rows(const tfb_rep_data *d, tfb_rep_out *o, row_pred p, const char *caption,
                          bool transform_ms) {
    tfb_sbuf_printf(&o->md, "| series | test | median ± 95%% CI | unit |\n|---|---|---|---|\n");
    tfb_sbuf_printf(&o->tex, "\\begin{table}[htbp]\n\\centering\n\\caption{");
    tfb__rep_tex_escape(&o->tex, caption);
    tfb_sbuf_printf(&o->tex,
                    "}\n\\begin{tabular}{llrl}\n\\toprule\nSeries & Test & Median $\\pm$ CI95 & Unit \\\\\n"
                    "\\midrule\n");
    int n_high = 0;
    for (size_t i = 0; i < d->n_rows; i++) {
        const tfb_rep_row *r = &d->rows[i];
        if (!p(r))
            continue;
        char lab[128], v[64];
        tfb_rep_series_label(d, r, true, lab, sizeof lab);
        double m = r->median, ci = r->ci95;
        const char *unit = r->unit;
        if (transform_ms && tfb__rep_is_rate(r)) { /* tokens/s -> ms/token, CI by the derivative 1000/x^2 */
            ci = isfinite(ci) ? 1000.0 * ci / (m * m) : NAN;
            m = 1000.0 / m;
            unit = "ms/token";
        }
        fmt_ci(v, sizeof v, m, ci);
        /* A spread over 5% of the mean is more than noise a median hides: the table says so. */
        bool high = isfinite(r->cv) && r->cv > 0.05;
        n_high += high;
        tfb_sbuf_printf(&o->md, "| %s | %s | %s%s | %s |\n", lab, r->test, v, high ? " (high CV)" : "", unit);
        tfb__rep_tex_escape(&o->tex, lab);
        tfb_sbuf_printf(&o->tex, " & ");
        tfb__rep_tex_escape(&o->tex, r->test);
        if (isfinite(ci))
            tfb_sbuf_printf(&o->tex, " & %.4g $\\pm$ %.2g%s & ", m, ci, high ? "$^\\dagger$" : "");
        else
            tfb_sbuf_printf(&o->tex, " & %.4g%s & ", m, high ? "$^\\dagger$" : "");
        tfb__rep_tex_escape(&o->tex, unit);
        tfb_sbuf_printf(&o->tex, " \\\\\n");
    }
    tfb_sbuf_printf(&o->tex, "\\bottomrule\n\\end{tabular}\n");
    if (n_high) {
        tfb_sbuf_printf(&o->tex, "\\par\\footnotesize $^\\dagger$ coefficient of variation over 5\\%%\n");
        tfb_sbuf_printf(&o->md,
                        "\n*%d figure%s marked (high CV): the samples' coefficient of variation is over "
                        "5%%; a busy machine or too short a run.*\n\n",
                        n_high, n_high == 1 ? "" : "s");
    }
    tfb_sbuf_printf(&o->tex, "\\end{table}\n\n");
}

/* ---- lines: x numeric, one line per series ---------------------------------------------------- */

typedef double (*row_x)(const tfb_rep_row *r);
static double x_depth(const tfb_rep_row *r) {
    return (double)r->depth;
}
static double x_prompt(const tfb_rep_row *r) {
    return (double)r->n_prompt;
}
static double x_threads(const tfb_rep_row *r) {
    return (double)r->threads;
}

/* NAME.dat with one block per series (gnuplot `index`), "x median ci95", sorted by x; y optionally
 * as ms/token. Returns the number of series with at least min_points points. */
static int lines_dat(const tfb_rep_data *d, tfb_rep_out *o, const char *dat, row_pred p, row_x fx, bool ms,
                     bool with_threads, bool test_in_label, int min_points, const char *what, labels *ser) {
    labels all = {0};
    ser->n = 0;
    for (size_t i = 0; i < d->n_rows; i++) {
        const tfb_rep_row *r = &d->rows[i];
        if (!p(r))
            continue;
        char lab[128], full[128];
        tfb_rep_series_label(d, r, with_threads, lab, sizeof lab);
        snprintf(full, sizeof full, "%s%s%s", lab, test_in_label ? " " : "", test_in_label ? r->test : "");
        tfb__rep_label_index(&all, full);
    }
    tfb_sbuf *b = NULL;
    for (int s = 0; s < all.n; s++) {
        /* collect and sort this series' points by x */
        double xs[256], ys[256], cs[256];
        int n = 0;
        for (size_t i = 0; i < d->n_rows && n < 256; i++) {
            const tfb_rep_row *r = &d->rows[i];
            char lab[128], full[128];
            if (!p(r))
                continue;
            tfb_rep_series_label(d, r, with_threads, lab, sizeof lab);
            snprintf(full, sizeof full, "%s%s%s", lab, test_in_label ? " " : "",
                     test_in_label ? r->test : "");
            if (strcmp(full, all.s[s]) != 0)
                continue;
            double y = r->median, ci = isfinite(r->ci95) ? r->ci95 : 0;
            if (ms && tfb__rep_is_rate(r)) { /* tokens/s -> ms/token; rows already in ms pass through */
                ci = 1000.0 * ci / (y * y);
                y = 1000.0 / y;
            }
            int k = n++;
            while (k > 0 && xs[k - 1] > fx(r)) {
                xs[k] = xs[k - 1], ys[k] = ys[k - 1], cs[k] = cs[k - 1];
                k--;
            }
            xs[k] = fx(r), ys[k] = y, cs[k] = ci;
        }
        if (n < min_points)
            continue;
        if (!b) {
            b = tfb_rep_file(o, dat);
            tfb_sbuf_printf(b, "# %s: one block per series (gnuplot index), columns: x median ci95\n", what);
        }
        tfb_sbuf_printf(b, "%s# series %d: %s\n", ser->n ? "\n\n" : "", ser->n, all.s[s]);
        tfb__rep_label_index(ser, all.s[s]);
        for (int k = 0; k < n; k++) {
            tfb_sbuf_printf(b, "%.6g", xs[k]);
            tfb__rep_dat_num(b, ys[k]);
            tfb__rep_dat_num(b, cs[k]);
            tfb_sbuf_printf(b, "\n");
        }
    }
    return ser->n;
}

/* The colour of a series: its backend's (the label's first word, after "host / "). */
static const char *series_colour(const char *label) {
    const char *lab = strstr(label, " / ") ? strstr(label, " / ") + 3 : label;
    char backend[32];
    snprintf(backend, sizeof backend, "%.*s", (int)strcspn(lab, " "), lab);
    return tfb__rep_backend_colour(backend);
}

/* One plot command over ser's blocks of dat; with share (a second .dat of fractions and its series),
 * those are drawn too, dashed, as percentages on the right-hand axis. */
static void gp_lines(tfb_sbuf *g, const char *dat, const labels *ser, bool zero_at_one, bool log_y,
                     const char *share_dat, const labels *share) {
    /* times and rates are positive: a wide CI must not drag the axis below zero (or a log axis to 0) */
    tfb_sbuf_printf(g, "  %s\n", log_y ? "set yrange [*:*]" : "set yrange [0:*]");
    if (share && share->n)
        tfb_sbuf_printf(g, "  set ytics nomirror\n  set y2tics\n  set y2range [0:100]\n"
                           "  set y2label \"attention share of the time (%%, dashed)\"\n");
    else
        tfb_sbuf_printf(g, "  set ytics mirror\n  unset y2tics\n  unset y2label\n");
    tfb_sbuf_printf(g, "  plot ");
    const char *x = zero_at_one ? "($1 < 1 ? 1 : $1)" : "1";
    for (int s = 0; s < ser->n; s++) { /* point type and dash tell a backend's series apart */
        tfb_sbuf_printf(
            g, "%s\"%s\" index %d using %s:2:3 with yerrorlines lc rgb \"%s\" pt %d dt %d ps 0.9 title ",
            s ? ", " : "", dat, s, x, series_colour(ser->s[s]), 4 + s % 9, 1 + s / 8 % 4);
        tfb__rep_gp_str(g, ser->s[s]);
    }
    for (int s = 0; share && s < share->n; s++) {
        int pt = s; /* the marker of the time series it belongs to */
        for (int k = 0; k < ser->n; k++)
            pt = strcmp(ser->s[k], share->s[s]) ? pt : k;
        tfb_sbuf_printf(
            g,
            ", \"%s\" index %d using %s:($2*100) axes x1y2 with linespoints lc rgb \"%s\" pt %d dt 3 "
            "ps 0.6 title ",
            share_dat, s, x, series_colour(share->s[s]), 4 + pt % 9);
        char t[160];
        snprintf(t, sizeof t, "%s attention %%", share->s[s]);
        tfb__rep_gp_str(g, t);
    }
    tfb_sbuf_printf(g, "\n");
}

/* ---- the figures ------------------------------------------------------------------------------ */

/* The panels of fig_context: rows of one model (lines_dat takes a predicate, not a model). */
static const char *ctx_model;
static row_pred ctx_base_tg, ctx_base_pp;
static bool ctx_tg(const tfb_rep_row *r) {
    return ctx_base_tg(r) && strcmp(r->model, ctx_model) == 0;
}
static bool ctx_pp(const tfb_rep_row *r) {
    return ctx_base_pp(r) && strcmp(r->model, ctx_model) == 0;
}
/* The fraction of the time spent in attention (bench's scale_tg / scale_pp rows). */
static bool is_share(const tfb_rep_row *r) {
    return !strncmp(r->kind, "scale_", 6) && !strcmp(r->metric, "attention_share");
}
static bool ctx_share_tg(const tfb_rep_row *r) {
    return !strcmp(r->kind, "scale_tg") && !strcmp(r->metric, "attention_share") &&
           !strcmp(r->model, ctx_model);
}
static bool ctx_share_pp(const tfb_rep_row *r) {
    return !strcmp(r->kind, "scale_pp") && !strcmp(r->metric, "attention_share") &&
           !strcmp(r->model, ctx_model);
}

/* Does a panel's y span more than 10x (then its axis is logarithmic)? ms: as ms/token. */
static bool wide(const tfb_rep_data *d, row_pred p, bool ms) {
    double lo = INFINITY, hi = 0;
    for (size_t i = 0; i < d->n_rows; i++) {
        const tfb_rep_row *r = &d->rows[i];
        double y = ms && tfb__rep_is_rate(r) ? 1000.0 / r->median : r->median;
        if (p(r) && y > 0)
            lo = fmin(lo, y), hi = fmax(hi, y);
    }
    return hi > 10 * lo;
}

/* Scaling per model: decode ms/token against depth (top), prefill tokens/s against length (below). */
static void fig_context(const tfb_rep_data *d, tfb_rep_out *o) {
    const char *title = "Context-length scaling";
    ctx_base_tg = tfb__rep_count_rows(d, is_scale_tg) ? is_scale_tg : tfb__rep_is_tg;
    ctx_base_pp = tfb__rep_count_rows(d, is_scale_pp) ? is_scale_pp : tfb__rep_is_pp;
    labels models = {0};
    for (size_t i = 0; i < d->n_rows; i++)
        if (ctx_base_tg(&d->rows[i]) || ctx_base_pp(&d->rows[i]))
            tfb__rep_label_index(&models, d->rows[i].model);
    int cols = models.n > 6 ? 6 : models.n, any_t = 0, any_p = 0, nt[6], np[6];
    static labels st[6], sp[6], ht[6], hp[6]; /* time series; attention-share series */
    for (int m = 0; m < cols; m++) {
        char dt[64], dp[64];
        snprintf(dt, sizeof dt, "context_decode_%d.dat", m);
        snprintf(dp, sizeof dp, "context_prefill_%d.dat", m);
        ctx_model = models.s[m];
        nt[m] =
            lines_dat(d, o, dt, ctx_tg, x_depth, true, true, false, 2, "decode ms/token by depth", &st[m]);
        np[m] = lines_dat(d, o, dp, ctx_pp, x_prompt, false, true, false, 2,
                          "prefill tokens/s by prompt length", &sp[m]);
        snprintf(dt, sizeof dt, "context_decode_share_%d.dat", m);
        snprintf(dp, sizeof dp, "context_prefill_share_%d.dat", m);
        lines_dat(d, o, dt, ctx_share_tg, x_depth, false, true, false, 2,
                  "attention share of decode by depth", &ht[m]);
        lines_dat(d, o, dp, ctx_share_pp, x_prompt, false, true, false, 2,
                  "attention share of prefill by prompt length", &hp[m]);
        any_t += nt[m] > 0, any_p += np[m] > 0;
    }
    if (!any_t && !any_p) {
        tfb__rep_md_skip(o, title, "no series with two or more context depths or prompt lengths");
        return;
    }
    tfb_sbuf *g =
        tfb__rep_gp_multiplot(o, "context", title, "Context-length scaling per model (error bars: 95% CI)",
                              (any_t > 0) + (any_p > 0), cols, 400, 420);
    tfb_sbuf_printf(g, "  set logscale x 2\n");
    for (int row = 0; row < 2; row++) {
        if ((row == 0 && !any_t) || (row == 1 && !any_p))
            continue;
        for (int m = 0; m < cols; m++) {
            char dat[64], share[64];
            ctx_model = models.s[m];
            snprintf(dat, sizeof dat, "context_%s_%d.dat", row ? "prefill" : "decode", m);
            snprintf(share, sizeof share, "context_%s_share_%d.dat", row ? "prefill" : "decode", m);
            if (!(row ? np[m] : nt[m])) {
                tfb_sbuf_printf(g, "  set multiplot next\n");
                continue;
            }
            tfb_sbuf_printf(g, "  set title \"%s: %s\" noenhanced\n", models.s[m],
                            row ? "prefill" : "decode");
            /* depth 0 cannot sit on a log axis: it is drawn at 1, and the label says so */
            tfb_sbuf_printf(g, "  set xlabel \"%s\"\n  set ylabel \"%s\"\n  %s logscale y\n",
                            row ? "prompt length (tokens, log scale)" : "context depth (tokens, log; 0 at 1)",
                            row ? "prefill throughput (tokens/s)" : "time per token (ms)",
                            wide(d, row ? ctx_pp : ctx_tg, !row) ? "set" : "unset");
            gp_lines(g, dat, row ? &sp[m] : &st[m], !row, wide(d, row ? ctx_pp : ctx_tg, !row), share,
                     row ? &hp[m] : &ht[m]);
        }
    }
    tfb_sbuf_printf(g, "  unset multiplot\n");
    tfb__rep_gp_end(g);
    tfb__rep_md_figure(
        o, "context", title,
        "One panel per model: decode time per token against context depth (top) and prefill "
        "tokens/s against prompt length (below), log-scale x; a log y where a panel spans more than "
        "10x; dashed, on the right-hand axis: the share of the time spent in attention.");
    if (any_t)
        tfb__rep_tables_rows(d, o, ctx_base_tg, "Decode time per token by depth", true);
    if (any_p)
        tfb__rep_tables_rows(d, o, ctx_base_pp, "Prefill throughput by prompt length", false);
    if (tfb__rep_count_rows(d, is_share))
        tfb__rep_tables_rows(d, o, is_share, "Share of the time spent in attention (fraction)", false);
}

static bool kv_of_model(const tfb_rep_row *r) {
    return is_kv(r) && strcmp(r->model, ctx_model) == 0;
}

/* Small multiples: one panel per model (at most six), speedup against depth. */
static void fig_kv(const tfb_rep_data *d, tfb_rep_out *o) {
    const char *title = "KV-cache reuse speedup";
    labels models = {0};
    for (size_t i = 0; i < d->n_rows; i++)
        if (is_kv(&d->rows[i]))
            tfb__rep_label_index(&models, d->rows[i].model);
    int cols = models.n > 6 ? 6 : models.n, any = 0, np[6];
    static labels s[6];
    for (int m = 0; m < cols; m++) {
        char dat[64];
        snprintf(dat, sizeof dat, "kv_reuse_%d.dat", m);
        ctx_model = models.s[m];
        np[m] = lines_dat(d, o, dat, kv_of_model, x_depth, false, true, false, 1,
                          "KV-cache reuse speedup by depth", &s[m]);
        any += np[m] > 0;
    }
    if (!any) {
        tfb__rep_md_skip(o, title, "no KV-cache reuse (kind kv) rows in the inputs");
        return;
    }
    tfb_sbuf *g =
        tfb__rep_gp_multiplot(o, "kv_reuse", title, "KV-cache reuse speedup per model", 1, cols, 420, 440);
    for (int m = 0; m < cols; m++) {
        char dat[64];
        snprintf(dat, sizeof dat, "kv_reuse_%d.dat", m);
        if (!np[m]) {
            tfb_sbuf_printf(g, "  set multiplot next\n");
            continue;
        }
        tfb_sbuf_printf(g, "  set title ");
        tfb__rep_gp_str(g, models.s[m]);
        tfb_sbuf_printf(
            g, " noenhanced\n  unset arrow\n"
               "  set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb \"#888888\"\n"
               "  set xlabel \"context depth (tokens)\"\n  set ylabel \"cached decode vs recomputation "
               "(x)\"\n  set yrange [0:*]\n");
        gp_lines(g, dat, &s[m], false, false, NULL, NULL);
    }
    tfb_sbuf_printf(g, "  unset multiplot\n");
    tfb__rep_gp_end(g);
    tfb__rep_md_figure(
        o, "kv_reuse", title,
        "Decode with the KV cache against recomputing the whole sequence, per depth; one panel "
        "per model.");
    tfb__rep_tables_rows(d, o, is_kv, "KV-cache reuse speedup", false);
}

static bool is_kl(const tfb_rep_row *r) {
    return strcmp(r->kind, "quant") == 0 && strncmp(r->metric, "kl_mean", 7) == 0;
}

/* The speed of k's host/backend/model/threads at dtype: decode at the smallest depth (the longest
 * prompt for prefill). The host, not the source file: the suite measures f32 speed in one run and the
 * quantized dtypes in another. */
static const tfb_rep_row *speed_of(const tfb_rep_data *d, const tfb_rep_row *k, const char *dtype,
                                   const char *kind) {
    const tfb_rep_row *best = NULL;
    for (size_t j = 0; j < d->n_rows; j++) {
        const tfb_rep_row *r = &d->rows[j];
        if (!strcmp(d->src[r->src].host, d->src[k->src].host) && strcmp(r->kind, kind) == 0 &&
            tfb__rep_is_rate(r) && !strcmp(r->backend, k->backend) && !strcmp(r->model, k->model) &&
            !strcmp(r->dtype, dtype) && r->threads == k->threads &&
            (!best || r->depth < best->depth || (r->depth == best->depth && r->n_prompt > best->n_prompt)))
            best = r;
    }
    return best;
}

static void fig_quant(const tfb_rep_data *d, tfb_rep_out *o) {
    const char *title = "Quantization trade-off";
    tfb_sbuf *b = NULL;
    labels s = {0}, models = {0};
    char colour[64][8];
    int model_of[64];                 /* each block's panel */
    const char *model_kind[64] = {0}; /* each panel's speed: decode where the model has it, else prefill */
    /* Each quantized dtype at its KL; then each configuration's f32 model at KL 0, its own reference. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < d->n_rows; i++) {
            const tfb_rep_row *k = &d->rows[i];
            if (!is_kl(k))
                continue;
            if (pass == 1) { /* once per host/backend/model/threads */
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++) {
                    const tfb_rep_row *e = &d->rows[j];
                    seen = is_kl(e) && !strcmp(d->src[e->src].host, d->src[k->src].host) &&
                           !strcmp(e->backend, k->backend) && !strcmp(e->model, k->model) &&
                           e->threads == k->threads;
                }
                if (seen)
                    continue;
            }
            static const char *const kinds[] = {"tg", "pp", "encode"};
            const tfb_rep_row *best = NULL;
            const char *kind = NULL;
            const char *want = NULL; /* the kind of this model's earlier points */
            for (int q = 0; q < models.n; q++)
                if (!strcmp(models.s[q], k->model))
                    want = model_kind[q];
            for (int q = 0; q < 3 && !best; q++) {
                if (want && strcmp(want, kinds[q]) != 0)
                    continue;
                kind = kinds[q];
                best = speed_of(d, k, pass ? "f32" : k->dtype, kind);
            }
            if (!best || s.n == 64)
                continue;
            if (!b) {
                b = tfb_rep_file(o, "quant_tradeoff.dat");
                tfb_sbuf_printf(
                    b, "# quantization trade-off: one block per (backend, dtype); f32 at KL 0\n"
                       "# kl_mean_nats kl_ci95 tokens_per_s tokens_per_s_ci95 test (decode where the "
                       "model has it, else prefill/encode)\n");
            }
            char lab[128];
            tfb_rep_series_label(d, best, true, lab, sizeof lab);
            tfb_sbuf_printf(b, "%s# series %d: %s\n%.6g", s.n ? "\n\n" : "", s.n, lab,
                            pass ? 0.0 : k->median);
            tfb__rep_dat_num(b, pass || !isfinite(k->ci95) ? 0 : k->ci95);
            tfb__rep_dat_num(b, best->median);
            tfb__rep_dat_num(b, isfinite(best->ci95) ? best->ci95 : 0);
            tfb_sbuf_printf(b, " %s\n", best->test);
            snprintf(colour[s.n], sizeof colour[0], "%s", tfb__rep_backend_colour(k->backend));
            model_of[s.n] = tfb__rep_label_index(&models, k->model);
            if (model_of[s.n] < 0)
                continue;
            model_kind[model_of[s.n]] = kind;
            tfb__rep_label_index(&s, lab);
        }
    if (!s.n) {
        tfb__rep_md_skip(o, title,
                         "no quantization rows (kind quant, kl_mean) with a matching speed measurement");
        return;
    }
    /* Small multiples: one panel per model (at most six), its configurations as points. */
    int cols = models.n > 6 ? 6 : models.n;
    tfb_sbuf *g = tfb__rep_gp_multiplot(o, "quant_tradeoff", title,
                                        "Quantization trade-off per model (f32 at KL 0)", 1, cols, 420, 480);
    tfb_sbuf_printf(g, "  set xlabel \"mean KL from f32 (nats)\"\n  set yrange [0:*]\n  set xrange [0:*]\n"
                       "  set format x \"%%.2g\"\n  set xtics rotate by -30 font \",8\"\n");
    for (int m = 0; m < cols; m++) {
        tfb_sbuf_printf(g, "  set ylabel \"%s throughput (tokens/s)\"\n  set title ",
                        !model_kind[m] || model_kind[m][0] == 't' ? "decode" : "prefill / encode");
        tfb__rep_gp_str(g, models.s[m]);
        tfb_sbuf_printf(g, " noenhanced\n  plot ");
        for (int i = 0, k = 0; i < s.n; i++) { /* k: the point's place in its panel, its marker */
            if (model_of[i] != m)
                continue;
            tfb_sbuf_printf(
                g,
                "%s\"quant_tradeoff.dat\" index %d using 1:3:2:4 with xyerrorbars lc rgb \"%s\" pt %d "
                "ps 1.5 title ",
                k ? ", " : "", i, colour[i], 4 + k % 11);
            tfb__rep_gp_str(g, s.s[i]);
            k++;
        }
        tfb_sbuf_printf(g, "\n");
    }
    tfb_sbuf_printf(g, "  unset multiplot\n");
    tfb__rep_gp_end(g);
    tfb__rep_md_figure(
        o, "quant_tradeoff", title,
        "Speed against accuracy, one point per backend and weight dtype; one panel per model.");
    tfb_sbuf_printf(&o->md, "| series | mean KL (nats) | test |\n|---|---|---|\n");
    for (size_t i = 0; i < d->n_rows; i++) {
        const tfb_rep_row *k = &d->rows[i];
        if (!is_kl(k))
            continue;
        char lab[128], v[64];
        tfb_rep_series_label(d, k, true, lab, sizeof lab);
        fmt_ci(v, sizeof v, k->median, k->ci95);
        tfb_sbuf_printf(&o->md, "| %s | %s | %s |\n", lab, v, k->test);
    }
    tfb__rep_tables_rows(d, o, is_kl, "Quantization: mean KL divergence from the f32 reference", false);
}

/* Thread scaling: prefill at each prompt length and decode from an empty cache. */
static bool is_pp_tg(const tfb_rep_row *r) {
    return tfb__rep_is_pp(r) || (tfb__rep_is_tg(r) && r->depth == 0);
}

static void fig_threads(const tfb_rep_data *d, tfb_rep_out *o) {
    const char *title = "Thread scaling";
    labels s;
    if (!lines_dat(d, o, "threads.dat", is_pp_tg, x_threads, false, false, true, 2,
                   "tokens/s by thread count", &s)) {
        tfb__rep_md_skip(o, title,
                         "every series was measured at one thread count (run bench with --threads 1,2,...)");
        return;
    }
    tfb_sbuf *g = tfb__rep_gp_begin(o, "threads", title);
    tfb_sbuf_printf(g, "  set xlabel \"threads\"\n  set ylabel \"throughput (tokens/s)\"\n"
                       "  set xtics 1\n  set offsets graph 0.05, graph 0.05, 0, 0\n");
    gp_lines(g, "threads.dat", &s, false, false, NULL, NULL);
    tfb__rep_gp_end(g);
    tfb__rep_md_figure(o, "threads", title,
                       "Prefill (pp) and decode (tg) tokens/s against the thread count.");
    tfb__rep_tables_rows(d, o, is_pp_tg, "Throughput by thread count", false);
}

static void caption_of(const tfb_rep_data *d, tfb_rep_out *o) {
    snprintf(o->caption, sizeof o->caption, "tfbench report");
    for (int i = 0; i < d->n_src; i++) {
        const cJSON *e = d->src[i].env;
        if (d->src[i].gbench || !e)
            continue;
        const char *k[] = {"cpu_model", "hostname", "git_commit", "timestamp"};
        const char *v[4];
        for (int j = 0; j < 4; j++) {
            const cJSON *x = cJSON_GetObjectItemCaseSensitive(e, k[j]);
            v[j] = cJSON_IsString(x) ? x->valuestring : "?";
        }
        snprintf(o->caption, sizeof o->caption, "%s (%s), tfbench %s, %.10s", v[0], v[1], v[2], v[3]);
        break;
    }
}

void tfb_rep_figures(const tfb_rep_data *d, tfb_rep_out *o) {
    caption_of(d, o);
    tfb__rep_fig_throughput(d, o);
    fig_context(d, o);
    fig_kv(d, o);
    tfb__rep_fig_prefix(d, o);
    fig_quant(d, o);
    fig_threads(d, o);
    tfb__rep_fig_roofline(d, o);
}
