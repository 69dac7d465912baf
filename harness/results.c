/* Results rows: summarise, serialise to JSON and CSV, parse back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"

static double *dup_doubles(const double *x, size_t n) {
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (d && n)
        memcpy(d, x, n * sizeof *d);
    return d;
}

tfb_result_row *tfb_results_add(tfb_results *r, const tfb_result_row *proto, const double *samples, size_t n) {
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        tfb_result_row *rows = realloc(r->rows, cap * sizeof *rows);
        if (!rows)
            return NULL;
        r->rows = rows;
        r->cap = cap;
    }
    tfb_result_row *row = &r->rows[r->n];
    *row = *proto;
    row->samples = dup_doubles(samples, n);
    if (!row->samples)
        return NULL;
    row->n_samples = n;
    row->device_s = NULL;
    row->n_device = 0;
    tfb_stats_compute(samples, n, row->rate, &row->st);
    if (strcmp(row->kind, "tg") != 0 && strcmp(row->kind, "scale_tg") != 0)
        row->p50 = row->p90 = row->p99 = NAN;
    r->n++;
    return row;
}

void tfb_results_set_device(tfb_result_row *row, const double *dev, size_t n) {
    free(row->device_s);
    row->device_s = n ? dup_doubles(dev, n) : NULL;
    row->n_device = row->device_s ? n : 0;
}

void tfb_results_free(tfb_results *r) {
    for (size_t i = 0; i < r->n; i++) {
        free(r->rows[i].samples);
        free(r->rows[i].device_s);
    }
    free(r->rows);
    cJSON_Delete(r->env);
    cJSON_Delete(r->skipped);
    memset(r, 0, sizeof *r);
}

cJSON *tfb_json_number(double v) {
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *number_array(const double *x, size_t n) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, tfb_json_number(x[i]));
    return a;
}

const char *tfb_result_dtype_label(const tfb_result_row *w, char *buf, size_t len) {
    snprintf(buf, len, "%s%s", w->dtype, w->act[0] ? "/a8" : "");
    return buf;
}

static cJSON *row_json(const tfb_result_row *w) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "backend", w->backend);
    cJSON_AddStringToObject(o, "model", w->model);
    cJSON_AddStringToObject(o, "dtype", w->dtype);
    if (w->act[0]) /* absent = f32 activations, as every file before --act */
        cJSON_AddStringToObject(o, "act", w->act);
    cJSON_AddNumberToObject(o, "threads", w->threads);
    cJSON_AddStringToObject(o, "test", w->test);
    cJSON_AddStringToObject(o, "kind", w->kind);
    cJSON_AddNumberToObject(o, "n_prompt", (double)w->n_prompt);
    cJSON_AddNumberToObject(o, "n_gen", (double)w->n_gen);
    cJSON_AddNumberToObject(o, "depth", (double)w->depth);
    cJSON_AddStringToObject(o, "metric", w->metric);
    cJSON_AddStringToObject(o, "unit", w->unit);
    cJSON_AddBoolToObject(o, "higher_is_better", w->higher_is_better);
    cJSON_AddStringToObject(o, "mean_kind", w->rate ? "harmonic" : "arithmetic");
    cJSON_AddItemToObject(o, "samples", number_array(w->samples, w->n_samples));
    cJSON_AddNumberToObject(o, "n", (double)w->st.n);
    cJSON_AddItemToObject(o, "median", tfb_json_number(w->st.median));
    cJSON_AddItemToObject(o, "mean", tfb_json_number(w->st.mean));
    cJSON_AddItemToObject(o, "stddev", tfb_json_number(w->st.stddev));
    cJSON_AddItemToObject(o, "ci95", tfb_json_number(w->st.ci95));
    cJSON_AddItemToObject(o, "cv", tfb_json_number(w->st.cv));
    cJSON_AddItemToObject(o, "min", tfb_json_number(w->st.min));
    cJSON_AddItemToObject(o, "max", tfb_json_number(w->st.max));
    cJSON_AddItemToObject(o, "device_time_s", w->device_s ? number_array(w->device_s, w->n_device) : cJSON_CreateNull());
    if (isfinite(w->ratio_lo) && isfinite(w->ratio_hi)) {
        cJSON *ci = cJSON_AddArrayToObject(o, "ratio_ci95");
        cJSON_AddItemToArray(ci, tfb_json_number(w->ratio_lo));
        cJSON_AddItemToArray(ci, tfb_json_number(w->ratio_hi));
    }
    if (isfinite(w->p50)) {
        cJSON *lat = cJSON_AddObjectToObject(o, "token_latency_s");
        cJSON_AddItemToObject(lat, "p50", tfb_json_number(w->p50));
        cJSON_AddItemToObject(lat, "p90", tfb_json_number(w->p90));
        cJSON_AddItemToObject(lat, "p99", tfb_json_number(w->p99));
    }
    return o;
}

char *tfb_results_to_json(const tfb_results *r) {
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "schema", TFB_RESULTS_SCHEMA);
    if (r->env)
        cJSON_AddItemReferenceToObject(doc, "environment", r->env);
    if (r->skipped)
        cJSON_AddItemReferenceToObject(doc, "skipped", r->skipped);
    else
        cJSON_AddArrayToObject(doc, "skipped");
    cJSON *rows = cJSON_AddArrayToObject(doc, "results");
    for (size_t i = 0; i < r->n; i++)
        cJSON_AddItemToArray(rows, row_json(&r->rows[i]));
    char *s = cJSON_Print(doc);
    cJSON_Delete(doc);
    return s;
}

static void csv_num(FILE *f, double v) {
    if (isfinite(v))
        fprintf(f, ",%.9g", v);
    else
        fputs(",", f);
}

void tfb_results_write_csv(const tfb_results *r, FILE *f) {
    fputs("backend,model,dtype,act,threads,test,kind,n_prompt,n_gen,depth,metric,unit,n,median,mean,stddev,ci95,cv,"
          "min,max,p50,p90,p99,samples\n",
          f);
    for (size_t i = 0; i < r->n; i++) {
        const tfb_result_row *w = &r->rows[i];
        fprintf(f, "%s,%s,%s,%s,%d,%s,%s,%lld,%lld,%lld,%s,%s,%zu", w->backend, w->model, w->dtype, w->act,
                w->threads, w->test, w->kind, (long long)w->n_prompt, (long long)w->n_gen, (long long)w->depth,
                w->metric, w->unit, w->st.n);
        csv_num(f, w->st.median);
        csv_num(f, w->st.mean);
        csv_num(f, w->st.stddev);
        csv_num(f, w->st.ci95);
        csv_num(f, w->st.cv);
        csv_num(f, w->st.min);
        csv_num(f, w->st.max);
        csv_num(f, w->p50);
        csv_num(f, w->p90);
        csv_num(f, w->p99);
        fputs(",\"", f); /* samples separated by spaces in one quoted field */
        for (size_t k = 0; k < w->n_samples; k++)
            fprintf(f, "%s%.9g", k ? " " : "", w->samples[k]);
        fputs("\"\n", f);
    }
}

/* ---- reading ---------------------------------------------------------------------------------- */

static bool get_str(const cJSON *o, const char *k, char *dst, size_t len) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsString(v))
        return false;
    snprintf(dst, len, "%s", v->valuestring);
    return true;
}

static bool get_num(const cJSON *o, const char *k, double *dst) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v))
        return false;
    *dst = v->valuedouble;
    return true;
}

tfb_status tfb_results_read(const char *path, tfb_results *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return tfb_error_set(TFB_STATUS_IO, "%s: cannot open", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) {
        free(text);
        fclose(f);
        return tfb_error_set(TFB_STATUS_IO, "%s: read failed", path);
    }
    fclose(f);
    text[len] = '\0';
    cJSON *doc = cJSON_Parse(text);
    free(text);
    if (!doc)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: not valid JSON", path);
    tfb_status st = TFB_STATUS_OK;
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(doc, "results");
    if (!cJSON_IsString(schema) || strcmp(schema->valuestring, TFB_RESULTS_SCHEMA) != 0) {
        st = tfb_error_set(TFB_STATUS_INPUT, "%s: not a %s file", path, TFB_RESULTS_SCHEMA);
        goto done;
    }
    if (!cJSON_IsArray(rows)) {
        st = tfb_error_set(TFB_STATUS_INPUT, "%s: no \"results\" array", path);
        goto done;
    }
    /* The manifest travels with the rows (import stores it in the results database). */
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(doc, "environment");
    if (cJSON_IsObject(env))
        out->env = cJSON_Duplicate(env, true);
    int idx = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, rows) {
        tfb_result_row w;
        memset(&w, 0, sizeof w);
        double threads = 0, np = 0, ng = 0, depth = 0;
        const cJSON *hib = cJSON_GetObjectItemCaseSensitive(o, "higher_is_better");
        const cJSON *mk = cJSON_GetObjectItemCaseSensitive(o, "mean_kind");
        const cJSON *samples = cJSON_GetObjectItemCaseSensitive(o, "samples");
        if (!get_str(o, "backend", w.backend, sizeof w.backend) || !get_str(o, "model", w.model, sizeof w.model) ||
            !get_str(o, "dtype", w.dtype, sizeof w.dtype) || !get_num(o, "threads", &threads) ||
            !get_str(o, "test", w.test, sizeof w.test) || !get_str(o, "kind", w.kind, sizeof w.kind) ||
            !get_num(o, "n_prompt", &np) || !get_num(o, "n_gen", &ng) || !get_num(o, "depth", &depth) ||
            !get_str(o, "metric", w.metric, sizeof w.metric) || !get_str(o, "unit", w.unit, sizeof w.unit) ||
            !cJSON_IsBool(hib) || !cJSON_IsString(mk) || !cJSON_IsArray(samples)) {
            st = tfb_error_set(TFB_STATUS_INPUT, "%s: results[%d]: missing or mistyped field", path, idx);
            goto done;
        }
        /* act: optional, "q8" only (docs/results-schema.md); anything else would pair rows wrongly. */
        const cJSON *act = cJSON_GetObjectItemCaseSensitive(o, "act");
        if (act && (!cJSON_IsString(act) || strcmp(act->valuestring, "q8") != 0)) {
            st = tfb_error_set(TFB_STATUS_INPUT, "%s: results[%d]: \"act\" must be \"q8\" when present", path,
                               idx);
            goto done;
        }
        if (act)
            snprintf(w.act, sizeof w.act, "q8");
        w.threads = (int)threads;
        w.n_prompt = (int64_t)np;
        w.n_gen = (int64_t)ng;
        w.depth = (int64_t)depth;
        w.higher_is_better = cJSON_IsTrue(hib);
        w.rate = strcmp(mk->valuestring, "harmonic") == 0;
        w.p50 = w.p90 = w.p99 = NAN;
        w.ratio_lo = w.ratio_hi = NAN;
        const cJSON *rci = cJSON_GetObjectItemCaseSensitive(o, "ratio_ci95");
        if (cJSON_GetArraySize(rci) == 2 && cJSON_IsNumber(cJSON_GetArrayItem(rci, 0)) &&
            cJSON_IsNumber(cJSON_GetArrayItem(rci, 1))) {
            w.ratio_lo = cJSON_GetArrayItem(rci, 0)->valuedouble;
            w.ratio_hi = cJSON_GetArrayItem(rci, 1)->valuedouble;
        }
        int ns = cJSON_GetArraySize(samples);
        double *x = malloc((size_t)(ns ? ns : 1) * sizeof *x);
        if (!x) {
            st = tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
            goto done;
        }
        int k = 0;
        const cJSON *s;
        cJSON_ArrayForEach(s, samples) {
            if (!cJSON_IsNumber(s)) {
                free(x);
                st = tfb_error_set(TFB_STATUS_INPUT, "%s: results[%d]: a sample is not a number", path, idx);
                goto done;
            }
            x[k++] = s->valuedouble;
        }
        tfb_result_row *added = tfb_results_add(out, &w, x, (size_t)k);
        free(x);
        if (!added) {
            st = tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
            goto done;
        }
        /* Device times, when every one is a number (import stores them beside the samples). */
        const cJSON *dev = cJSON_GetObjectItemCaseSensitive(o, "device_time_s"), *d;
        int nd = cJSON_IsArray(dev) ? cJSON_GetArraySize(dev) : 0;
        double *dx = nd ? malloc((size_t)nd * sizeof *dx) : NULL;
        int kd = 0;
        if (dx) {
            cJSON_ArrayForEach(d, dev) {
                if (cJSON_IsNumber(d))
                    dx[kd++] = d->valuedouble;
            }
        }
        if (dx && kd == nd)
            tfb_results_set_device(added, dx, (size_t)kd);
        free(dx);
        idx++;
    }
done:
    cJSON_Delete(doc);
    if (st != TFB_STATUS_OK)
        tfb_results_free(out);
    return st;
}
