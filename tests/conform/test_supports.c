/* Per-node backend coverage (the supports slot) and `tfbench list --ops`:
 *   1. every compiled-in backend's supports slot returns false for an op it does not list (an op
 *      number past the last one, standing in for an op added to graph.h tomorrow): the allow-lists
 *      end in `default: return false`, so a new op is unsupported until a backend says otherwise;
 *   2. the wrapper refuses malformed nodes (an i32 weight, a head count that does not divide);
 *   3. per-node limits are declared before compute: opencl and vulkan take a head of 256 but not of
 *      512, onednn refuses q8_0/q4_0 weights, and the refusals reach conform's unsupported verdict
 *      through the same slot;
 *   4. the list --ops matrix (with f32 and with q8 activations) is what the slots say about the
 *      op-definition shapes, cell by cell, recomputed here from tfb_backend_supports.
 * Exit 0 when all hold, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opdef.h"

static int failures;

#define EXPECT(cond, ...)                                                                                    \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: expected %s: ", __FILE__, __LINE__, #cond);                              \
            fprintf(stderr, __VA_ARGS__);                                                                    \
            fprintf(stderr, "\n");                                                                           \
            failures++;                                                                                      \
        }                                                                                                    \
    } while (0)

/* An attention node of n_head heads of size d over a 16-row cache (no storage: supports needs none). */
typedef struct att_node {
    tfb_tensor q, k, v, out;
    tfb_node n;
} att_node;

static void make_att(att_node *a, int n_head, int64_t d) {
    memset(a, 0, sizeof *a);
    a->q = (tfb_tensor){.dtype = TFB_DTYPE_F32, .ndim = 2, .shape = {4, n_head * d}, .dyn_rows = true};
    a->k = (tfb_tensor){.dtype = TFB_DTYPE_F32, .ndim = 2, .shape = {16, n_head * d}};
    a->v = a->k;
    a->out = a->q;
    a->n = (tfb_node){.op = TFB_OP_ATTENTION, .in = {&a->q, &a->k, &a->v}, .out = &a->out, .n_head = n_head,
                      .mask = TFB_MASK_CAUSAL, .scale = 0.125f};
}

static void check_backend(tfb_backend *b) {
    const char *name = b->iface->name;
    /* 1. an op nobody lists: the slot itself must say no (the wrapper would refuse it earlier) */
    att_node a;
    make_att(&a, 2, 16);
    a.n.op = TFB_OP_COUNT;
    EXPECT(!b->iface->supports(b->ctx, &a.n), "%s: supports claims op %d, which no backend implements", name,
           (int)TFB_OP_COUNT);
    a.n.op = TFB_OP_ATTENTION;
    EXPECT(tfb_backend_supports(b, &a.n), "%s: a plain attention node is refused", name);
    /* 2. malformed nodes are refused by the wrapper everywhere */
    make_att(&a, 3, 16);
    a.q.shape[1] = a.out.shape[1] = a.k.shape[1] = a.v.shape[1] = 47;
    EXPECT(!tfb_backend_supports(b, &a.n), "%s: 3 heads over 47 columns accepted", name);
    tfb_tensor x = {.dtype = TFB_DTYPE_F32, .ndim = 2, .shape = {4, 64}, .dyn_rows = true}, out = x;
    tfb_tensor w = {.dtype = TFB_DTYPE_I32, .ndim = 2, .shape = {64, 64}};
    tfb_node mm = {.op = TFB_OP_MATMUL, .in = {&x, &w}, .out = &out};
    EXPECT(!tfb_backend_supports(b, &mm), "%s: an i32 weight accepted", name);
    /* 3. declared limits */
    make_att(&a, 2, 512);
    bool wide = tfb_backend_supports(b, &a.n);
    make_att(&a, 2, 256);
    bool d256 = tfb_backend_supports(b, &a.n);
    if (!strcmp(name, "opencl") || !strcmp(name, "vulkan")) {
        EXPECT(d256 && !wide, "%s: head size 256 %s, 512 %s (the kernel holds at most 256)", name,
               d256 ? "yes" : "no", wide ? "yes" : "no");
    } else {
        EXPECT(d256 && wide, "%s: head size limits it does not have", name);
    }
    w.dtype = TFB_DTYPE_Q4_0;
    bool q4 = tfb_backend_supports(b, &mm);
    if (!strcmp(name, "onednn"))
        EXPECT(!q4, "onednn claims q4_0 weights, which no oneDNN 2.6 primitive takes");
    else
        EXPECT(q4, "%s: q4_0 weights refused", name);
}

/* The expected cell, recomputed from the slots. */
static const char *expect_cell(tfb_backend *b, tfb_op op, tfb_dtype wt, char *buf, size_t len) {
    if (!b)
        return "unavailable";
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
        return "yes";
    if (yes == 0)
        return "no";
    snprintf(buf, len, "some %d/%d", yes, n);
    return buf;
}

/* Runs tfb_cli_list_ops into a temporary file and checks every row against the slots. */
static void check_matrix(const tfb_backend_opts *opts) {
    int nb = tfb_backend_count();
    tfb_backend *b[16] = {NULL};
    TFB_ASSERT(nb <= 16);
    for (int i = 0; i < nb; i++) {
        char why[256];
        if (tfb_backend_get(i)->probe(why, sizeof why) && tfb_backend_init(tfb_backend_get(i), opts, &b[i]) != TFB_STATUS_OK)
            b[i] = NULL;
    }
    FILE *f = tmpfile();
    TFB_ASSERT(f != NULL);
    tfb_cli_list_ops(f, opts);
    rewind(f);
    char line[512];
    int rows = 0, header = 0;
    bool seen[TFB_OP_COUNT][TFB_DTYPE_COUNT] = {{false}};
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *save = NULL, *tok = strtok_r(line, " ", &save);
        if (!tok)
            continue;
        if (!strcmp(tok, "op")) { /* the header: op dtype then the backends in registry order */
            header++;
            strtok_r(NULL, " ", &save);
            for (int i = 0; i < nb; i++) {
                char *col = strtok_r(NULL, " ", &save);
                EXPECT(col && !strcmp(col, tfb_backend_get(i)->name), "column %d is %s, not %s", i, col ? col : "-",
                       tfb_backend_get(i)->name);
            }
            continue;
        }
        tfb_op op;
        tfb_dtype wt;
        if (!tfb_op_parse(tok, &op))
            continue; /* the legend */
        char *dt = strtok_r(NULL, " ", &save);
        EXPECT(dt && tfb_dtype_parse(dt, &wt), "row %s: dtype %s", tok, dt ? dt : "-");
        if (!dt || !tfb_dtype_parse(dt, &wt))
            continue;
        rows++;
        seen[op][wt] = true;
        for (int i = 0; i < nb; i++) {
            char *got = strtok_r(NULL, " ", &save), buf[32];
            if (got && !strcmp(got, "some")) { /* "some k/n" is two words */
                char *kn = strtok_r(NULL, " ", &save);
                snprintf(buf, sizeof buf, "some %s", kn ? kn : "");
                got = buf;
            }
            char ebuf[32];
            const char *want = expect_cell(b[i], op, wt, ebuf, sizeof ebuf);
            EXPECT(got && !strcmp(got, want), "%s %s on %s: list --ops says '%s', the slot says '%s'", tfb_op_name(op),
                   tfb_dtype_name(wt), tfb_backend_get(i)->name, got ? got : "-", want);
        }
    }
    fclose(f);
    EXPECT(header == 1, "%d header lines", header);
    /* every op x dtype the op definition has shapes for is a row */
    for (int i = 0; i < tfb__opdef_count(); i++)
        for (int d = 0; d < TFB_DTYPE_COUNT; d++)
            if (tfb__opdef_applies(tfb__opdef_get(i), (tfb_dtype)d))
                EXPECT(seen[tfb__opdef_get(i)->op][d], "no row for %s %s", tfb_op_name(tfb__opdef_get(i)->op),
                       tfb_dtype_name((tfb_dtype)d));
    EXPECT(rows >= TFB_OP_COUNT, "%d rows", rows);
    for (int i = 0; i < nb; i++)
        tfb_backend_free(b[i]);
}

int main(void) {
    int n_checked = 0;
    for (int i = 0; i < tfb_backend_count(); i++) {
        const tfb_backend_i *iface = tfb_backend_get(i);
        char why[256];
        tfb_backend *b;
        if (!iface->probe(why, sizeof why) || tfb_backend_init(iface, NULL, &b) != TFB_STATUS_OK) {
            printf("%s: unavailable here, slot not checked\n", iface->name);
            continue;
        }
        check_backend(b);
        tfb_backend_free(b);
        n_checked++;
    }
    EXPECT(n_checked >= 1, "no backend could be checked");
    tfb_backend_opts f32 = {0}, q8 = {.act_q8 = true};
    check_matrix(&f32);
    check_matrix(&q8);
    printf("test_supports: %d backends checked, %d failures\n", n_checked, failures);
    return failures ? 1 : 0;
}
