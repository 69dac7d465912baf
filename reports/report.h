/* The report writer behind `tfbench report`: reads tfbench results files ("tfbench-results/1") and
 * Google Benchmark JSON from tfbench-kernels, and writes data files, one gnuplot script per figure,
 * the rendered figures, report.md and tables.tex into a directory.
 *
 * input.c loads and validates every input (nothing is written before all inputs are good);
 * figures.c turns the rows into figures (.dat + .gp + a table each); write.c writes report.md,
 * tables.tex and the files, and runs gnuplot. */
#ifndef TFB_REPORTS_REPORT_H
#define TFB_REPORTS_REPORT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tfbench/status.h"

/* ---- the loaded inputs ------------------------------------------------------------------------ */

typedef struct tfb_rep_source {
    char path[1024];
    char host[160]; /* host label: manifest hostname, else CPU model (+ cores) */
    cJSON *env;     /* environment manifest or gbench context (owned copy), may be NULL */
    bool gbench;    /* a Google Benchmark JSON file */
} tfb_rep_source;

typedef struct tfb_rep_row { /* one row of a tfbench results file */
    int src;
    char backend[32], model[64], dtype[8], test[48], kind[24], metric[32], unit[16];
    int threads; /* 0 (backend default) resolved to the manifest's core count when known */
    int64_t n_prompt, n_gen, depth;
    double median, ci95; /* ci95 NAN when unknown */
    double cv;           /* coefficient of variation of the samples, NAN when unknown or one sample */
} tfb_rep_row;

typedef struct tfb_rep_kernel { /* one Google Benchmark entry (iteration run or mean aggregate) */
    int src;
    char name[160];
    double gflops, gbs;       /* counters "GFLOP/s" and "GB/s", NAN when absent */
    double gflops_sd, gbs_sd; /* stddev aggregates when repetitions were run, else NAN */
    double time_ns;           /* real_time per iteration in ns */
} tfb_rep_kernel;

typedef struct tfb_rep_data {
    tfb_rep_source *src;
    int n_src;
    tfb_rep_row *rows;
    size_t n_rows, cap_rows;
    tfb_rep_kernel *kern;
    size_t n_kern, cap_kern;
    int n_hosts; /* distinct host labels */
} tfb_rep_data;

/* Load one file (results or gbench JSON). Errors read "<path>: <what>" (tfb_error_last). */
tfb_status tfb_rep_load(tfb_rep_data *d, const char *path);
void tfb_rep_data_free(tfb_rep_data *d);
/* "host · backend · model · dtype · N threads" with the parts that vary across d only. */
void tfb_rep_series_label(const tfb_rep_data *d, const tfb_rep_row *r, bool with_threads, char *out,
                          size_t len);

/* ---- outputs ---------------------------------------------------------------------------------- */

/* A growable string. */
typedef struct tfb_sbuf {
    char *s;
    size_t n, cap;
} tfb_sbuf;
void tfb_sbuf_printf(tfb_sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void tfb_sbuf_free(tfb_sbuf *b);

#define TFB_REP_MAX_FILES 64

/* Everything the report will write, held in memory until all of it is ready. */
typedef struct tfb_rep_out {
    char names[TFB_REP_MAX_FILES][64];
    tfb_sbuf files[TFB_REP_MAX_FILES];
    int n_files;
    tfb_sbuf md;       /* figure sections of report.md */
    tfb_sbuf tex;      /* tables of tables.tex */
    char figs[16][48]; /* figure names (scripts NAME.gp) */
    int n_figs;
    const char *formats[3]; /* "png", "svg", "pdf" as requested */
    int n_formats;
    int width, height; /* canvas of the next figure in pixels, 0: 1200 x 700 */
    char caption[320]; /* under every figure's title: machine, commit, date of the first results file */
} tfb_rep_out;

/* A new in-memory file; returns its buffer. */
tfb_sbuf *tfb_rep_file(tfb_rep_out *o, const char *name);

/* Build every figure from d into o (skipped figures get a note in o->md). */
void tfb_rep_figures(const tfb_rep_data *d, tfb_rep_out *o);

typedef struct tfb_report_opts {
    const char *const *inputs;
    int n_inputs;
    const char *dir;
    bool png, svg, pdf;
    bool force;
} tfb_report_opts;

/* Run `gnuplot SCRIPT` in dir ($TFBENCH_GNUPLOT when set): 0 ok, 127 when it could not be started,
 * else its nonzero exit status. tfbench history --plot renders through it too. */
int tfb_rep_gnuplot(const char *dir, const char *script);

/* The whole report. IO with "gnuplot not found; render with: ..." when gnuplot could not be run (data and
 * scripts are written); INPUT/IO on a bad input or an existing output without force (nothing written). */
tfb_status tfb_report_write(const tfb_report_opts *opts);

/* report.html (html.c): one self-contained page at path: conformance failures first (conform may be
 * NULL), the summary's markdown (headings, tables, paragraphs) as HTML, every report_dir/NAME.svg
 * inlined with a caption naming the machine, commit and date (from results' environment, may be
 * NULL), and the environment manifest. Written atomically; IO when a figure cannot be read. */
tfb_status tfb_report_html(const char *path, const char *summary_md, const char *report_dir, const cJSON *conform,
                           const cJSON *results);

/* report.html (html.c): one self-contained page at path: conformance failures first (conform may be
 * NULL), the summary's markdown (headings, tables, paragraphs) as HTML, every report_dir/NAME.svg
 * inlined with a caption naming the machine, commit and date (from results' environment, may be
 * NULL), and the environment manifest. Written atomically; IO when a figure cannot be read. */
tfb_status tfb_report_html(const char *path, const char *summary_md, const char *report_dir, const cJSON *conform,
                           const cJSON *results);

#endif
