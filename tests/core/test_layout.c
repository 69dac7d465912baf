/* The activation layout (tfb_graph_layout): tensors whose lifetimes overlap never share bytes, the
 * caller's tensors (input, output, kept, unread) keep theirs for the whole graph, and a chain of
 * layers reuses memory. The lifetimes are recomputed here from the nodes, independently of
 * core/graph.c; the checker is shown to catch a layout that overlaps two live tensors. */
#include <stdio.h>
#include <stdlib.h>

#include "tests/check.h"
#include "tfbench/graph.h"

static int idx(const tfb_graph *g, const tfb_tensor *t) {
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i] == t)
            return i;
    return -1;
}

/* Number of pairs of tensors that share bytes while both live (0 for a sound layout). A tensor
 * lives from its first writer to its last use plus one node (a backend may fuse a node with the
 * next); the caller's tensors throughout. */
static int conflicts(const tfb_graph *g, size_t total) {
    int n = g->n_tensors, bad = 0;
    int lo[64], hi[64];
    bool read[64] = {0};
    TFB_ASSERT(n <= 64);
    for (int i = 0; i < n; i++)
        lo[i] = g->n_nodes, hi[i] = -1;
    for (int k = 0; k < g->n_nodes; k++) {
        int o = idx(g, g->nodes[k].out);
        if (o >= 0)
            lo[o] = lo[o] < k ? lo[o] : k, hi[o] = hi[o] > k ? hi[o] : k;
        for (int j = 0; j < TFB_MAX_INPUTS; j++) {
            int t = g->nodes[k].in[j] ? idx(g, g->nodes[k].in[j]) : -1;
            if (t >= 0)
                hi[t] = hi[t] > k ? hi[t] : k, read[t] = true;
        }
    }
    for (int i = 0; i < n; i++) {
        const tfb_tensor *t = g->tensors[i];
        if (t->keep || t == g->input || t == g->output || !read[i] || lo[i] == g->n_nodes)
            lo[i] = -1, hi[i] = g->n_nodes;
        CHECK(t->offset % 64 == 0 && t->offset + tfb_tensor_nbytes(t) <= total, "%s outside the layout", t->name);
    }
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            const tfb_tensor *a = g->tensors[i], *b = g->tensors[j];
            /* one node of slack: a backend may run a node and the next as one (fusion) */
            bool together = lo[i] <= hi[j] + 1 && lo[j] <= hi[i] + 1;
            bool share = a->offset < b->offset + tfb_tensor_nbytes(b) && b->offset < a->offset + tfb_tensor_nbytes(a);
            bad += together && share;
        }
    return bad;
}

/* A residual stack of L layers: x -> norm -> matmul-like chain -> add, with the input, a kept
 * mid-graph tensor and an unread side output. */
static size_t build(tfb_graph *g, int L, tfb_tensor **kept_out) {
    tfb_graph_init(g, 8);
    tfb_tensor *ids = tfb_graph_new_act(g, "ids", 0, 1, TFB_DTYPE_I32);
    tfb_tensor *x = tfb_graph_new_act(g, "x0", 0, 64, TFB_DTYPE_F32);
    g->input = ids;
    tfb_graph_add(g, TFB_OP_EMBED, x, ids, NULL, NULL, NULL);
    tfb_tensor *kept = NULL;
    for (int l = 0; l < L; l++) {
        char nm[32];
        snprintf(nm, sizeof nm, "n%d", l);
        tfb_tensor *h = tfb_graph_new_act(g, nm, 0, 64, TFB_DTYPE_F32);
        tfb_graph_add(g, TFB_OP_RMSNORM, h, x, NULL, NULL, NULL);
        snprintf(nm, sizeof nm, "u%d", l);
        tfb_tensor *u = tfb_graph_new_act(g, nm, 0, 256, TFB_DTYPE_F32);
        tfb_graph_add(g, TFB_OP_GELU, u, h, NULL, NULL, NULL);
        snprintf(nm, sizeof nm, "s%d", l);
        tfb_tensor *side = tfb_graph_new_act(g, nm, 0, 16, TFB_DTYPE_F32); /* nobody reads it */
        tfb_graph_add(g, TFB_OP_RELU, side, u, NULL, NULL, NULL);
        snprintf(nm, sizeof nm, "x%d", l + 1);
        tfb_tensor *y = tfb_graph_new_act(g, nm, 0, 64, TFB_DTYPE_F32);
        tfb_graph_add(g, TFB_OP_ADD, y, x, u, NULL, NULL);
        x = y;
        if (l == L / 2)
            kept = x, tfb_graph_keep(g, x);
    }
    tfb_tensor *out = tfb_graph_new_act(g, "out", 0, 64, TFB_DTYPE_F32);
    tfb_graph_add(g, TFB_OP_RMSNORM, out, x, NULL, NULL, NULL);
    g->output = out;
    *kept_out = kept;
    return tfb_graph_layout(g);
}

int main(void) {
    tfb_graph g;
    tfb_tensor *kept;
    size_t total = build(&g, 12, &kept), sum = 0;
    for (int i = 0; i < g.n_tensors; i++)
        sum += (tfb_tensor_nbytes(g.tensors[i]) + 63) & ~(size_t)63;
    CHECK(conflicts(&g, total) == 0, "live tensors share bytes");
    /* 12 layers: the unread side outputs (12 x 512 B) and the kept one stay; the chain reuses. */
    CHECK(total * 3 < sum, "no reuse: %zu of %zu bytes", total, sum);
    printf("layout: %zu bytes for %d tensors of %zu bytes in all\n", total, g.n_tensors, sum);
    /* The checker catches a planted overlap: the kept tensor moved onto a later layer's tensor. */
    tfb_tensor *late = g.tensors[g.n_tensors - 2];
    size_t saved = kept->offset;
    kept->offset = late->offset;
    CHECK(conflicts(&g, total) > 0, "a kept tensor sharing a later tensor's bytes went unseen");
    kept->offset = saved;
    /* ... and one that gives a node's output its input's bytes. */
    g.tensors[2]->offset = g.tensors[1]->offset;
    CHECK(conflicts(&g, total) > 0, "an output on its input's bytes went unseen");
    tfb_graph_free(&g);
    printf("%s: %d failure(s)\n", __FILE__, failures);
    return failures ? 1 : 0;
}
