/* Helpers shared by the figure files (figures.c, panels.c): gnuplot scripts, .dat numbers, report.md
 * sections and tables. Internal to reports/. */
#ifndef TFB_REPORTS_FIGURES_INT_H
#define TFB_REPORTS_FIGURES_INT_H

#include "report.h"

/* Distinct series labels (in first-seen order) over rows matching pred. */
typedef bool (*row_pred)(const tfb_rep_row *r);
typedef struct labels {
    char s[64][128];
    int n;
} labels;

void tfb__rep_dat_num(tfb_sbuf *b, double v);         /* " 1.5" or " NaN" */
void tfb__rep_gp_str(tfb_sbuf *b, const char *s);     /* a double-quoted gnuplot string */
void tfb__rep_tex_escape(tfb_sbuf *b, const char *s); /* LaTeX-safe text */
/* NAME.gp's prologue (a loop over the formats, the title with o->caption under it) and its end. */
tfb_sbuf *tfb__rep_gp_begin(tfb_rep_out *o, const char *name, const char *title);
/* The same for small multiples: a rows x cols multiplot of panels about panel_w x panel_h pixels under
 * `heading` and the caption; the caller draws each panel (or `set multiplot next`). */
tfb_sbuf *tfb__rep_gp_multiplot(tfb_rep_out *o, const char *name, const char *title, const char *heading,
                                int rows, int cols, int panel_w, int panel_h);
void tfb__rep_gp_end(tfb_sbuf *g);
void tfb__rep_md_figure(tfb_rep_out *o, const char *name, const char *title, const char *what);
void tfb__rep_md_skip(tfb_rep_out *o, const char *title, const char *why);
int tfb__rep_label_index(labels *l, const char *s);
bool tfb__rep_is_rate(const tfb_rep_row *r);
bool tfb__rep_is_pp(const tfb_rep_row *r);
bool tfb__rep_is_tg(const tfb_rep_row *r);
bool tfb__rep_is_ratio(const tfb_rep_row *r); /* a speedup or gain */
int tfb__rep_count_rows(const tfb_rep_data *d, row_pred p);
void tfb__rep_tables_rows(const tfb_rep_data *d, tfb_rep_out *o, row_pred p, const char *caption,
                          bool transform_ms);
/* The colour of a backend, the same in every figure ("#rrggbb"). */
const char *tfb__rep_backend_colour(const char *backend);
/* Throughput as small multiples: one panel per model and phase (panels.c). */
void tfb__rep_fig_throughput(const tfb_rep_data *d, tfb_rep_out *o);
/* Prefix-reuse gain: one panel per model (panels.c). */
void tfb__rep_fig_prefix(const tfb_rep_data *d, tfb_rep_out *o);
/* The roofline of the kernel microbenchmarks (roofline.c). */
void tfb__rep_fig_roofline(const tfb_rep_data *d, tfb_rep_out *o);

#endif
