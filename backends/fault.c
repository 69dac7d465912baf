/* The planted-fault backend, for the tests that prove a checker fails: a wrapper around any backend
 * in the registry that forwards every slot and plants one fault, either by rewriting the nodes it
 * forwards or by writing into an output afterwards, always through the wrapped backend's own vtable
 * (so it reaches into no backend's code and works on device memory as on host memory).
 *
 * Test builds only: this file is compiled into the tfbench_test_faults objects (CMake option
 * TFBENCH_TEST_FAULTS), which only test binaries link (tfbench-faults, the *_faults op tests); their
 * registry lists it as "fault". The tfbench users run has none of it. Faults that can only live
 * inside a backend (a missing Vulkan barrier, a wrong oneDNN fusion) are TFB_PLANT's instead
 * (backends/planted.h).
 *
 *   TFB_FAULT_BASE  the backend wrapped: any compiled in but this one (default reference)
 *   TFB_FAULT_OP    optional: plant the fault only in nodes of this op (e.g. add)
 *   TFB_FAULT       none       the base unchanged (must pass)
 *                   causal     causal attention computed bidirectionally (the mask dropped)
 *                   cachepos   KV_WRITE writes one row past the cache position (position off by one)
 *                   scale      attention scale squared (1/D instead of 1/sqrt(D): the classic slip)
 *                   transpose  the first square weight matrix of each graph read transposed
 *                   bias       MATMUL's bias dropped
 *                   dropk      MATMUL sums K-1 terms (its weights' last column read as zero)
 *                   perturb    the largest element of the first matmul output of each graph times
 *                              (1 + 1e-3)
 *                   oob        ADD, the activations and the copies (LAST_ROW, KV_WRITE) write one float
 *                              past the rows they write: into the rows past this call's, or past the
 *                              tensor's end (a guard overwrite) when they write all of its rows
 *                   nondet     every second compute moves the first matmul's largest output by one
 *                              ulp: within tolerance, so only --determinism can catch it
 *                   ropepos    ROPE of a one-token decode step rotates at one position past the right one
 *                              (each ROPE run alone): the prompt's keys are right, the decode's off by one
 *                   ropelayout ROPE's pairs swapped: rotate-half for interleaved and back
 *                   kvmap      grouped-query attention: query head h reads kv head h % Hkv instead of
 *                              h / (H / Hkv) (q's heads permuted before, the output's back after)
 *                   relsign    the relative position bias with the distance's sign swapped (its
 *                              per-distance table mirrored: bidirectional buckets read as causal)
 *                   relenc     the decoder's self-attention adds the encoder's relative bias
 *                   headscale  SCALE multiplies by 1 (T5's d_model^-0.5 head rescale dropped)
 *                   actq8      matmul activations rounded to 8 bits (act_q8 forced on the base) while
 *                              conform's oracle keeps f32: changes q8_0/q4_0 matmuls only, by ~4e-3 of
 *                              the output's RMS, which the eps*sqrt(K) bound must tell from f32 sums
 *                              (with --act q8 the oracle rounds too and it passes: it is exactly the
 *                              act_q8 numerics, nothing else)
 *
 * A wrapped graph is run as segments: runs of (rewritten) nodes handed to the base as graphs of their
 * own, each keeping the base's per-graph state between calls. Most faults need one segment. perturb
 * and nondet cut after the first matmul, so that later nodes read its altered output; cachepos runs
 * each KV_WRITE alone with other params. A backend that optimizes across nodes (oneDNN's fusions)
 * then sees each segment alone, so a cut falls only where that changes nothing the caller reads:
 * after a matmul (which fuses with the node after it) or around a KV_WRITE. oob writes past rows no
 * node reads, so it writes after the whole graph rather than cut it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfbench/backend.h"

enum {
    FAULT_NONE,
    FAULT_CAUSAL,
    FAULT_CACHEPOS,
    FAULT_SCALE,
    FAULT_TRANSPOSE,
    FAULT_BIAS,
    FAULT_DROPK,
    FAULT_PERTURB,
    FAULT_OOB,
    FAULT_NONDET,
    FAULT_ACTQ8,
    FAULT_ROPEPOS,
    FAULT_ROPELAYOUT,
    FAULT_KVMAP,
    FAULT_RELSIGN,
    FAULT_RELENC,
    FAULT_HEADSCALE,
    FAULT_COUNT
};
static const char *const fault_names[FAULT_COUNT] = {"none", "causal",  "cachepos", "scale",  "transpose", "bias",
                                                     "dropk", "perturb", "oob",      "nondet", "actq8",
                                                     "ropepos", "ropelayout", "kvmap", "relsign", "relenc",
                                                     "headscale"};

/* One run of nodes given to the base as a graph. */
typedef struct fault_seg {
    tfb_graph g;    /* the base's graph over a run of the rewritten nodes; its backend_data is the
                       base's, kept between calls */
    bool write;     /* the fault alters the last node's output afterwards (perturb, nondet) */
    bool shifted;   /* a lone KV_WRITE run one row late (cachepos), a lone ROPE one position late (ropepos) */
    bool permute;   /* a lone grouped-query ATTENTION with q's heads permuted (kvmap) */
} fault_seg;

/* Per wrapped graph, in its backend_data. */
typedef struct fault_graph {
    struct fault_graph *next; /* every live one, freed with the backend */
    int n_nodes;              /* of the wrapped graph: another count means it was rebuilt */
    tfb_node *nodes;          /* its nodes, rewritten by the fault [n_nodes] */
    fault_seg *segs;
    int n_segs;
    tfb_buffer *wbuf;         /* weight copies on the base (transpose, dropk) [n_nodes] */
    tfb_tensor *wt;           /* their tensors [n_nodes] */
    const tfb_tensor **wsrc;  /* the weights they stand for [n_nodes] */
    int n_w;
} fault_graph;

typedef struct fault_ctx {
    const tfb_backend_i *base;
    void *base_ctx;
    int fault;
    int only_op;        /* TFB_FAULT_OP, or -1: every node */
    bool refuse_act_q8; /* act_q8 asked of a base that does not offer it */
    int64_t n_compute;
    fault_graph *graphs;
    tfb_tensor *enc_bias; /* relenc: the relative bias an encoder's attention adds */
} fault_ctx;

/* ---- the base and the options ------------------------------------------------------------------ */

static const tfb_backend_i *base_iface(char *why, size_t why_len) {
    const char *e = getenv("TFB_FAULT_BASE");
    const char *name = e && *e ? e : "reference";
    const tfb_backend_i *b = strcmp(name, "fault") != 0 ? tfb_backend_find(name) : NULL;
    if (!b && why)
        snprintf(why, why_len, "TFB_FAULT_BASE=%s is no backend compiled in here", name);
    return b;
}

static bool fault_probe(char *why, size_t why_len) {
    const tfb_backend_i *b = base_iface(why, why_len);
    return b && b->probe(why, why_len);
}

static tfb_status parse_env(int *fault, int *only_op) {
    const char *e = getenv("TFB_FAULT");
    *fault = FAULT_NONE;
    if (e && *e) {
        *fault = -1;
        for (int i = 0; i < FAULT_COUNT; i++)
            if (strcmp(e, fault_names[i]) == 0)
                *fault = i;
    }
    if (*fault < 0) {
        char list[256] = "";
        for (int i = 0, n = 0; i < FAULT_COUNT && n >= 0 && (size_t)n < sizeof list; i++)
            n += snprintf(list + n, sizeof list - (size_t)n, "%s%s", i ? ", " : "", fault_names[i]);
        return tfb_error_set(TFB_STATUS_USAGE, "fault: TFB_FAULT='%s' is none of %s", e, list);
    }
    const char *op = getenv("TFB_FAULT_OP");
    tfb_op o;
    *only_op = -1;
    if (op && *op) {
        if (!tfb_op_parse(op, &o))
            return tfb_error_set(TFB_STATUS_USAGE, "fault: TFB_FAULT_OP='%s' is no op", op);
        *only_op = (int)o;
    }
    return TFB_STATUS_OK;
}

static tfb_status fault_init(const tfb_backend_opts *opts, void **ctx) {
    int fault, only_op;
    TFB_TRY(parse_env(&fault, &only_op));
    const tfb_backend_i *base = base_iface(NULL, 0);
    if (!base)
        return tfb_error_set(TFB_STATUS_UNAVAILABLE, "fault: TFB_FAULT_BASE names no backend compiled in here");
    fault_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return tfb_error_set(TFB_STATUS_NOMEM, "fault: out of memory");
    c->base = base;
    c->fault = fault;
    c->only_op = only_op;
    /* The options go through to the base; actq8 forces its activation rounding on whatever conform
     * asked of the oracle. */
    tfb_backend_opts base_opts = {0};
    if (opts)
        base_opts = *opts;
    if (fault == FAULT_ACTQ8)
        base_opts.act_q8 = true;
    c->refuse_act_q8 = base_opts.act_q8 && !base->act_q8;
    tfb_status s = base->init(&base_opts, &c->base_ctx);
    if (s != TFB_STATUS_OK) {
        free(c);
        return s;
    }
    *ctx = c;
    return TFB_STATUS_OK;
}

/* ---- slots forwarded as they are ------------------------------------------------------------------ */

static void fault_device_info(void *ctx, tfb_device_info *info) {
    fault_ctx *c = ctx;
    c->base->device_info(c->base_ctx, info);
    snprintf(info->extra, sizeof info->extra, "planted fault: %s (wrapping %s)", fault_names[c->fault],
             c->base->name);
}

static bool quantized(tfb_dtype t) {
    return t == TFB_DTYPE_Q8_0 || t == TFB_DTYPE_Q4_0;
}

static bool fault_supports(void *ctx, const tfb_node *n) {
    fault_ctx *c = ctx;
    if (c->refuse_act_q8 && n->op == TFB_OP_MATMUL && quantized(n->in[1]->dtype))
        return false;
    return c->base->supports(c->base_ctx, n);
}

static tfb_status fault_buffer_alloc(void *ctx, size_t size, tfb_buffer *buf) {
    fault_ctx *c = ctx;
    return c->base->buffer_alloc(c->base_ctx, size, buf);
}

static void fault_buffer_free(void *ctx, tfb_buffer *buf) {
    fault_ctx *c = ctx;
    c->base->buffer_free(c->base_ctx, buf);
}

static tfb_status fault_upload(void *ctx, tfb_tensor *t, const void *src, size_t off, size_t n) {
    fault_ctx *c = ctx;
    return c->base->upload(c->base_ctx, t, src, off, n);
}

static tfb_status fault_download(void *ctx, const tfb_tensor *t, void *dst, size_t off, size_t n) {
    fault_ctx *c = ctx;
    return c->base->download(c->base_ctx, t, dst, off, n);
}

static tfb_status fault_synchronize(void *ctx) {
    fault_ctx *c = ctx;
    return c->base->synchronize(c->base_ctx);
}

static double fault_last_device_time(void *ctx) {
    fault_ctx *c = ctx; /* of the last segment the base ran */
    return c->base->last_device_time ? c->base->last_device_time(c->base_ctx) : -1.0;
}

static bool fault_op_profile(void *ctx, bool on, double *secs) {
    fault_ctx *c = ctx;
    return c->base->op_profile ? c->base->op_profile(c->base_ctx, on, secs) : false;
}

/* ---- rewriting a graph ----------------------------------------------------------------------------- */

static bool targeted(const fault_ctx *c, const tfb_node *n) {
    return c->only_op < 0 || (int)n->op == c->only_op;
}

/* The nodes whose output the oob fault overruns (the ones OpenCL's planted fault used to). */
static bool overruns(const tfb_node *n) {
    switch (n->op) {
    case TFB_OP_ADD:
    case TFB_OP_GELU:
    case TFB_OP_GELU_TANH:
    case TFB_OP_RELU:
    case TFB_OP_SILU:
    case TFB_OP_LAST_ROW:
    case TFB_OP_KV_WRITE: return true;
    default: return false;
    }
}

/* An F32 copy of weight w [N,K] on the base: transposed (square w), or with column K-1 zero. */
/* How weight_copy alters the copy. */
typedef enum copy_mode {
    COPY_TRANSPOSE, /* [N, K] read as its transpose */
    COPY_DROPK,     /* each row's last column zero: the matmul sums K-1 terms */
    COPY_MIRROR,    /* each row reversed: a relative position bias with the distance's sign swapped */
} copy_mode;

static tfb_status weight_copy(fault_ctx *c, fault_graph *fg, const tfb_tensor *w, copy_mode mode,
                              tfb_tensor **out) {
    for (int i = 0; i < fg->n_w; i++)
        if (fg->wsrc[i] == w) {
            *out = &fg->wt[i];
            return TFB_STATUS_OK;
        }
    int64_t N = w->shape[0], K = w->shape[1];
    size_t rb = tfb_dtype_row_bytes(w->dtype, K), bytes = (size_t)(N * K) * sizeof(float);
    char *raw = malloc(tfb_tensor_nbytes(w));
    float *dense = malloc(bytes), *dst = malloc(bytes);
    tfb_status s = raw && dense && dst ? TFB_STATUS_OK : tfb_error_set(TFB_STATUS_NOMEM, "fault: out of memory");
    if (s == TFB_STATUS_OK)
        s = c->base->download(c->base_ctx, w, raw, 0, tfb_tensor_nbytes(w));
    tfb_buffer *buf = &fg->wbuf[fg->n_w];
    tfb_tensor *wt = &fg->wt[fg->n_w];
    if (s == TFB_STATUS_OK) {
        for (int64_t r = 0; r < N; r++)
            tfb_dequantize_row(w->dtype, raw + (size_t)r * rb, dense + r * K, K);
        for (int64_t r = 0; r < N; r++)
            for (int64_t k = 0; k < K; k++)
                if (mode == COPY_TRANSPOSE)
                    dst[k * N + r] = dense[r * K + k];
                else if (mode == COPY_MIRROR)
                    dst[r * K + k] = dense[r * K + (K - 1 - k)];
                else
                    dst[r * K + k] = k == K - 1 ? 0.0f : dense[r * K + k];
        memset(buf, 0, sizeof *buf);
        buf->size = bytes;
        s = c->base->buffer_alloc(c->base_ctx, bytes, buf);
    }
    if (s == TFB_STATUS_OK) {
        *wt = *w;
        wt->dtype = TFB_DTYPE_F32;
        wt->buf = buf;
        wt->offset = 0;
        fg->wsrc[fg->n_w++] = w;
        s = c->base->upload(c->base_ctx, wt, dst, 0, bytes);
        *out = wt;
    }
    free(raw);
    free(dense);
    free(dst);
    return s;
}

/* Rewrite node n in place (the copy the base will see). */
static tfb_status rewrite(fault_ctx *c, fault_graph *fg, tfb_node *n, bool *transposed) {
    if (!targeted(c, n))
        return TFB_STATUS_OK;
    const tfb_tensor *w = n->op == TFB_OP_MATMUL ? n->in[1] : NULL;
    switch (c->fault) {
    case FAULT_CAUSAL:
        if (n->op == TFB_OP_ATTENTION && n->mask == TFB_MASK_CAUSAL)
            n->mask = TFB_MASK_BIDIR; /* same keys (pos + T), none hidden */
        break;
    case FAULT_SCALE:
        if (n->op == TFB_OP_ATTENTION)
            n->scale = n->scale * n->scale;
        break;
    case FAULT_BIAS:
        if (n->op == TFB_OP_MATMUL)
            n->in[2] = NULL;
        break;
    case FAULT_TRANSPOSE:
        if (w && !*transposed && w->shape[0] == w->shape[1]) {
            TFB_TRY(weight_copy(c, fg, w, COPY_TRANSPOSE, &n->in[1]));
            *transposed = true;
        }
        break;
    case FAULT_DROPK:
        if (w)
            TFB_TRY(weight_copy(c, fg, w, COPY_DROPK, &n->in[1]));
        break;
    case FAULT_ROPELAYOUT:
        if (n->op == TFB_OP_ROPE)
            n->rope_layout = n->rope_layout == TFB_ROPE_HALF ? TFB_ROPE_INTERLEAVED : TFB_ROPE_HALF;
        break;
    case FAULT_RELSIGN:
        if (n->op == TFB_OP_ATTENTION && n->in[3])
            TFB_TRY(weight_copy(c, fg, n->in[3], COPY_MIRROR, &n->in[3]));
        break;
    case FAULT_RELENC:
        /* The encoder graph is built (first computed) before the decoder's. */
        if (n->op == TFB_OP_ATTENTION && n->in[3] && n->mask == TFB_MASK_BIDIR)
            c->enc_bias = n->in[3];
        else if (n->op == TFB_OP_ATTENTION && n->in[3] && n->mask == TFB_MASK_CAUSAL && c->enc_bias &&
                 c->enc_bias->shape[0] == n->in[3]->shape[0] && c->enc_bias->shape[1] == n->in[3]->shape[1])
            n->in[3] = c->enc_bias;
        break;
    case FAULT_HEADSCALE:
        if (n->op == TFB_OP_SCALE)
            n->scale = 1.0f;
        break;
    default: break;
    }
    return TFB_STATUS_OK;
}

static void graph_free(fault_ctx *c, fault_graph *fg) {
    for (int i = 0; i < fg->n_segs; i++)
        if (fg->segs[i].g.backend_data && c->base->graph_release)
            c->base->graph_release(c->base_ctx, &fg->segs[i].g);
    for (int i = 0; i < fg->n_w; i++)
        c->base->buffer_free(c->base_ctx, &fg->wbuf[i]);
    free(fg->nodes);
    free(fg->segs);
    free(fg->wbuf);
    free(fg->wt);
    free(fg->wsrc);
    free(fg);
}

static void fault_graph_release(void *ctx, tfb_graph *g) {
    fault_ctx *c = ctx;
    fault_graph *fg = g->backend_data;
    if (!fg)
        return;
    for (fault_graph **p = &c->graphs; *p; p = &(*p)->next)
        if (*p == fg) {
            *p = fg->next;
            break;
        }
    graph_free(c, fg);
    g->backend_data = NULL;
}

static void add_seg(fault_graph *fg, int first, int end, bool write, bool shifted, bool permute) {
    fault_seg *s = &fg->segs[fg->n_segs++];
    s->g.nodes = fg->nodes + first;
    s->g.n_nodes = s->g.cap_nodes = end - first;
    s->write = write;
    s->shifted = shifted;
    s->permute = permute;
}

/* Cut the rewritten nodes into segments (see the top of the file). */
static void plan_segments(const fault_ctx *c, fault_graph *fg) {
    bool first_mm = true;
    int start = 0;
    for (int i = 0; i < fg->n_nodes; i++) {
        const tfb_node *n = &fg->nodes[i];
        bool shift = targeted(c, n) && ((c->fault == FAULT_CACHEPOS && n->op == TFB_OP_KV_WRITE && !n->kv_at_zero) ||
                                        (c->fault == FAULT_ROPEPOS && n->op == TFB_OP_ROPE));
        bool perm = c->fault == FAULT_KVMAP && n->op == TFB_OP_ATTENTION && n->n_kv_head > 0 &&
                    n->n_kv_head < n->n_head && targeted(c, n);
        bool alone = shift || perm;
        bool write = false;
        if ((c->fault == FAULT_PERTURB || c->fault == FAULT_NONDET) && n->op == TFB_OP_MATMUL && targeted(c, n)) {
            write = first_mm;
            first_mm = false;
        }
        if (alone && i > start) {
            add_seg(fg, start, i, false, false, false);
            start = i;
        }
        if (alone || write) {
            add_seg(fg, start, i + 1, write, shift, perm);
            start = i + 1;
        }
    }
    if (start < fg->n_nodes)
        add_seg(fg, start, fg->n_nodes, false, false, false);
}

static tfb_status graph_build(fault_ctx *c, tfb_graph *g, fault_graph **out) {
    fault_graph *fg = calloc(1, sizeof *fg);
    size_t nn = g->n_nodes > 0 ? (size_t)g->n_nodes : 1;
    if (fg) {
        fg->nodes = malloc(nn * sizeof *fg->nodes);
        fg->segs = calloc(2 * nn + 1, sizeof *fg->segs);
        fg->wbuf = calloc(nn, sizeof *fg->wbuf);
        fg->wt = calloc(nn, sizeof *fg->wt);
        fg->wsrc = calloc(nn, sizeof *fg->wsrc);
    }
    if (!fg || !fg->nodes || !fg->segs || !fg->wbuf || !fg->wt || !fg->wsrc) {
        if (fg)
            graph_free(c, fg);
        return tfb_error_set(TFB_STATUS_NOMEM, "fault: out of memory");
    }
    fg->n_nodes = g->n_nodes;
    if (g->n_nodes > 0)
        memcpy(fg->nodes, g->nodes, (size_t)g->n_nodes * sizeof *fg->nodes);
    bool transposed = false;
    for (int i = 0; i < g->n_nodes; i++) {
        tfb_status s = rewrite(c, fg, &fg->nodes[i], &transposed);
        if (s != TFB_STATUS_OK) {
            graph_free(c, fg);
            return s;
        }
    }
    plan_segments(c, fg);
    fg->next = c->graphs;
    c->graphs = fg;
    g->backend_data = fg;
    *out = fg;
    return TFB_STATUS_OK;
}

/* ---- running it -------------------------------------------------------------------------------------- */

/* oob: one float just past the rows node n writes, where that still lies inside its buffer. */
static tfb_status overrun(fault_ctx *c, const tfb_graph *g, const tfb_node *n) {
    const tfb_tensor *out = n->out;
    int64_t first = 0, rows = tfb_graph_rows(g, out);
    if (n->op == TFB_OP_KV_WRITE) {
        first = n->kv_at_zero ? 0 : g->params.pos;
        rows = tfb_graph_rows(g, n->in[0]);
    } else if (n->op == TFB_OP_LAST_ROW) {
        rows = 1;
    }
    size_t at = out->offset + (size_t)(first + rows) * (size_t)tfb_tensor_row_elems(out) * sizeof(float);
    if (at + sizeof(float) > out->buf->size)
        return TFB_STATUS_OK;
    tfb_tensor past = {.name = "past the output", .dtype = TFB_DTYPE_F32, .ndim = 1, .shape = {1},
                       .buf = out->buf, .offset = at};
    return c->base->upload(c->base_ctx, &past, &(float){1.0f}, 0, sizeof(float));
}

/* perturb, nondet: the largest element of node n's output altered, after the base ran it. */
static tfb_status alter(fault_ctx *c, const tfb_graph *g, const tfb_node *n) {
    bool nondet = c->fault == FAULT_NONDET;
    if (nondet && c->n_compute % 2 == 0) /* every second compute */
        return TFB_STATUS_OK;
    TFB_TRY(c->base->synchronize(c->base_ctx));
    int64_t len = tfb_graph_rows(g, n->out) * n->out->shape[1], best = 0;
    float *x = malloc((size_t)len * sizeof *x);
    if (!x)
        return tfb_error_set(TFB_STATUS_NOMEM, "fault: out of memory");
    tfb_status s = c->base->download(c->base_ctx, n->out, x, 0, (size_t)len * sizeof *x);
    if (s == TFB_STATUS_OK) {
        for (int64_t k = 1; k < len; k++)
            if (fabsf(x[k]) > fabsf(x[best]))
                best = k;
        float v = nondet ? nextafterf(x[best], INFINITY) : x[best] * (1.0f + 1e-3f);
        s = c->base->upload(c->base_ctx, n->out, &v, (size_t)best * sizeof v, sizeof v);
    }
    free(x);
    return s;
}

/* kvmap: the kernel pairs query head j with kv head j / (H / Hkv). Query head h is moved to
 * j(h) = (h % Hkv) * (H / Hkv) + h / Hkv, so it is paired with kv head h % Hkv; the output's heads
 * are moved back after (inverse). In place: q is read by this attention alone. */
static tfb_status permute_heads(fault_ctx *c, const tfb_graph *g, const tfb_node *n, bool inverse) {
    tfb_tensor *t = inverse ? n->out : n->in[0];
    int64_t T = tfb_graph_rows(g, t), HD = t->shape[1], H = n->n_head, Hkv = n->n_kv_head, D = HD / H;
    size_t bytes = (size_t)(T * HD) * sizeof(float);
    float *x = malloc(bytes), *y = malloc(bytes); // [T, H*D]
    tfb_status s = x && y ? c->base->synchronize(c->base_ctx) : tfb_error_set(TFB_STATUS_NOMEM, "fault: out of memory");
    if (s == TFB_STATUS_OK)
        s = c->base->download(c->base_ctx, t, x, 0, bytes);
    for (int64_t r = 0; s == TFB_STATUS_OK && r < T; r++)
        for (int64_t h = 0; h < H; h++) {
            int64_t j = (h % Hkv) * (H / Hkv) + h / Hkv;
            const float *from = x + r * HD + (inverse ? j : h) * D;
            memcpy(y + r * HD + (inverse ? h : j) * D, from, (size_t)D * sizeof(float));
        }
    if (s == TFB_STATUS_OK)
        s = c->base->upload(c->base_ctx, t, y, 0, bytes);
    free(x);
    free(y);
    return s;
}

static tfb_status fault_compute(void *ctx, tfb_graph *g) {
    fault_ctx *c = ctx;
    fault_graph *fg = g->backend_data;
    if (fg && fg->n_nodes != g->n_nodes) {
        fault_graph_release(c, g);
        fg = NULL;
    }
    if (!fg)
        TFB_TRY(graph_build(c, g, &fg));
    if (c->refuse_act_q8)
        for (int i = 0; i < g->n_nodes; i++)
            if (g->nodes[i].op == TFB_OP_MATMUL && quantized(g->nodes[i].in[1]->dtype))
                return tfb_error_set(TFB_STATUS_UNSUPPORTED, "fault: %s: act_q8 (8-bit activations) not offered",
                                     c->base->name);
    for (int i = 0; i < fg->n_segs; i++) {
        fault_seg *s = &fg->segs[i];
        /* The wrapped graph's tensors and this call's params, with the segment's own nodes and state. */
        tfb_graph sg = *g;
        sg.nodes = s->g.nodes;
        sg.n_nodes = sg.cap_nodes = s->g.n_nodes;
        sg.backend_data = s->g.backend_data;
        s->g = sg;
        const tfb_node *n = &s->g.nodes[0];
        /* ropepos shifts decode steps only: a shift of every call would keep every distance and go
         * unseen by attention, the classic bug is a decode position off by one against the prompt's. */
        if (s->shifted && (n->op == TFB_OP_ROPE ? tfb_graph_rows(g, n->in[0]) == 1
                                                : s->g.params.pos + tfb_graph_rows(g, n->in[0]) + 1 <= n->out->shape[0]))
            s->g.params.pos += 1;
        if (s->permute)
            TFB_TRY(permute_heads(c, g, n, false));
        TFB_TRY(c->base->compute(c->base_ctx, &s->g));
        if (s->permute)
            TFB_TRY(permute_heads(c, g, n, true));
        if (s->write)
            TFB_TRY(alter(c, g, &s->g.nodes[s->g.n_nodes - 1]));
    }
    if (c->fault == FAULT_OOB) {
        TFB_TRY(c->base->synchronize(c->base_ctx));
        for (int i = 0; i < fg->n_nodes; i++)
            if (overruns(&fg->nodes[i]) && targeted(c, &fg->nodes[i]))
                TFB_TRY(overrun(c, g, &fg->nodes[i]));
    }
    c->n_compute++;
    return TFB_STATUS_OK; /* the writes complete with the base's pending work (synchronize, download) */
}

static void fault_free(void *ctx) {
    fault_ctx *c = ctx;
    while (c->graphs) {
        fault_graph *fg = c->graphs;
        c->graphs = fg->next;
        graph_free(c, fg);
    }
    c->base->free(c->base_ctx);
    free(c);
}

const tfb_backend_i tfb_backend_fault = {
    .name = "fault",
    .act_q8 = true, /* what the base does not offer, the wrapper refuses itself (refuse_act_q8) */
    .probe = fault_probe,
    .init = fault_init,
    .free = fault_free,
    .device_info = fault_device_info,
    .supports = fault_supports,
    .buffer_alloc = fault_buffer_alloc,
    .buffer_free = fault_buffer_free,
    .upload = fault_upload,
    .download = fault_download,
    .compute = fault_compute,
    .synchronize = fault_synchronize,
    .graph_release = fault_graph_release,
    .last_device_time = fault_last_device_time,
    .op_profile = fault_op_profile,
};
