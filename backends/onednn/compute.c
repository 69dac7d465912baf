/* Running a graph: a per-graph plan made once (which activation follows which MATMUL and can be
 * fused into it as an eltwise post-op), then one call per node into ops_*.c. */
#include <stdlib.h>
#include <string.h>

#include "backends/onednn/onednn.h"
#include "backends/planted.h"
#include "core/clock.h"

void tfb__dnn_node_reset(dnn_node *s) {
    for (int i = 0; i < 6; i++)
        if (s->mem[i])
            dnnl_memory_destroy(s->mem[i]);
    memset(s->mem, 0, sizeof s->mem);
    s->rows = 0;
}

static bool reads(const tfb_node *n, const tfb_tensor *t) {
    for (int i = 0; i < TFB_MAX_INPUTS; i++)
        if (n->in[i] == t)
            return true;
    return false;
}

/* True if only node `keep` (besides its producer) reads t and the caller does not read it either. */
static bool only_reader(const tfb_graph *g, const tfb_tensor *t, int producer, int keep) {
    if (t == g->output)
        return false;
    for (int j = 0; j < g->n_nodes; j++)
        if (j != producer && j != keep && reads(&g->nodes[j], t))
            return false;
    return true;
}

/* MATMUL i followed by an activation on its output, or by the residual ADD of its output and an
 * earlier tensor: the next node becomes a post-op of the matmul (eltwise or binary add) and is
 * skipped, unless anything else reads the matmul's output (another node, or the caller as the
 * graph's output). Then each remaining MATMUL whose output only a KV_WRITE reads writes the cache
 * directly (plan_kv). */
/* Index of the only node reading t (besides its producer), or -1 if none or several, or if the
 * caller reads t as the graph's output. */
static int sole_reader(const tfb_graph *g, const tfb_tensor *t, int producer) {
    if (t == g->output)
        return -1;
    int r = -1;
    for (int j = 0; j < g->n_nodes; j++)
        if (j != producer && reads(&g->nodes[j], t)) {
            if (r >= 0)
                return -1;
            r = j;
        }
    return r;
}

/* MATMUL i whose output only a later KV_WRITE copies into a cache (GPT-2's K and V projections):
 * the matmul writes the cache rows itself and the copy is skipped, provided no node in between
 * touches the cache and the copy covers exactly the matmul's rows. */
static void plan_kv(const tfb_graph *g, dnn_graph *dg, int i) {
    const tfb_node *m = &g->nodes[i];
    int w = sole_reader(g, m->out, i);
    if (w <= i || dg->nodes[i].dst != m->out)
        return;
    const tfb_node *kv = &g->nodes[w];
    if (kv->op != TFB_OP_KV_WRITE || kv->in[0] != m->out || kv->out->shape[1] != m->out->shape[1] ||
        m->out->dyn_rows != m->in[0]->dyn_rows)
        return;
    for (int j = i + 1; j < w; j++)
        if (reads(&g->nodes[j], kv->out) || g->nodes[j].out == kv->out)
            return;
    dg->nodes[i].dst = kv->out;
    dg->nodes[i].kv = kv;
    dg->nodes[w].skip = true;
}

static void plan(const tfb_graph *g, dnn_graph *dg) {
    for (int i = 0; i < g->n_nodes; i++)
        dg->nodes[i].dst = g->nodes[i].out;
    for (int i = 0; i + 1 < g->n_nodes; i++) {
        const tfb_node *m = &g->nodes[i], *a = &g->nodes[i + 1];
        if (m->op != TFB_OP_MATMUL || m->out->dyn_rows != a->out->dyn_rows)
            continue;
        bool fusable = only_reader(g, m->out, i, i + 1);
#ifdef TFB_TEST_FAULTS
        fusable = fusable || tfb__planted("onednn-fuse"); /* test builds only: though read elsewhere */
#endif
        if (!fusable)
            continue;
        float alpha;
        if (a->in[0] == m->out && tfb__dnn_act_alg(a->op, &alpha) != 0) {
            dg->nodes[i].post_alg = tfb__dnn_act_alg(a->op, &alpha);
        } else if (a->op == TFB_OP_ADD && (a->in[0] == m->out) != (a->in[1] == m->out)) {
            tfb_tensor *other = a->in[0] == m->out ? a->in[1] : a->in[0];
            if (other == a->out || other->dyn_rows != m->out->dyn_rows)
                continue;
            dg->nodes[i].resid = other;
        } else {
            continue;
        }
        dg->nodes[i].dst = a->out;
        dg->nodes[i + 1].skip = true;
        i++;
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == TFB_OP_MATMUL && !dg->nodes[i].skip)
            plan_kv(g, dg, i);
}

static tfb_status graph_state(dnn_ctx *c, tfb_graph *g, dnn_graph **out) {
    dnn_graph *dg = g->backend_data;
    if (dg && dg->n_nodes == g->n_nodes) {
        *out = dg;
        return TFB_STATUS_OK;
    }
    if (dg)
        tfb__dnn_graph_release(c, g);
    dg = calloc(1, sizeof *dg);
    if (!dg || !(dg->nodes = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *dg->nodes))) {
        free(dg);
        return tfb_error_set(TFB_STATUS_NOMEM, "onednn: out of memory");
    }
    dg->n_nodes = g->n_nodes;
    plan(g, dg);
    g->backend_data = dg;
    *out = dg;
    return TFB_STATUS_OK;
}

void tfb__dnn_graph_release(dnn_ctx *c, tfb_graph *g) {
    (void)c;
    dnn_graph *dg = g->backend_data;
    if (!dg)
        return;
    for (int i = 0; i < dg->n_nodes; i++)
        tfb__dnn_node_reset(&dg->nodes[i]);
    free(dg->nodes);
    free(dg->scores);
    free(dg->scratch);
    free(dg->tasks);
    free(dg);
    g->backend_data = NULL;
}

tfb_status tfb__dnn_compute(dnn_ctx *c, tfb_graph *g) {
    dnn_graph *dg = NULL;
    TFB_TRY(graph_state(c, g, &dg));
    for (int i = 0; i < g->n_nodes; i++) {
        const tfb_node *n = &g->nodes[i];
        dnn_node *s = &dg->nodes[i];
        if (s->skip)
            continue;
        double t0 = c->op_prof ? tfb__now() : 0.0;
        switch (n->op) {
        case TFB_OP_MATMUL: TFB_TRY(tfb__dnn_matmul(c, g, n, s)); break;
        case TFB_OP_LAYERNORM: TFB_TRY(tfb__dnn_layernorm(c, g, n, s)); break;
        case TFB_OP_SOFTMAX: TFB_TRY(tfb__dnn_softmax(c, g, n, s)); break;
        case TFB_OP_GELU:
        case TFB_OP_GELU_TANH:
        case TFB_OP_RELU:
        case TFB_OP_SILU: TFB_TRY(tfb__dnn_eltwise(c, g, n, s)); break;
        case TFB_OP_SCALE: TFB_TRY(tfb__dnn_eltwise(c, g, n, s)); break;
        case TFB_OP_ADD:
        case TFB_OP_MUL: TFB_TRY(tfb__dnn_binary(c, g, n, s)); break;
        case TFB_OP_ATTENTION: TFB_TRY(tfb__dnn_attention(c, g, dg, n)); break;
        case TFB_OP_EMBED:
        case TFB_OP_KV_WRITE:
        case TFB_OP_LAST_ROW:
        case TFB_OP_ARGMAX:
        case TFB_OP_RMSNORM:
        case TFB_OP_ROPE:
            /* Host code reads what the primitives before it wrote. */
            DNNL_CHECK(dnnl_stream_wait(c->stream));
            tfb__dnn_host_node(g, n);
            break;
        default: return tfb_error_set(TFB_STATUS_UNSUPPORTED, "onednn: op %s", tfb_op_name(n->op));
        }
        if (c->op_prof) { /* the primitives run on the stream: wait for this node's to end */
            DNNL_CHECK(dnnl_stream_wait(c->stream));
            c->op_secs[n->op] += tfb__now() - t0;
        }
    }
    return TFB_STATUS_OK;
}
