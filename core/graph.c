/* Graph construction and the activation layout; the relative position bucket. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfbench/graph.h"

static const char *const op_names[TFB_OP_COUNT] = {
#define TFB_OP_STR_(name, str) str,
    TFB_OP_MAP(TFB_OP_STR_)
#undef TFB_OP_STR_
};

const char *tfb_op_name(tfb_op op) {
    return (unsigned)op < TFB_OP_COUNT ? op_names[op] : "?";
}

bool tfb_op_parse(const char *name, tfb_op *out) {
    for (int i = 0; i < TFB_OP_COUNT; i++) {
        if (strcmp(name, op_names[i]) == 0) {
            *out = (tfb_op)i;
            return true;
        }
    }
    return false;
}

int64_t tfb_graph_rows(const tfb_graph *g, const tfb_tensor *t) {
    return t->dyn_rows ? g->params.n_rows : t->shape[0];
}

void tfb_graph_init(tfb_graph *g, int64_t max_rows) {
    memset(g, 0, sizeof *g);
    g->max_rows = max_rows;
    g->params.n_rows = 1;
}

void tfb_graph_free(tfb_graph *g) {
    for (int i = 0; i < g->n_tensors; i++)
        free(g->tensors[i]);
    free(g->tensors);
    free(g->nodes);
    memset(g, 0, sizeof *g);
}

static void *grow(void *p, int *cap, size_t elem) {
    int ncap = *cap ? *cap * 2 : 64;
    void *q = realloc(p, (size_t)ncap * elem);
    TFB_ASSERT(q != NULL);
    *cap = ncap;
    return q;
}

tfb_tensor *tfb_graph_new_act(tfb_graph *g, const char *name, int64_t rows, int64_t cols, tfb_dtype dt) {
    if (g->n_tensors == g->cap_tensors)
        g->tensors = grow(g->tensors, &g->cap_tensors, sizeof *g->tensors);
    tfb_tensor *t = calloc(1, sizeof *t);
    TFB_ASSERT(t != NULL);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dt;
    t->ndim = 2;
    t->dyn_rows = rows <= 0;
    t->shape[0] = rows > 0 ? rows : g->max_rows;
    t->shape[1] = cols;
    g->tensors[g->n_tensors++] = t;
    return t;
}

tfb_node *tfb_graph_add(tfb_graph *g, tfb_op op, tfb_tensor *out, tfb_tensor *a, tfb_tensor *b, tfb_tensor *c,
                        tfb_tensor *d) {
    TFB_ASSERT(out != NULL);
    if (g->n_nodes == g->cap_nodes)
        g->nodes = grow(g->nodes, &g->cap_nodes, sizeof *g->nodes);
    tfb_node *n = &g->nodes[g->n_nodes++];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->out = out;
    n->in[0] = a;
    n->in[1] = b;
    n->in[2] = c;
    n->in[3] = d;
    n->scale = 1.0f;
    return n;
}

size_t tfb_graph_layout(tfb_graph *g) {
    size_t off = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        g->tensors[i]->offset = off;
        off += (tfb_tensor_nbytes(g->tensors[i]) + 63) & ~(size_t)63;
    }
    return off;
}

int32_t tfb_rel_bucket(int64_t rel, int64_t num_buckets, int64_t max_distance, bool bidirectional) {
    int64_t bucket = 0, n = num_buckets;
    if (bidirectional) {
        n /= 2;
        if (rel > 0)
            bucket += n;
        rel = rel < 0 ? -rel : rel;
    } else {
        rel = rel < 0 ? -rel : 0;
    }
    int64_t max_exact = n / 2;
    if (rel < max_exact)
        return (int32_t)(bucket + rel);
    /* torch: log(rel.float() / max_exact) / math.log(max_distance / max_exact) * (n - max_exact), all
     * float32, then truncated toward zero. */
    float f = logf((float)rel / (float)max_exact) / (float)log((double)max_distance / (double)max_exact) *
              (float)(n - max_exact);
    int64_t large = max_exact + (int64_t)f;
    if (large > n - 1)
        large = n - 1;
    return (int32_t)(bucket + large);
}
