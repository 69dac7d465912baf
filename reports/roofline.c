/* The roofline figure of tfbench-kernels results: every kernel at its arithmetic intensity under the
 * probes' compute and memory roofs (split out of figures.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures_int.h"

/* Kernel names are "op/backend/..." (tfbench-kernels); the probe is "probe/bandwidth" and "probe/peak_fp32".
 */
static void kernel_backend(const char *name, char *out, size_t len) {
    const char *a = strchr(name, '/');
    snprintf(out, len, "%s", a ? a + 1 : name);
    out[strcspn(out, "/")] = '\0';
}

void tfb__rep_fig_roofline(const tfb_rep_data *d, tfb_rep_out *o) {
    const char *title = "Roofline of the kernel microbenchmarks";
    double peak[64], bw[64];
    bool any_point = false, any_roof = false;
    for (int s = 0; s < d->n_src && s < 64; s++) {
        peak[s] = bw[s] = NAN;
        for (size_t i = 0; i < d->n_kern; i++) {
            const tfb_rep_kernel *k = &d->kern[i];
            if (k->src != s)
                continue;
            if (strncmp(k->name, "probe/peak_fp32", 15) == 0)
                peak[s] = k->gflops;
            else if (strncmp(k->name, "probe/bandwidth", 15) == 0)
                bw[s] = k->gbs;
            else if (isfinite(k->gflops) && isfinite(k->gbs) && k->gbs > 0 && k->gflops > 0)
                any_point = true;
        }
        any_roof |= isfinite(peak[s]) && isfinite(bw[s]);
    }
    if (!any_point || !any_roof) {
        tfb__rep_md_skip(o, title,
                         !any_point ? "no kernel microbenchmarks (tfbench-kernels JSON) in the inputs"
                                    : "the kernel JSON has no probe/peak_fp32 and probe/bandwidth");
        return;
    }
    tfb_sbuf *b = tfb_rep_file(o, "roofline.dat");
    tfb_sbuf_printf(b, "# roofline points: one block per (host, backend)\n"
                       "# intensity_flop_per_byte gflops gflops_sd gbs name\n");
    labels ser = {0};
    int multi_host = 0;
    for (int s = 0; s < d->n_src; s++)
        multi_host += d->src[s].gbench;
    for (int s = 0; s < d->n_src && s < 64; s++) {
        for (size_t i = 0; i < d->n_kern; i++) {
            const tfb_rep_kernel *k = &d->kern[i];
            char be[64], lab[200];
            if (k->src != s || strncmp(k->name, "probe/", 6) == 0 || !(k->gflops > 0) || !(k->gbs > 0))
                continue;
            kernel_backend(k->name, be, sizeof be);
            snprintf(lab, sizeof lab, "%s%s%s", multi_host > 1 ? d->src[s].host : "",
                     multi_host > 1 ? " / " : "", be);
            if (tfb__rep_label_index(&ser, lab) < 0)
                continue;
        }
    }
    for (int l = 0; l < ser.n; l++) {
        tfb_sbuf_printf(b, "%s# series %d: %s\n", l ? "\n\n" : "", l, ser.s[l]);
        for (int s = 0; s < d->n_src && s < 64; s++)
            for (size_t i = 0; i < d->n_kern; i++) {
                const tfb_rep_kernel *k = &d->kern[i];
                char be[64], lab[200];
                if (k->src != s || strncmp(k->name, "probe/", 6) == 0 || !(k->gflops > 0) || !(k->gbs > 0))
                    continue;
                kernel_backend(k->name, be, sizeof be);
                snprintf(lab, sizeof lab, "%s%s%s", multi_host > 1 ? d->src[s].host : "",
                         multi_host > 1 ? " / " : "", be);
                if (strcmp(lab, ser.s[l]) != 0)
                    continue;
                tfb_sbuf_printf(b, "%.6g", k->gflops / k->gbs);
                tfb__rep_dat_num(b, k->gflops);
                tfb__rep_dat_num(b, isfinite(k->gflops_sd) ? k->gflops_sd : 0);
                tfb__rep_dat_num(b, k->gbs);
                tfb_sbuf_printf(b, " %s\n", k->name);
            }
    }
    tfb_sbuf *g = tfb__rep_gp_begin(o, "roofline", title);
    tfb_sbuf_printf(
        g, "  set logscale xy\n  set xlabel \"arithmetic intensity (FLOP/byte)\"\n"
           "  set ylabel \"attained performance (GFLOP/s)\"\n  set xrange [0.01:1000]\n  set samples 400\n");
    int r = 0;
    for (int s = 0; s < d->n_src && s < 64; s++)
        if (isfinite(peak[s]) && isfinite(bw[s]))
            tfb_sbuf_printf(g, "  roof%d(x) = (x * %.6g < %.6g) ? x * %.6g : %.6g\n", r++, bw[s], peak[s],
                            bw[s], peak[s]);
    tfb_sbuf_printf(g, "  plot ");
    r = 0;
    for (int s = 0; s < d->n_src && s < 64; s++)
        if (isfinite(peak[s]) && isfinite(bw[s])) {
            char lab[300];
            snprintf(lab, sizeof lab, "roof%s%s: %.0f GB/s, %.0f GFLOP/s", multi_host > 1 ? " " : "",
                     multi_host > 1 ? d->src[s].host : "", bw[s], peak[s]);
            tfb_sbuf_printf(g, "%sroof%d(x) with lines lw 2 dt %d lc rgb \"#555555\" title ", r ? ", " : "",
                            r, r + 1);
            tfb__rep_gp_str(g, lab);
            r++;
        }
    for (int l = 0; l < ser.n; l++) {
        tfb_sbuf_printf(g, ", \"roofline.dat\" index %d using 1:2:3 with yerrorbars lt %d pt %d ps 1 title ",
                        l, l % 8 + 1, 5 + 2 * (l % 4));
        tfb__rep_gp_str(g, ser.s[l]);
    }
    tfb_sbuf_printf(g, "\n");
    tfb__rep_gp_end(g);
    tfb__rep_md_figure(
        o, "roofline", title,
        "Each kernel at its arithmetic intensity (GFLOP/s over GB/s) against the measured peak fp32 GFLOP/s "
        "and read bandwidth of the machine (probe). The bandwidth roof is main memory: a kernel whose "
        "operands fit in the caches (small GEMVs, layernorm) can sit above it.");
    tfb_sbuf_printf(
        &o->md, "| kernel | GFLOP/s | GB/s | time/iter (ms) | fraction of roof |\n|---|---|---|---|---|\n");
    tfb_sbuf_printf(
        &o->tex,
        "\\begin{table}[htbp]\n\\centering\n\\caption{Kernel microbenchmarks}\n"
        "\\begin{tabular}{lrrrr}\n\\toprule\nKernel & GFLOP/s & GB/s & ms/iter & Roof fraction \\\\\n"
        "\\midrule\n");
    for (size_t i = 0; i < d->n_kern; i++) {
        const tfb_rep_kernel *k = &d->kern[i];
        double roof = NAN;
        if (k->src < 64 && isfinite(peak[k->src]) && isfinite(bw[k->src]) && k->gbs > 0) {
            double ai = k->gflops / k->gbs;
            roof = k->gflops / fmin(peak[k->src], ai * bw[k->src]);
        }
        tfb_sbuf_printf(&o->md, "| %s | %.4g | %.4g | %.4g | %.2f |\n", k->name, k->gflops, k->gbs,
                        k->time_ns / 1e6, roof);
        tfb__rep_tex_escape(&o->tex, k->name);
        tfb_sbuf_printf(&o->tex, " & %.4g & %.4g & %.4g & %.2f \\\\\n", k->gflops, k->gbs, k->time_ns / 1e6,
                        roof);
    }
    tfb_sbuf_printf(&o->tex, "\\bottomrule\n\\end{tabular}\n\\end{table}\n\n");
}

/* "machine: CPU (host), tfbench COMMIT, DATE" from the first results file's manifest. */
