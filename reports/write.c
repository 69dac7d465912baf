/* Writing the report: inputs first (all must load), then every output in memory, then a check that
 * nothing would be overwritten without --force, then the files (each written atomically), then gnuplot. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"

tfb_sbuf *tfb_rep_file(tfb_rep_out *o, const char *name) {
    for (int i = 0; i < o->n_files; i++)
        if (strcmp(o->names[i], name) == 0)
            return &o->files[i];
    if (o->n_files == TFB_REP_MAX_FILES)
        abort(); /* a fixed set of figures never gets here */
    snprintf(o->names[o->n_files], sizeof o->names[0], "%s", name);
    return &o->files[o->n_files++];
}

static void md_env_value(tfb_sbuf *b, const char *key, const cJSON *v) {
    if (cJSON_IsString(v))
        tfb_sbuf_printf(b, "| %s | %s |\n", key, v->valuestring[0] ? v->valuestring : "-");
    else if (cJSON_IsNumber(v))
        tfb_sbuf_printf(b, "| %s | %.15g |\n", key, v->valuedouble);
    else if (cJSON_IsArray(v)) {
        tfb_sbuf_printf(b, "| %s | ", key);
        const cJSON *e;
        int i = 0;
        cJSON_ArrayForEach(e, v) {
            if (cJSON_IsString(e))
                tfb_sbuf_printf(b, "%s%s", i++ ? " " : "", e->valuestring);
            else if (cJSON_IsNumber(e))
                tfb_sbuf_printf(b, "%s%.15g", i++ ? " " : "", e->valuedouble);
        }
        tfb_sbuf_printf(b, " |\n");
    }
}

/* The environment of each input: the results manifest (with its backends) or the gbench context. */
static void md_environments(const tfb_rep_data *d, tfb_sbuf *b) {
    tfb_sbuf_printf(b, "\n## Environments\n");
    for (int i = 0; i < d->n_src; i++) {
        const tfb_rep_source *s = &d->src[i];
        tfb_sbuf_printf(b, "\n### %s — `%s`%s\n\n| field | value |\n|---|---|\n", s->host, s->path,
                        s->gbench ? " (tfbench-kernels)" : "");
        if (!s->env) {
            tfb_sbuf_printf(b, "| (none) | the file carries no environment |\n");
            continue;
        }
        const cJSON *v;
        cJSON_ArrayForEach(v, s->env) {
            if (cJSON_IsObject(v) || !v->string)
                continue;
            md_env_value(b, v->string, v);
        }
        const cJSON *bs = cJSON_GetObjectItemCaseSensitive(s->env, "backends");
        const cJSON *be;
        cJSON_ArrayForEach(be, bs) {
            tfb_sbuf_printf(b, "\nBackend **%s**\n\n| field | value |\n|---|---|\n", be->string);
            cJSON_ArrayForEach(v, be) md_env_value(b, v->string, v);
        }
    }
}

static bool exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

static tfb_status write_file(const char *dir, const char *name, const tfb_sbuf *b) {
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return tfb_error_set(TFB_STATUS_IO, "%s: cannot create: %s", path, strerror(errno));
    bool ok = fwrite(b->s ? b->s : "", 1, b->n, f) == b->n;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return tfb_error_set(TFB_STATUS_IO, "%s: write failed", path);
    }
    return TFB_STATUS_OK;
}

/* Run `gnuplot NAME.gp` in dir. The program is $TFBENCH_GNUPLOT if set (tests point it at a missing
 * one). Returns 0 ok, 127 when it could not be started, else its nonzero exit status. */
int tfb_rep_gnuplot(const char *dir, const char *script) {
    const char *prog = getenv("TFBENCH_GNUPLOT");
    if (!prog || !prog[0])
        prog = "gnuplot";
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return 127;
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(126);
        execlp(prog, prog, script, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 127;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

tfb_status tfb_report_write(const tfb_report_opts *opts) {
    tfb_rep_data d;
    memset(&d, 0, sizeof d);
    tfb_status st = TFB_STATUS_OK;
    for (int i = 0; i < opts->n_inputs && st == TFB_STATUS_OK; i++)
        st = tfb_rep_load(&d, opts->inputs[i]);
    if (st != TFB_STATUS_OK) {
        tfb_rep_data_free(&d);
        return st;
    }
    if (d.n_rows == 0 && d.n_kern == 0) {
        tfb_rep_data_free(&d);
        return tfb_error_set(TFB_STATUS_INPUT, "%s: no results rows or benchmarks in the inputs",
                             opts->n_inputs ? opts->inputs[0] : "report");
    }

    tfb_rep_out *o = calloc(1, sizeof *o);
    if (!o) {
        tfb_rep_data_free(&d);
        return tfb_error_set(TFB_STATUS_NOMEM, "report: out of memory");
    }
    if (opts->png)
        o->formats[o->n_formats++] = "png";
    if (opts->svg)
        o->formats[o->n_formats++] = "svg";
    if (opts->pdf)
        o->formats[o->n_formats++] = "pdf";
    tfb_rep_figures(&d, o);

    tfb_sbuf *md = tfb_rep_file(o, "report.md");
    tfb_sbuf_printf(md, "# tfbench report\n\nInputs:");
    for (int i = 0; i < d.n_src; i++)
        tfb_sbuf_printf(md, " `%s`%s", d.src[i].path, i + 1 < d.n_src ? "," : "");
    tfb_sbuf_printf(md,
                    "\n\nMedians with 95%% confidence intervals (t-distribution over the repetitions). Each "
                    "figure has its data file (`*.dat`) and gnuplot script (`*.gp`, re-render with `gnuplot "
                    "NAME.gp`) beside it.\n");
    if (o->md.s)
        tfb_sbuf_printf(md, "%s", o->md.s);
    md_environments(&d, md);
    tfb_sbuf *tex = tfb_rep_file(o, "tables.tex");
    tfb_sbuf_printf(tex, "%% tfbench report tables; needs \\usepackage{booktabs}\n\n%s",
                    o->tex.s ? o->tex.s : "");

    /* Refuse before writing anything: the directory must be creatable and free of our names. */
    struct stat sb;
    if (stat(opts->dir, &sb) == 0 && !S_ISDIR(sb.st_mode))
        st = tfb_error_set(TFB_STATUS_IO, "%s: exists and is not a directory", opts->dir);
    for (int i = 0; st == TFB_STATUS_OK && !opts->force && i < o->n_files + o->n_figs * o->n_formats; i++) {
        char path[4096];
        if (i < o->n_files)
            snprintf(path, sizeof path, "%s/%s", opts->dir, o->names[i]);
        else
            snprintf(path, sizeof path, "%s/%s.%s", opts->dir, o->figs[(i - o->n_files) / o->n_formats],
                     o->formats[(i - o->n_files) % o->n_formats]);
        if (exists(path))
            st = tfb_error_set(TFB_STATUS_IO, "%s: exists (use --force to overwrite)", path);
    }
    if (st == TFB_STATUS_OK && mkdir(opts->dir, 0777) != 0 && errno != EEXIST)
        st = tfb_error_set(TFB_STATUS_IO, "%s: cannot create directory: %s", opts->dir, strerror(errno));
    for (int i = 0; st == TFB_STATUS_OK && i < o->n_files; i++)
        st = write_file(opts->dir, o->names[i], &o->files[i]);

    if (st == TFB_STATUS_OK && o->n_formats) {
        for (int i = 0; i < o->n_figs; i++) {
            char script[80];
            snprintf(script, sizeof script, "%s.gp", o->figs[i]);
            int rc = tfb_rep_gnuplot(opts->dir, script);
            if (rc == 127) {
                st = tfb_error_set(
                    TFB_STATUS_IO,
                    "report: gnuplot not found; render with: cd %s && for f in *.gp; do gnuplot "
                    "\"$f\"; done",
                    opts->dir);
                break;
            }
            if (rc != 0) {
                st = tfb_error_set(TFB_STATUS_INTERNAL, "report: gnuplot %s failed (exit %d)", script, rc);
                break;
            }
        }
    }
    for (int i = 0; i < o->n_files; i++)
        tfb_sbuf_free(&o->files[i]);
    tfb_sbuf_free(&o->md);
    tfb_sbuf_free(&o->tex);
    free(o);
    tfb_rep_data_free(&d);
    return st;
}
