/* report.html: the standard suite's one self-contained page (no file beside it is needed to read
 * it): the summary's tables, the conformance failures before the matrix, every figure of the report
 * folder inlined as SVG with a caption naming the machine, commit and date, and the environment
 * manifest. A short script at the end of the page counts the figures that have a size once laid out
 * and records it in <body data-figures="shown/total"> for tests (tests/report/html_chromium.sh). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static void esc(tfb_sbuf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n && s[i]; i++) {
        char c = s[i];
        if (c == '&')
            tfb_sbuf_printf(b, "&amp;");
        else if (c == '<')
            tfb_sbuf_printf(b, "&lt;");
        else if (c == '>')
            tfb_sbuf_printf(b, "&gt;");
        else if (c == '"')
            tfb_sbuf_printf(b, "&quot;");
        else if (c != '`')
            tfb_sbuf_printf(b, "%c", c);
    }
}

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* The summary's markdown: headings, tables (the |---| line dropped) and paragraphs. */
static void md_to_html(tfb_sbuf *b, const char *md) {
    bool in_table = false, head = false;
    for (const char *p = md; *p;) {
        size_t n = strcspn(p, "\n");
        bool row = n > 0 && p[0] == '|';
        if (in_table && !row)
            tfb_sbuf_printf(b, "</table>\n"), in_table = false;
        if (row && strncmp(p, "|---", 4) == 0) {
            head = false;
        } else if (row) {
            if (!in_table)
                tfb_sbuf_printf(b, "<table>\n"), in_table = true, head = true;
            tfb_sbuf_printf(b, "<tr>");
            const char *c = p + 1, *end = p + n;
            while (c < end) {
                size_t m = strcspn(c, "|\n");
                if (c + m > end)
                    m = (size_t)(end - c);
                while (m && c[0] == ' ')
                    c++, m--;
                size_t k = m;
                while (k && c[k - 1] == ' ')
                    k--;
                if (c + m < end || k) {
                    bool high = strstr(c, "(high)") && strstr(c, "(high)") < c + k;
                    tfb_sbuf_printf(b, "<%s%s>", head ? "th" : "td", high ? " class=\"high\"" : "");
                    esc(b, c, k);
                    tfb_sbuf_printf(b, "</%s>", head ? "th" : "td");
                }
                c += m + 1;
            }
            tfb_sbuf_printf(b, "</tr>\n");
        } else if (strncmp(p, "## ", 3) == 0 || strncmp(p, "# ", 2) == 0) {
            int h = p[1] == '#' ? 2 : 1;
            tfb_sbuf_printf(b, "<h%d>", h);
            esc(b, p + h + 1, n - (size_t)h - 1);
            tfb_sbuf_printf(b, "</h%d>\n", h);
        } else if (n) {
            tfb_sbuf_printf(b, "<p>");
            esc(b, p, n);
            tfb_sbuf_printf(b, "</p>\n");
        }
        p += n + (p[n] == '\n');
    }
    if (in_table)
        tfb_sbuf_printf(b, "</table>\n");
}

/* Conformance cases that failed, with their repro commands, before everything else. */
static void failures(tfb_sbuf *b, const cJSON *conform) {
    tfb_sbuf_printf(b, "<h2 id=\"failures\">Conformance failures</h2>\n");
    int n = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(conform, "results")) {
        const char *v = jstr(r, "verdict");
        if (strcmp(v, "FAIL") != 0 && strcmp(v, "ERROR") != 0)
            continue;
        if (n++ == 0)
            tfb_sbuf_printf(b, "<table class=\"fail\">\n<tr><th>backend</th><th>case</th><th>dtype</th>"
                               "<th>verdict</th><th>detail</th><th>repro</th></tr>\n");
        const char *cells[] = {jstr(r, "backend"), jstr(r, "case"), jstr(r, "dtype"), v,
                               jstr(r, "detail"),  jstr(r, "repro")};
        tfb_sbuf_printf(b, "<tr>");
        for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
            tfb_sbuf_printf(b, i == 5 ? "<td><code>" : "<td>");
            esc(b, cells[i], strlen(cells[i]));
            tfb_sbuf_printf(b, i == 5 ? "</code></td>" : "</td>");
        }
        tfb_sbuf_printf(b, "</tr>\n");
    }
    if (n)
        tfb_sbuf_printf(b, "</table>\n");
    else
        tfb_sbuf_printf(b, "<p>None: every case passed, was a near-tie, or is unsupported or unavailable "
                           "(the matrix below).</p>\n");
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every NAME.svg of dir, inlined without its XML prolog and doctype. */
static tfb_status figures(tfb_sbuf *b, const char *dir, const char *caption) {
    DIR *d = opendir(dir);
    if (!d)
        return tfb_error_set(TFB_STATUS_IO, "%s: cannot list the figures", dir);
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".svg") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    tfb_sbuf_printf(b, "<h2>Figures</h2>\n");
    tfb_status st = TFB_STATUS_OK;
    for (int i = 0; i < n; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        long len = -1;
        if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
            (buf = malloc((size_t)len + 1)) && fread(buf, 1, (size_t)len, f) == (size_t)len) {
            buf[len] = '\0';
            char *svg = strstr(buf, "<svg");
            tfb_sbuf_printf(b, "<figure class=\"tfb-fig\" id=\"fig-%.*s\">\n%s\n<figcaption>",
                            (int)strlen(names[i]) - 4, names[i], svg ? svg : "");
            esc(b, names[i], strlen(names[i]) - 4);
            tfb_sbuf_printf(b, ": %s</figcaption>\n</figure>\n", caption);
        } else {
            st = tfb_error_set(TFB_STATUS_IO, "%s: cannot read", path);
        }
        free(buf);
        if (f)
            fclose(f);
        free(names[i]);
    }
    if (n == 0)
        tfb_sbuf_printf(b, "<p>No figures (gnuplot did not render any).</p>\n");
    return st;
}

static void manifest(tfb_sbuf *b, const cJSON *env) {
    tfb_sbuf_printf(b, "<h2>Environment</h2>\n<table>\n");
    const cJSON *v;
    cJSON_ArrayForEach(v, env) {
        if (!v->string || cJSON_IsObject(v) || cJSON_IsArray(v))
            continue;
        char num[64];
        const char *s = cJSON_IsString(v) ? v->valuestring : num;
        snprintf(num, sizeof num, "%.15g", cJSON_IsNumber(v) ? v->valuedouble : 0.0);
        tfb_sbuf_printf(b, "<tr><th>");
        esc(b, v->string, strlen(v->string));
        tfb_sbuf_printf(b, "</th><td>");
        esc(b, s, strlen(s));
        tfb_sbuf_printf(b, "</td></tr>\n");
    }
    const cJSON *bk;
    cJSON_ArrayForEach(bk, cJSON_GetObjectItemCaseSensitive(env, "backends")) {
        const char *parts[] = {jstr(bk, "device"), jstr(bk, "driver"), jstr(bk, "api"), jstr(bk, "library")};
        tfb_sbuf_printf(b, "<tr><th>backend ");
        esc(b, bk->string, strlen(bk->string));
        tfb_sbuf_printf(b, "</th><td>");
        for (size_t i = 0; i < 4; i++) {
            if (i && parts[i][0])
                tfb_sbuf_printf(b, "; ");
            esc(b, parts[i], strlen(parts[i]));
        }
        tfb_sbuf_printf(b, "</td></tr>\n");
    }
    tfb_sbuf_printf(b, "</table>\n");
}

static const char style[] =
    "body{font-family:sans-serif;max-width:1300px;margin:1em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0;font-size:90%}"
    "th,td{border:1px solid #ccc;padding:2px 6px;text-align:left}th{background:#f3f3f3}"
    "td.high{background:#fff3cd}table.fail td{background:#fde2e2}"
    "figure{margin:1.5em 0}figure svg{max-width:100%;height:auto;display:block}"
    "figcaption{font-size:90%;color:#444}code{font-size:85%}";

tfb_status tfb_report_html(const char *path, const char *summary_md, const char *report_dir,
                           const cJSON *conform, const cJSON *results) {
    const cJSON *env = results ? cJSON_GetObjectItemCaseSensitive(results, "environment") : NULL;
    char caption[1024];
    snprintf(caption, sizeof caption, "%s (%s), tfbench %s, %s", env ? jstr(env, "cpu_model") : "?",
             env ? jstr(env, "hostname") : "?", env ? jstr(env, "git_commit") : "?",
             env ? jstr(env, "timestamp") : "?");
    tfb_sbuf b = {0};
    tfb_sbuf_printf(&b,
                    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<title>tfbench standard suite</title>\n<style>%s</style>\n</head>\n<body>\n",
                    style);
    tfb_sbuf_printf(&b, "<p>Machine: ");
    esc(&b, caption, strlen(caption));
    tfb_sbuf_printf(&b, "</p>\n");
    if (conform)
        failures(&b, conform);
    md_to_html(&b, summary_md);
    char cap[1200] = "";
    tfb_sbuf esc_cap = {0};
    esc(&esc_cap, caption, strlen(caption));
    snprintf(cap, sizeof cap, "%s", esc_cap.s ? esc_cap.s : "");
    tfb_sbuf_free(&esc_cap);
    tfb_status st = figures(&b, report_dir, cap);
    if (env)
        manifest(&b, env);
    tfb_sbuf_printf(&b, "<script>\n(function () {\n"
                        "  var figs = document.querySelectorAll('figure.tfb-fig'), shown = 0;\n"
                        "  for (var i = 0; i < figs.length; i++) {\n"
                        "    var s = figs[i].querySelector('svg'), r = s && s.getBoundingClientRect();\n"
                        "    if (r && r.width > 0 && r.height > 0) shown++;\n"
                        "  }\n"
                        "  document.body.setAttribute('data-figures', shown + '/' + figs.length);\n"
                        "})();\n</script>\n</body>\n</html>\n");
    if (st == TFB_STATUS_OK) { /* written whole or not at all */
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = fopen(tmp, "wb");
        bool ok = f && fputs(b.s, f) >= 0;
        ok = (f && fclose(f) == 0) && ok;
        if (!ok || rename(tmp, path) != 0) {
            remove(tmp);
            st = tfb_error_set(TFB_STATUS_IO, "%s: write failed", path);
        }
    }
    tfb_sbuf_free(&b);
    return st;
}
