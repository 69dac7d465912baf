/* Graph construction and the activation layout; the relative position bucket. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
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
    void *q = tfb__grow(p, cap, elem);
    TFB_ASSERT(q != NULL);
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

/* ---- the activation layout ---------------------------------------------------------------------- */

/* A graph holds every activation of every layer for its rows; giving each its own bytes made a
 * 256-row llama2-7b decoder graph ask for gigabytes and spread a prefill's working set far past the
 * caches. Tensors whose lifetimes do not overlap share bytes instead. A tensor lives from the first
 * node that writes it to the last node that reads or writes it; the graph's input, its output, the
 * tensors marked kept, and tensors no node writes or no node reads (the caller's) live throughout. A
 * node's output never shares bytes with its inputs or the previous node's (fusion: see the loop). */

typedef struct span {
    size_t off, size;
} span;

typedef struct arena {
    span *free; /* free spans below top, sorted by offset, never adjacent */
    int n, cap;
    size_t top; /* bytes used so far: the layout's size */
} arena;

static size_t arena_take(arena *a, size_t size) {
    int best = -1;
    for (int i = 0; i < a->n; i++) /* best fit: the smallest free span that holds it */
        if (a->free[i].size >= size && (best < 0 || a->free[i].size < a->free[best].size))
            best = i;
    if (best >= 0) {
        size_t off = a->free[best].off;
        a->free[best].off += size;
        a->free[best].size -= size;
        if (a->free[best].size == 0) {
            memmove(&a->free[best], &a->free[best + 1], (size_t)(a->n - best - 1) * sizeof *a->free);
            a->n--;
        }
        return off;
    }
    if (a->n > 0 && a->free[a->n - 1].off + a->free[a->n - 1].size == a->top) { /* grow the last span */
        size_t off = a->free[--a->n].off;
        a->top = off + size;
        return off;
    }
    size_t off = a->top;
    a->top += size;
    return off;
}

static void arena_give(arena *a, size_t off, size_t size) {
    int i = 0;
    while (i < a->n && a->free[i].off < off)
        i++;
    bool left = i > 0 && a->free[i - 1].off + a->free[i - 1].size == off;
    bool right = i < a->n && off + size == a->free[i].off;
    if (left && right) {
        a->free[i - 1].size += size + a->free[i].size;
        memmove(&a->free[i], &a->free[i + 1], (size_t)(a->n - i - 1) * sizeof *a->free);
        a->n--;
    } else if (left) {
        a->free[i - 1].size += size;
    } else if (right) {
        a->free[i].off = off;
        a->free[i].size += size;
    } else {
        if (a->n == a->cap)
            a->free = grow(a->free, &a->cap, sizeof *a->free);
        memmove(&a->free[i + 1], &a->free[i], (size_t)(a->n - i) * sizeof *a->free);
        a->free[i] = (span){off, size};
        a->n++;
    }
}

static int tensor_index(const tfb_graph *g, const tfb_tensor *t) {
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i] == t)
            return i;
    return -1; /* a weight or a cache: not the graph's */
}

void tfb_graph_keep(tfb_graph *g, tfb_tensor *t) {
    TFB_ASSERT(tensor_index(g, t) >= 0);
    t->keep = true;
}

size_t tfb_graph_layout(tfb_graph *g) {
    int nt = g->n_tensors, nn = g->n_nodes;
    int *first = malloc((size_t)(nt ? nt : 1) * sizeof *first), *last = malloc((size_t)(nt ? nt : 1) * sizeof *last);
    bool *read = calloc((size_t)(nt ? nt : 1), sizeof *read);
    TFB_ASSERT(first && last && read);
    for (int i = 0; i < nt; i++)
        first[i] = nn, last[i] = -1;
    for (int k = 0; k < nn; k++) {
        const tfb_node *n = &g->nodes[k];
        int o = tensor_index(g, n->out);
        if (o >= 0) {
            first[o] = first[o] < k ? first[o] : k;
            last[o] = k;
        }
        for (int j = 0; j < TFB_MAX_INPUTS; j++) {
            int t = n->in[j] ? tensor_index(g, n->in[j]) : -1;
            if (t >= 0) {
                last[t] = k;
                read[t] = true;
            }
        }
    }
    for (int i = 0; i < nt; i++) {
        const tfb_tensor *t = g->tensors[i];
        if (t->keep || t == g->input || t == g->output || first[i] == nn || !read[i])
            first[i] = -1, last[i] = nn; /* live throughout */
    }
    /* Bytes are given back one node late: a backend may fuse a node with the next one (oneDNN runs a
     * matmul with the following activation or residual ADD as one primitive writing the second
     * node's output), so node k+1's output must not take the bytes of node k's inputs either. */
    arena a = {0};
    for (int k = -1; k <= nn; k++) {
        for (int i = 0; i < nt; i++)
            if (first[i] == k)
                g->tensors[i]->offset = arena_take(&a, (tfb_tensor_nbytes(g->tensors[i]) + 63) & ~(size_t)63);
        for (int i = 0; i < nt; i++)
            if (last[i] == k - 1 && k - 1 >= 0 && k - 1 < nn)
                arena_give(&a, g->tensors[i]->offset, (tfb_tensor_nbytes(g->tensors[i]) + 63) & ~(size_t)63);
    }
    free(a.free);
    free(first);
    free(last);
    free(read);
    return a.top;
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

void tfb_rope_cos_sin(float theta, int64_t d, int64_t p, float *c, float *s, int64_t stride) {
    for (int64_t i = 0; i < d / 2; i++) {
        double angle = (double)p * pow((double)theta, -2.0 * (double)i / (double)d);
        c[i * stride] = (float)cos(angle);
        s[i * stride] = (float)sin(angle);
    }
}

/* ---- node validation ---------------------------------------------------------------------------- */

static bool is_f32(const tfb_tensor *t) {
    return t && t->dtype == TFB_DTYPE_F32;
}

/* The contiguous width: the last dim (a [C] vector's only one). */
static int64_t cols_of(const tfb_tensor *t) {
    return t->ndim >= 2 ? t->shape[t->ndim - 1] : t->shape[0];
}

int64_t tfb_node_head_size(const tfb_node *n) {
    if ((n->op != TFB_OP_ATTENTION && n->op != TFB_OP_ROPE) || !n->in[0] || n->n_head < 1 ||
        cols_of(n->in[0]) % n->n_head != 0)
        return 0;
    return cols_of(n->in[0]) / n->n_head;
}

bool tfb_node_attention_plain(const tfb_node *n) {
    return n->op == TFB_OP_ATTENTION && !n->in[3] && (n->n_kv_head == 0 || n->n_kv_head == n->n_head);
}

/* Grouped-query attention: kv heads that divide the heads, caches Hkv*D wide; an optional relative
 * position bias [H, R] with R odd (centred on distance 0). */
static bool attention_ok(const tfb_node *n) {
    const tfb_tensor *q = n->in[0], *k = n->in[1], *v = n->in[2], *rb = n->in[3];
    int64_t D = tfb_node_head_size(n), Hkv = n->n_kv_head ? n->n_kv_head : n->n_head;
    if (!is_f32(q) || !is_f32(k) || !is_f32(v) || !is_f32(n->out) || D < 1 || Hkv < 1 || n->n_head % Hkv != 0)
        return false;
    if (cols_of(k) != Hkv * D || cols_of(v) != Hkv * D || cols_of(n->out) != cols_of(q))
        return false;
    if (rb && !(is_f32(rb) && rb->ndim == 2 && rb->shape[0] == n->n_head && rb->shape[1] % 2 == 1))
        return false;
    return n->mask == TFB_MASK_CAUSAL || n->mask == TFB_MASK_BIDIR || n->mask == TFB_MASK_CROSS;
}

bool tfb_op_is_rowwise(tfb_op op) {
    switch (op) {
    case TFB_OP_EMBED:
    case TFB_OP_ADD:
    case TFB_OP_MUL:
    case TFB_OP_SCALE:
    case TFB_OP_LAYERNORM:
    case TFB_OP_RMSNORM:
    case TFB_OP_SOFTMAX:
    case TFB_OP_GELU:
    case TFB_OP_GELU_TANH:
    case TFB_OP_RELU:
    case TFB_OP_SILU:
    case TFB_OP_KV_WRITE:
    case TFB_OP_LAST_ROW:
    case TFB_OP_ARGMAX: return true;
    default: return false;
    }
}

bool tfb_node_well_formed(const tfb_node *n) {
    if (!n || (unsigned)n->op >= TFB_OP_COUNT || !n->out || !n->in[0])
        return false;
    const tfb_tensor *x = n->in[0], *o = n->out;
    switch (n->op) {
    case TFB_OP_EMBED:
        return x->dtype == TFB_DTYPE_I32 && is_f32(n->in[1]) && is_f32(o) && cols_of(n->in[1]) == cols_of(o) &&
               (!n->in[2] || (is_f32(n->in[2]) && cols_of(n->in[2]) == cols_of(o))) &&
               (!n->in[3] || (is_f32(n->in[3]) && cols_of(n->in[3]) == cols_of(o))) &&
               (n->pos_kind != TFB_POS_LEARNED || n->in[2]) && (n->pos_kind != TFB_POS_SINUSOIDAL || cols_of(o) % 2 == 0);
    case TFB_OP_MATMUL: {
        const tfb_tensor *w = n->in[1];
        return is_f32(x) && w && w->dtype != TFB_DTYPE_I32 && (unsigned)w->dtype < TFB_DTYPE_COUNT && is_f32(o) &&
               cols_of(w) == cols_of(x) && w->shape[0] == cols_of(o) && cols_of(x) % tfb_dtype_block_elems(w->dtype) == 0 &&
               (!n->in[2] || (is_f32(n->in[2]) && cols_of(n->in[2]) == cols_of(o)));
    }
    case TFB_OP_ADD:
    case TFB_OP_MUL:
        return is_f32(x) && is_f32(n->in[1]) && is_f32(o) && cols_of(n->in[1]) == cols_of(o) && cols_of(x) == cols_of(o);
    case TFB_OP_LAYERNORM:
        return is_f32(x) && is_f32(n->in[1]) && is_f32(n->in[2]) && is_f32(o) && cols_of(x) == cols_of(o) &&
               cols_of(n->in[1]) == cols_of(o) && cols_of(n->in[2]) == cols_of(o);
    case TFB_OP_RMSNORM:
        return is_f32(x) && is_f32(n->in[1]) && is_f32(o) && cols_of(x) == cols_of(o) && cols_of(n->in[1]) == cols_of(o);
    case TFB_OP_SOFTMAX:
    case TFB_OP_GELU:
    case TFB_OP_GELU_TANH:
    case TFB_OP_RELU:
    case TFB_OP_SILU:
    case TFB_OP_SCALE:
    case TFB_OP_LAST_ROW:
        return is_f32(x) && is_f32(o) && cols_of(x) == cols_of(o);
    case TFB_OP_KV_WRITE:
        return is_f32(x) && is_f32(o) && cols_of(x) == cols_of(o);
    case TFB_OP_ATTENTION: return attention_ok(n);
    case TFB_OP_ROPE:
        return is_f32(x) && is_f32(o) && cols_of(x) == cols_of(o) && tfb_node_head_size(n) % 2 == 0 &&
               tfb_node_head_size(n) > 0 && (n->rope_layout == TFB_ROPE_HALF || n->rope_layout == TFB_ROPE_INTERLEAVED);
    case TFB_OP_ARGMAX:
        return is_f32(x) && o->dtype == TFB_DTYPE_I32;
    default:
        return false; /* an op added to TFB_OP_MAP is malformed until its shape rules are written here */
    }
}
