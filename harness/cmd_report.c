/* tfbench report RESULTS.json... -o DIR [--format png,svg,pdf] [--force]
 *
 * Exit codes: 0 written and rendered; 2 bad usage, a bad input (missing file, invalid JSON, wrong
 * schema: nothing is written) or an existing output without --force; also 2 when gnuplot is not
 * found: the data, scripts, report.md and tables.tex are written and the message says how to render
 * them, but the figures report.md links are missing, so a script must not take it for success.
 * 1 when gnuplot ran and failed on a script. */
#include <string.h>

#include "cli.h"
#include "db.h"
#include "report.h"

int tfb_cmd_report(int argc, char **argv) {
    const char *inputs[256];
    int n_in = 0;
    tfb_report_opts o = {0};
    const char *formats = "png", *url = NULL, *refs[64];
    int n_refs = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool bad = false;
        if (tfb_cli_opt(argc, argv, &i, "-o", &v, &bad) || tfb_cli_opt(argc, argv, &i, "--out", &v, &bad))
            o.dir = v;
        else if (tfb_cli_opt(argc, argv, &i, "--format", &v, &bad))
            formats = v;
        else if (tfb_cli_opt(argc, argv, &i, "--db", &v, &bad))
            url = v;
        else if (tfb_cli_opt(argc, argv, &i, "--ref", &v, &bad)) {
            if (n_refs == 64)
                return tfb_cli_usage("--ref", "at most 64");
            refs[n_refs++] = v;
        } else if (bad)
            return TFB_EXIT_USAGE;
        else if (strcmp(argv[i], "--force") == 0)
            o.force = true;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: tfbench report RESULTS.json... -o DIR [--format png,svg,pdf] [--force]\n"
                   "       tfbench report --db URL [--ref REF]... -o DIR ...   runs of the results database (default:\n"
                   "                      the newest bench run of each machine)\n");
            return TFB_EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1])
            return tfb_cli_usage("report", "unknown option %s", argv[i]);
        else if (n_in == 256)
            return tfb_cli_usage("report", "too many inputs (at most 256)");
        else
            inputs[n_in++] = argv[i];
    }
    if (n_refs && !url)
        return tfb_cli_usage("--ref", "selects runs of a database: give --db URL");
    if (!n_in && !url)
        return tfb_cli_usage("report", "no input files (usage: tfbench report RESULTS.json... -o DIR)");
    if (!o.dir || !o.dir[0])
        return tfb_cli_usage("report", "-o DIR is required");
    for (const char *p = formats; *p;) {
        size_t n = strcspn(p, ",");
        if (n == 3 && strncmp(p, "png", 3) == 0)
            o.png = true;
        else if (n == 3 && strncmp(p, "svg", 3) == 0)
            o.svg = true;
        else if (n == 3 && strncmp(p, "pdf", 3) == 0)
            o.pdf = true;
        else
            return tfb_cli_usage("--format", "'%.*s' is not one of png, svg, pdf", (int)n, p);
        p += n + (p[n] == ',');
    }
    /* Database runs become results files in DIR/db-runs/, kept as the report's inputs and rendered
     * like any other file. */
    char **exported = NULL;
    int n_exp = 0;
    tfb_status st = TFB_STATUS_OK;
    if (url && (st = tfb_db_export(url, refs, n_refs, o.dir, o.force, &exported, &n_exp)) != TFB_STATUS_OK) {
        tfb_db_export_free(exported, n_exp);
        return tfb_cli_fail(st, "report");
    }
    for (int i = 0; i < n_exp && n_in < 256; i++)
        inputs[n_in++] = exported[i];
    o.inputs = inputs;
    o.n_inputs = n_in;
    st = tfb_report_write(&o);
    tfb_db_export_free(exported, n_exp);
    if (st == TFB_STATUS_OK)
        return TFB_EXIT_OK;
    return tfb_cli_fail(st, NULL);
}
