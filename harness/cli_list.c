/* `tfbench list`: every backend compiled in, available or why not, with device and versions, and
 * which activation numerics it offers (--act); `tfbench list --ops`: what each covers, op by op. */
#include <string.h>

#include "cli.h"
#include "opdef.h"

/* ---- list --ops ------------------------------------------------------------------------------------ */

#define MAX_BACKENDS 16

/* The cell for backend b (NULL: unavailable), op and dtype: how many of the op-definition shapes of
 * (op, wt) its supports slot takes. */
static void cell(tfb_backend *b, tfb_op op, tfb_dtype wt, char *buf, size_t len) {
    if (!b) {
        snprintf(buf, len, "unavailable");
        return;
    }
    int n = 0, yes = 0;
    for (int i = 0; i < tfb__opdef_count(); i++) {
        const tfb_opdef_case *c = tfb__opdef_get(i);
        if (c->op != op || !tfb__opdef_applies(c, wt))
            continue;
        tfb_opdef_node on;
        tfb__opdef_node(c, wt, &on);
        n++;
        yes += tfb_backend_supports(b, &on.node);
    }
    if (yes == n)
        snprintf(buf, len, "yes");
    else if (yes == 0)
        snprintf(buf, len, "no");
    else
        snprintf(buf, len, "some %d/%d", yes, n);
}

void tfb_cli_list_ops(FILE *f, const tfb_backend_opts *opts) {
    tfb_backend *b[MAX_BACKENDS] = {NULL};
    int nb = tfb_backend_count() < MAX_BACKENDS ? tfb_backend_count() : MAX_BACKENDS;
    for (int i = 0; i < nb; i++) {
        const tfb_backend_i *iface = tfb_backend_get(i);
        char why[256] = "";
        if (iface->probe(why, sizeof why) && tfb_backend_init(iface, opts, &b[i]) != TFB_STATUS_OK)
            b[i] = NULL;
    }
    fprintf(f, "coverage: each backend's supports slot asked about every op-definition shape of the op and "
               "weight dtype\n(yes: all of them, some k/n: k of n, no: none)%s\n",
            opts->act_q8 ? "; --act q8: q8_0/q4_0 matmuls round their activations to 8 bits" : "");
    fprintf(f, "%-10s %-6s", "op", "dtype");
    for (int i = 0; i < nb; i++)
        fprintf(f, i + 1 < nb ? " %-12s" : " %s", tfb_backend_get(i)->name);
    fprintf(f, "\n");
    for (int op = 0; op < TFB_OP_COUNT; op++) {
        for (int d = 0; d < TFB_DTYPE_COUNT; d++) {
            bool any = false; /* the op has shapes at this dtype */
            for (int i = 0; i < tfb__opdef_count() && !any; i++)
                any = tfb__opdef_get(i)->op == (tfb_op)op && tfb__opdef_applies(tfb__opdef_get(i), (tfb_dtype)d);
            if (!any)
                continue;
            fprintf(f, "%-10s %-6s", tfb_op_name((tfb_op)op), tfb_dtype_name((tfb_dtype)d));
            for (int i = 0; i < nb; i++) {
                char c[32];
                cell(b[i], (tfb_op)op, (tfb_dtype)d, c, sizeof c);
                fprintf(f, i + 1 < nb ? " %-12s" : " %s", c);
            }
            fprintf(f, "\n");
        }
    }
    for (int i = 0; i < nb; i++)
        tfb_backend_free(b[i]);
}

int tfb_cmd_list(int argc, char **argv) {
    tfb_backend_opts opts = {0};
    bool ops = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ops") == 0) {
            ops = true;
            continue;
        }
        int r = tfb_cli_backend_opt(argc, argv, &i, &opts);
        if (r >= 100)
            return r - 100;
        if (r == 0)
            return tfb_cli_usage("list", "unknown option '%s'", argv[i]);
    }
    if (ops) {
        tfb_cli_list_ops(stdout, &opts);
        return 0;
    }
    printf("%-10s %-11s %s\n", "backend", "status", "device / reason");
    for (int i = 0; i < tfb_backend_count(); i++) {
        const tfb_backend_i *iface = tfb_backend_get(i);
        char why[256] = "";
        if (!iface->probe(why, sizeof why)) {
            printf("%-10s %-11s %s\n", iface->name, "unavailable", why);
            continue;
        }
        tfb_backend *b;
        tfb_status s = tfb_backend_init(iface, &opts, &b);
        if (s != TFB_STATUS_OK) {
            printf("%-10s %-11s %s\n", iface->name, "unavailable", tfb_error_last());
            continue;
        }
        tfb_device_info info;
        tfb_backend_device_info(b, &info);
        printf("%-10s %-11s %s\n", iface->name, "available", info.device);
        if (info.driver[0])
            printf("%-22s driver: %s\n", "", info.driver);
        if (info.api[0])
            printf("%-22s api: %s\n", "", info.api);
        if (info.library[0])
            printf("%-22s library: %s\n", "", info.library);
        if (info.extra[0])
            printf("%-22s %s\n", "", info.extra);
        if (info.mem_total >= 0)
            printf("%-22s memory: %.1f GiB\n", "", (double)info.mem_total / (1 << 30));
        /* ci/conform-matrix.sh reads this line to pick the backends for its --act q8 pass. */
        if (iface->act_q8)
            printf("%-22s act: f32, q8\n", "");
        else
            printf("%-22s act: f32 only (with --act q8 its q8_0/q4_0 matmuls are unsupported)\n", "");
        tfb_backend_free(b);
    }
    return 0;
}
