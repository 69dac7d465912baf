/* Conformance output: the human table on stdout, the JSON file and the JUnit XML file. Files are
 * written through tfb_atomic_open/commit and never overwrite without --force. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tfb_git_commit.h"
#include "conform.h"

void tfb__cf_print_header(FILE *f, const tfb_cf_args *a) {
    if (a->opts.act_q8)
        fprintf(f, "activations: q8 for q8_0/q4_0 matmuls (--act q8: rounded to 8 bits by "
                   "tfb_quantize_act_q8 on the backend and the reference alike; shown as q8_0/a8), "
                   "f32 elsewhere\n");
    else
        fprintf(f, "activations: f32 (--act f32)\n");
    fprintf(f, "%-9s %-5s %-38s %-5s %-11s %-9s %10s %10s  %s\n", "backend", "kind", "case", "dtype",
            "verdict", "metric", "value", "threshold", "detail");
}

void tfb__cf_print_row(FILE *f, const tfb_cf_result *r, bool repro) {
    char value[32] = "-", thr[32] = "-", dt[16];
    if (r->metric_name[0]) {
        snprintf(value, sizeof value, "%.3g", r->metric);
        snprintf(thr, sizeof thr, "%.3g", r->threshold);
    }
    fprintf(f, "%-9s %-5s %-38s %-5s %-11s %-9s %10s %10s  %s\n", r->backend, r->kind, r->name,
            tfb__cf_dtype_label(r, dt, sizeof dt), tfb__cf_verdict_name(r->verdict),
            r->metric_name[0] ? r->metric_name : "-", value, thr, r->detail);
    if ((repro || r->verdict != TFB_CF_PASS) && r->repro[0])
        fprintf(f, "          repro: %s\n", r->repro);
    fflush(f);
}

/* ---- JSON ------------------------------------------------------------------------------------------------
 */

static void add_number(cJSON *o, const char *k, double v) {
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddStringToObject(o, k, isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
}

static void timestamp(char *buf, size_t len) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

tfb_status tfb__cf_write_json(const char *path, bool force, const tfb_cf_args *a, const tfb_cf_report *rep) {
    cJSON *root = cJSON_CreateObject();
    char ts[32];
    timestamp(ts, sizeof ts);
    cJSON_AddStringToObject(root, "tool", "tfbench conform");
    cJSON_AddStringToObject(root, "version", TFB_VERSION);
    cJSON_AddStringToObject(root, "git_commit", TFB_GIT_COMMIT);
    cJSON_AddStringToObject(root, "timestamp", ts);
    cJSON *args = cJSON_AddObjectToObject(root, "args");
    cJSON_AddStringToObject(args, "backend", a->backend);
    cJSON_AddStringToObject(args, "model", a->model);
    cJSON_AddStringToObject(args, "dtype", a->dtype);
    cJSON_AddBoolToObject(args, "determinism", a->determinism);
    cJSON_AddNumberToObject(args, "threads", a->opts.n_threads);
    cJSON_AddStringToObject(args, "act", a->opts.act_q8 ? "q8" : "f32");
    int counts[TFB_CF_ERROR + 1] = {0};
    cJSON *arr = cJSON_AddArrayToObject(root, "results");
    for (int i = 0; i < rep->n; i++) {
        const tfb_cf_result *r = &rep->r[i];
        counts[r->verdict]++;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "backend", r->backend);
        cJSON_AddStringToObject(o, "kind", r->kind);
        cJSON_AddStringToObject(o, "case", r->name);
        cJSON_AddStringToObject(o, "dtype", r->dtype);
        if (r->act[0]) /* as in bench results: only where the activations were rounded */
            cJSON_AddStringToObject(o, "act", r->act);
        cJSON_AddStringToObject(o, "verdict", tfb__cf_verdict_name(r->verdict));
        if (r->metric_name[0]) {
            cJSON_AddStringToObject(o, "metric", r->metric_name);
            add_number(o, "value", r->metric);
            add_number(o, "threshold", r->threshold);
        }
        cJSON_AddStringToObject(o, "detail", r->detail);
        cJSON_AddStringToObject(o, "repro", r->repro);
        cJSON_AddNumberToObject(o, "seconds", r->seconds);
        if (r->extra)
            cJSON_AddItemToObject(o, "figures", cJSON_Duplicate(r->extra, true));
        cJSON_AddItemToArray(arr, o);
    }
    cJSON *sum = cJSON_AddObjectToObject(root, "summary");
    for (int v = 0; v <= TFB_CF_ERROR; v++)
        cJSON_AddNumberToObject(sum, tfb__cf_verdict_name((tfb_cf_verdict)v), counts[v]);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", path);
    tfb_atomic_file af;
    tfb_status s = tfb_atomic_open(&af, path, force);
    if (s == TFB_STATUS_OK) {
        fputs(text, af.f);
        fputc('\n', af.f);
        s = tfb_atomic_commit(&af);
    }
    free(text);
    return s;
}

/* ---- JUnit
 * --------------------------------------------------------------------------------------------------- */

static void xml_escaped(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&apos;", f);
            break;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
                fputc(' ', f); /* not allowed in XML 1.0 */
            else
                fputc(*s, f);
        }
    }
}

tfb_status tfb__cf_write_junit(const char *path, bool force, const tfb_cf_args *a, const tfb_cf_report *rep) {
    const char *act = a->opts.act_q8 ? "q8" : "f32";
    tfb_atomic_file af;
    TFB_TRY(tfb_atomic_open(&af, path, force));
    FILE *f = af.f;
    int total = 0, fails = 0, errors = 0, skipped = 0;
    for (int i = 0; i < rep->n; i++) {
        tfb_cf_verdict v = rep->r[i].verdict;
        total++;
        fails += v == TFB_CF_FAIL;
        errors += v == TFB_CF_ERROR;
        skipped += v == TFB_CF_UNSUPPORTED || v == TFB_CF_UNAVAILABLE || v == TFB_CF_MISTRUSTED;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(
        f,
        "<testsuites name=\"tfbench conform\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\">\n",
        total, fails, errors, skipped);
    /* One testsuite per backend, in order of first appearance. */
    for (int i = 0; i < rep->n; i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(rep->r[j].backend, rep->r[i].backend) == 0;
        if (seen)
            continue;
        const char *b = rep->r[i].backend;
        int t = 0, fl = 0, er = 0, sk = 0;
        double secs = 0.0;
        for (int j = i; j < rep->n; j++) {
            const tfb_cf_result *r = &rep->r[j];
            if (strcmp(r->backend, b) != 0)
                continue;
            t++;
            fl += r->verdict == TFB_CF_FAIL;
            er += r->verdict == TFB_CF_ERROR;
            sk += r->verdict == TFB_CF_UNSUPPORTED || r->verdict == TFB_CF_UNAVAILABLE ||
                  r->verdict == TFB_CF_MISTRUSTED;
            secs += r->seconds;
        }
        fprintf(f, "  <testsuite name=\"");
        xml_escaped(f, b);
        fprintf(f, "%s\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
                a->opts.act_q8 ? " (act q8)" : "", t, fl, er, sk, secs);
        fprintf(f, "    <properties><property name=\"act\" value=\"%s\"/></properties>\n", act);
        for (int j = i; j < rep->n; j++) {
            const tfb_cf_result *r = &rep->r[j];
            if (strcmp(r->backend, b) != 0)
                continue;
            char dt[16];
            tfb__cf_dtype_label(r, dt, sizeof dt);
            fprintf(f, "    <testcase classname=\"");
            xml_escaped(f, r->backend);
            fprintf(f, ".%s.%s\" name=\"", r->kind, dt);
            xml_escaped(f, r->name);
            fprintf(f, " [%s]\" time=\"%.3f\">\n", dt, r->seconds);
            const char *tag = r->verdict == TFB_CF_FAIL    ? "failure"
                              : r->verdict == TFB_CF_ERROR ? "error"
                              : r->verdict == TFB_CF_UNSUPPORTED || r->verdict == TFB_CF_UNAVAILABLE ||
                                      r->verdict == TFB_CF_MISTRUSTED
                                  ? "skipped"
                                  : NULL;
            if (tag) {
                fprintf(f, "      <%s message=\"%s: ", tag, tfb__cf_verdict_name(r->verdict));
                xml_escaped(f, r->detail);
                fprintf(f, "\">");
                if (strcmp(tag, "skipped") != 0) {
                    xml_escaped(f, r->detail);
                    fprintf(f, "\nrepro: ");
                    xml_escaped(f, r->repro);
                }
                fprintf(f, "</%s>\n", tag);
            }
            fprintf(f, "      <system-out>");
            xml_escaped(f, r->repro);
            fprintf(f, "</system-out>\n    </testcase>\n");
        }
        fprintf(f, "  </testsuite>\n");
    }
    fprintf(f, "</testsuites>\n");
    return tfb_atomic_commit(&af);
}
