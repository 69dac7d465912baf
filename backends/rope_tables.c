/* The device backends' rotary table slots (rope_tables.h). */
#include <stdlib.h>

#include "backends/rope_tables.h"

static int64_t head_size(const tfb_node *n) {
    return n->in[0]->shape[1] / n->n_head;
}

int tfb_rope_tables_find(const tfb_rope_tables *t, const tfb_node *n) {
    for (int k = 0; k < TFB_ROPE_SLOTS; k++)
        if (t->slot[k].cap > 0 && t->slot[k].theta == n->rope_theta && t->slot[k].d == head_size(n))
            return k;
    return -1;
}

static tfb_status fill(tfb_rope_tables *t, int k, float theta, int64_t d, int64_t cap, const tfb_rope_dev *dev,
                       void *ctx) {
    int64_t half = d / 2;
    size_t n = (size_t)(cap * half * 2);
    float *cs = malloc(n * sizeof *cs); // [cap][D/2][cos, sin]
    if (!cs)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: rope: out of host memory for a %zu-byte table", dev->name,
                             n * sizeof *cs);
    for (int64_t p = 0; p < cap; p++)
        tfb_rope_cos_sin(theta, d, p, cs + p * half * 2, cs + p * half * 2 + 1, 2);
    t->slot[k].cap = 0; /* free until stored */
    t->gen++;
    tfb_status s = dev->store(ctx, k, cs, n * sizeof *cs);
    free(cs);
    if (s == TFB_STATUS_OK) {
        t->slot[k].theta = theta;
        t->slot[k].d = d;
        t->slot[k].cap = cap;
    }
    return s;
}

tfb_status tfb_rope_tables_prepare(tfb_rope_tables *t, const tfb_graph *g, const tfb_rope_dev *dev, void *ctx) {
    for (int i = 0; i < g->n_nodes; i++) {
        const tfb_node *n = &g->nodes[i];
        if (n->op != TFB_OP_ROPE)
            continue;
        int64_t need = g->params.pos + tfb_graph_rows(g, n->in[0]), cap = 256;
        while (cap < need)
            cap *= 2;
        int k = tfb_rope_tables_find(t, n);
        if (k >= 0 && t->slot[k].cap >= need)
            continue;
        for (int j = 0; j < TFB_ROPE_SLOTS && k < 0; j++)
            if (t->slot[j].cap == 0)
                k = j;
        if (k < 0) { /* all taken: replace one */
            k = t->next;
            t->next = (t->next + 1) % TFB_ROPE_SLOTS;
        }
        TFB_TRY(fill(t, k, n->rope_theta, head_size(n), cap, dev, ctx));
    }
    /* A graph with more distinct (theta, D) than slots would have replaced its own tables. */
    for (int i = 0; i < g->n_nodes; i++) {
        const tfb_node *n = &g->nodes[i];
        if (n->op == TFB_OP_ROPE && tfb_rope_tables_find(t, n) < 0)
            return tfb_error_set(TFB_STATUS_UNSUPPORTED, "%s: rope: more than %d (theta, head size) pairs in one graph",
                                 dev->name, TFB_ROPE_SLOTS);
    }
    return TFB_STATUS_OK;
}

void tfb_rope_tables_free(tfb_rope_tables *t, const tfb_rope_dev *dev, void *ctx) {
    for (int k = 0; k < TFB_ROPE_SLOTS; k++)
        if (t->slot[k].cap > 0)
            dev->drop(ctx, k);
    *t = (tfb_rope_tables){0};
}
