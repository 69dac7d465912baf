/* Small multiples: the throughput figure as one panel per model and phase (prefill above, decode
 * below), so a fast encoder's thousands of tokens/s do not flatten a decoder's tens; backends as
 * series in one colour each (the same in every figure), a log y axis where a panel's values span
 * more than 10x, error bars from the 95% CIs. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "figures_int.h"

const char *tfb__rep_backend_colour(const char *backend) {
    static const struct {
        const char *name, *rgb;
    } fixed[] = {{"reference", "#555555"}, {"simd", "#1f77b4"},   {"onednn", "#ff7f0e"},
                 {"opencl", "#2ca02c"},    {"vulkan", "#d62728"}, {"fault", "#9467bd"}};
    static const char *const spare[] = {"#8c564b", "#e377c2", "#17becf", "#bcbd22"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(fixed[i].name, backend) == 0)
            return fixed[i].rgb;
    unsigned h = 0; /* any other backend: a stable pick from its name */
    for (const char *p = backend; *p; p++)
        h = h * 31 + (unsigned char)*p;
    return spare[h % (sizeof spare / sizeof spare[0])];
}

/* Bars with error bars, one group per test, one bar per series. */
static const char histogram[] = "  set style data histogram\n  set style histogram errorbars gap 1 lw 1\n"
                                "  set boxwidth 0.9\n  set xtics noenhanced font \",8\"\n";

typedef struct panel {
    labels tests, series;
    char backend[64][32]; /* of each series */
    double lo, hi;        /* smallest and largest median */
} panel;

/* The series label inside one model's panel: host and threads when the rows differ in them. */
typedef struct varies {
    bool hosts, threads;
} varies;

static void series_label(const tfb_rep_data *d, const tfb_rep_row *r, varies v, char *out, size_t len) {
    snprintf(out, len, "%s%s%s %s", v.hosts ? d->src[r->src].host : "", v.hosts ? " / " : "", r->backend,
             r->dtype);
    if (v.threads)
        snprintf(out + strlen(out), len - strlen(out), " %dt", r->threads);
}

/* NAME.dat of one panel: a line per test, "test m1 ci1 m2 ci2 ..." (one pair per series). */
static bool panel_dat(const tfb_rep_data *d, tfb_rep_out *o, const char *dat, const char *model, row_pred p,
                      const char *what, panel *pn) {
    memset(pn, 0, sizeof *pn);
    pn->lo = INFINITY, pn->hi = 0;
    varies many = {false, false};
    const tfb_rep_row *first = NULL;
    for (size_t i = 0; i < d->n_rows; i++) {
        const tfb_rep_row *r = &d->rows[i];
        if (!p(r) || strcmp(r->model, model) != 0)
            continue;
        if (!first)
            first = r;
        many.threads |= r->threads != first->threads;
        many.hosts |= strcmp(d->src[r->src].host, d->src[first->src].host) != 0;
    }
    for (size_t i = 0; i < d->n_rows; i++) {
        const tfb_rep_row *r = &d->rows[i];
        if (!p(r) || strcmp(r->model, model) != 0)
            continue;
        char lab[128];
        series_label(d, r, many, lab, sizeof lab);
        int s = tfb__rep_label_index(&pn->series, lab);
        if (s >= 0)
            snprintf(pn->backend[s], sizeof pn->backend[s], "%s", r->backend);
        tfb__rep_label_index(&pn->tests, r->test);
        if (r->median > 0)
            pn->lo = fmin(pn->lo, r->median), pn->hi = fmax(pn->hi, r->median);
    }
    if (!pn->series.n)
        return false;
    tfb_sbuf *b = tfb_rep_file(o, dat);
    tfb_sbuf_printf(b, "# %s %s: median and 95%% CI half-width per series\n# test", model, what);
    for (int s = 0; s < pn->series.n; s++)
        tfb_sbuf_printf(b, " \"%s\" ci95", pn->series.s[s]);
    tfb_sbuf_printf(b, "\n");
    for (int t = 0; t < pn->tests.n; t++) {
        tfb__rep_gp_str(b, pn->tests.s[t]);
        for (int s = 0; s < pn->series.n; s++) {
            double m = NAN, ci = NAN;
            for (size_t i = 0; i < d->n_rows; i++) {
                const tfb_rep_row *r = &d->rows[i];
                char lab[128];
                if (!p(r) || strcmp(r->model, model) != 0 || strcmp(r->test, pn->tests.s[t]) != 0)
                    continue;
                series_label(d, r, many, lab, sizeof lab);
                if (strcmp(lab, pn->series.s[s]) == 0)
                    m = r->median, ci = isfinite(r->ci95) ? r->ci95 : 0;
            }
            tfb__rep_dat_num(b, m);
            tfb__rep_dat_num(b, ci);
        }
        tfb_sbuf_printf(b, "\n");
    }
    return true;
}

static void panel_plot(tfb_sbuf *g, const char *dat, const char *title, const panel *pn) {
    tfb_sbuf_printf(g, "  set title ");
    tfb__rep_gp_str(g, title);
    tfb_sbuf_printf(g, " noenhanced\n");
    if (pn->hi > 10 * pn->lo) /* spans more than 10x: log axis, bars from below the smallest */
        tfb_sbuf_printf(g, "  set logscale y\n  set yrange [%.4g:%.4g]\n", pn->lo / 3, pn->hi * 2);
    else
        tfb_sbuf_printf(g, "  unset logscale y\n  set yrange [0:*]\n");
    tfb_sbuf_printf(g, "  plot ");
    for (int s = 0; s < pn->series.n; s++) {
        int same = 0; /* a backend's second dtype gets a lighter fill */
        for (int k = 0; k < s; k++)
            same += strcmp(pn->backend[k], pn->backend[s]) == 0;
        tfb_sbuf_printf(g, "%s\"%s\" using %d:%d%s lc rgb \"%s\" fs solid %.2f border -1 title ",
                        s ? ", " : "", dat, 2 + 2 * s, 3 + 2 * s, s ? "" : ":xtic(1)",
                        tfb__rep_backend_colour(pn->backend[s]), same ? fmax(0.25, 0.85 - 0.2 * same) : 0.85);
        tfb__rep_gp_str(g, pn->series.s[s]);
    }
    tfb_sbuf_printf(g, "\n");
}

void tfb__rep_fig_throughput(const tfb_rep_data *d, tfb_rep_out *o) {
    const char *title = "Throughput per model and backend";
    if (!tfb__rep_count_rows(d, tfb__rep_is_pp) && !tfb__rep_count_rows(d, tfb__rep_is_tg)) {
        tfb__rep_md_skip(o, title, "no prefill (pp) or decode (tg) tokens/s rows in the inputs");
        return;
    }
    labels models = {0};
    for (size_t i = 0; i < d->n_rows; i++)
        if (tfb__rep_is_pp(&d->rows[i]) || tfb__rep_is_tg(&d->rows[i]))
            tfb__rep_label_index(&models, d->rows[i].model);
    int cols = models.n > 6 ? 6 : models.n, rows = tfb__rep_count_rows(d, tfb__rep_is_tg) ? 2 : 1;
    static panel pn[2][6];
    bool have[2][6];
    for (int m = 0; m < cols; m++)
        for (int ph = 0; ph < rows; ph++) {
            char dat[64];
            snprintf(dat, sizeof dat, "throughput_%s_%d.dat", ph ? "decode" : "prefill", m);
            have[ph][m] = panel_dat(d, o, dat, models.s[m], ph ? tfb__rep_is_tg : tfb__rep_is_pp, "tokens/s",
                                    &pn[ph][m]);
        }
    tfb_sbuf *g = tfb__rep_gp_multiplot(o, "throughput", title,
                                        "Throughput per model and backend (median; error bars: 95% CI)", rows,
                                        cols, 360, 420);
    tfb_sbuf_printf(g, "%s  set xtics rotate by -30\n  set ylabel \"tokens/s\"\n", histogram);
    for (int ph = 0; ph < rows; ph++)
        for (int m = 0; m < cols; m++) {
            if (!have[ph][m]) {
                tfb_sbuf_printf(g, "  set multiplot next\n");
                continue;
            }
            char dat[64], t[160];
            snprintf(dat, sizeof dat, "throughput_%s_%d.dat", ph ? "decode" : "prefill", m);
            snprintf(t, sizeof t, "%s: %s", models.s[m], ph ? "decode" : "prefill / encode");
            panel_plot(g, dat, t, &pn[ph][m]);
        }
    tfb_sbuf_printf(g, "  unset multiplot\n");
    tfb__rep_gp_end(g);
    tfb__rep_md_figure(
        o, "throughput", title,
        "Prefill (top) and decode (bottom) tokens/s, one panel per model, reported separately; "
        "one colour per backend in every figure, a log axis where a panel spans more than 10x, "
        "error bars are 95% CIs.");
    if (tfb__rep_count_rows(d, tfb__rep_is_pp))
        tfb__rep_tables_rows(d, o, tfb__rep_is_pp, "Prefill throughput", false);
    if (rows > 1)
        tfb__rep_tables_rows(d, o, tfb__rep_is_tg, "Decode throughput", false);
}

static bool is_prefix(const tfb_rep_row *r) {
    return strcmp(r->kind, "prefix") == 0 && tfb__rep_is_ratio(r);
}

/* Prefix reuse as small multiples: one panel per model, its tests as groups, backends and dtypes as
 * bars; a dashed line at 1 (no gain). */
void tfb__rep_fig_prefix(const tfb_rep_data *d, tfb_rep_out *o) {
    const char *title = "Prefix-reuse gain";
    labels models = {0};
    for (size_t i = 0; i < d->n_rows; i++)
        if (is_prefix(&d->rows[i]))
            tfb__rep_label_index(&models, d->rows[i].model);
    if (!models.n) {
        tfb__rep_md_skip(o, title, "no prefix-reuse (kind prefix) rows in the inputs");
        return;
    }
    int cols = models.n > 6 ? 6 : models.n;
    static panel pn[6];
    for (int m = 0; m < cols; m++) {
        char dat[64];
        snprintf(dat, sizeof dat, "prefix_reuse_%d.dat", m);
        panel_dat(d, o, dat, models.s[m], is_prefix, "prefix-reuse gain (x)", &pn[m]);
    }
    tfb_sbuf *g =
        tfb__rep_gp_multiplot(o, "prefix_reuse", title,
                              "Prefix-reuse gain per model (median; error bars: 95% CI)", 1, cols, 360, 420);
    tfb_sbuf_printf(g,
                    "%s  set ylabel \"with against without the cached prefix (x)\"\n"
                    "  set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb \"#888888\"\n",
                    histogram);
    for (int m = 0; m < cols; m++) {
        char dat[64];
        snprintf(dat, sizeof dat, "prefix_reuse_%d.dat", m);
        panel_plot(g, dat, models.s[m], &pn[m]);
    }
    tfb_sbuf_printf(g, "  unset multiplot\n");
    tfb__rep_gp_end(g);
    tfb__rep_md_figure(
        o, "prefix_reuse", title,
        "Requests sharing a prefix, with against without reusing its cached K/V; one panel per "
        "model.");
    tfb__rep_tables_rows(d, o, is_prefix, "Prefix-reuse gain", false);
}
