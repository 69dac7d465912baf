/* The planted-fault backend: the reference backend with one fault switched on, so the conformance
 * checker can be shown to fail. It lives in the tfbench binary (the CLI-level tests need it) but is
 * registered only when TFB_ENABLE_FAULT_BACKEND=1, under the name "fault"; TFB_FAULT picks the fault:
 *   none       the reference unchanged (must pass)
 *   causal     causal attention computed bidirectionally (the mask dropped)
 *   cachepos   KV_WRITE writes one row past the cache position (position off by one)
 *   scale      attention scale squared (1/D instead of 1/sqrt(D): the classic slip)
 *   transpose  the first square weight matrix of each graph read transposed
 *   perturb    the largest element of the first matmul output of each graph times (1 + 1e-3)
 *   oob        one float written just past the end of the first node's output (a guard overwrite)
 *   nondet     every second compute moves the first matmul's largest output by one ulp: within
 *              tolerance, so only --determinism can catch it
 *   actq8      matmul activations rounded to 8 bits (the reference run with act_q8 forced on) while
 *              conform's oracle keeps f32: changes q8_0/q4_0 matmuls only, by ~4e-3 of the output's RMS,
 *              which the eps*sqrt(K) bound must tell from f32 sums (with --act q8 the oracle rounds
 *              too and it passes: it is exactly the act_q8 numerics, nothing else)
 * It drives the reference only through its vtable, one node at a time, so it reaches into no other
 * folder's code. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"

enum {
    FAULT_NONE,
    FAULT_CAUSAL,
    FAULT_CACHEPOS,
    FAULT_SCALE,
    FAULT_TRANSPOSE,
    FAULT_PERTURB,
    FAULT_OOB,
    FAULT_NONDET,
    FAULT_ACTQ8,
    FAULT_COUNT
};
static const char *const fault_names[FAULT_COUNT] = {"none",    "causal", "cachepos", "scale", "transpose",
                                                     "perturb", "oob",    "nondet",   "actq8"};

typedef struct fault_ctx {
    const tfb_backend_i *ref;
    void *ref_ctx;
    int fault;
    int64_t n_compute;
} fault_ctx;

static const tfb_backend_i *ref_iface(void) {
    const tfb_backend_i *r = tfb_backend_find("reference");
    TFB_ASSERT(r != NULL);
    return r;
}

static bool fault_probe(char *why, size_t why_len) {
    return ref_iface()->probe(why, why_len);
}

static int fault_from_env(void) {
    const char *e = getenv("TFB_FAULT");
    if (!e || !*e)
        return FAULT_NONE;
    for (int i = 0; i < FAULT_COUNT; i++)
        if (strcmp(e, fault_names[i]) == 0)
            return i;
    return -1;
}

static tfb_status fault_init(const tfb_backend_opts *opts, void **ctx) {
    int f = opts && opts->fault ? opts->fault : fault_from_env();
    if (f < 0 || f >= FAULT_COUNT)
        return tfb_error_set(TFB_STATUS_USAGE,
                             "fault: TFB_FAULT='%s' is none of none, causal, cachepos, scale, "
                             "transpose, perturb, oob, nondet, actq8",
                             getenv("TFB_FAULT"));
    fault_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return tfb_error_set(TFB_STATUS_NOMEM, "fault: out of memory");
    c->ref = ref_iface();
    c->fault = f;
    /* The options go through to the reference; actq8 forces its activation rounding on whatever
     * conform asked of the oracle. */
    tfb_backend_opts ref_opts = {0};
    if (opts)
        ref_opts = *opts;
    if (f == FAULT_ACTQ8)
        ref_opts.act_q8 = true;
    tfb_status s = c->ref->init(&ref_opts, &c->ref_ctx);
    if (s != TFB_STATUS_OK) {
        free(c);
        return s;
    }
    *ctx = c;
    return TFB_STATUS_OK;
}

static void fault_free(void *ctx) {
    fault_ctx *c = ctx;
    c->ref->free(c->ref_ctx);
    free(c);
}

static void fault_device_info(void *ctx, tfb_device_info *info) {
    fault_ctx *c = ctx;
    c->ref->device_info(c->ref_ctx, info);
    snprintf(info->extra, sizeof info->extra, "planted fault: %s", fault_names[c->fault]);
}

static bool fault_supports(void *ctx, tfb_op op, tfb_dtype wtype) {
    fault_ctx *c = ctx;
    return c->ref->supports(c->ref_ctx, op, wtype);
}

static tfb_status fault_buffer_alloc(void *ctx, size_t size, tfb_buffer *buf) {
    fault_ctx *c = ctx;
    return c->ref->buffer_alloc(c->ref_ctx, size, buf);
}

static void fault_buffer_free(void *ctx, tfb_buffer *buf) {
    fault_ctx *c = ctx;
    c->ref->buffer_free(c->ref_ctx, buf);
}

static tfb_status fault_upload(void *ctx, tfb_tensor *t, const void *src, size_t off, size_t n) {
    fault_ctx *c = ctx;
    return c->ref->upload(c->ref_ctx, t, src, off, n);
}

static tfb_status fault_download(void *ctx, const tfb_tensor *t, void *dst, size_t off, size_t n) {
    fault_ctx *c = ctx;
    return c->ref->download(c->ref_ctx, t, dst, off, n);
}

static tfb_status fault_synchronize(void *ctx) {
    fault_ctx *c = ctx;
    return c->ref->synchronize(c->ref_ctx);
}

/* Run one node (possibly altered) through the reference with graph g's tensors and params. */
static tfb_status run_node(fault_ctx *c, const tfb_graph *g, tfb_node *n, tfb_graph_params params) {
    tfb_graph one = *g;
    one.nodes = n;
    one.n_nodes = 1;
    one.cap_nodes = 1;
    one.params = params;
    one.backend_data = NULL;
    return c->ref->compute(c->ref_ctx, &one);
}

/* A host F32 copy of square weight w [N,N], transposed, in a reference buffer. */
static tfb_status transposed_weight(fault_ctx *c, const tfb_tensor *w, tfb_tensor *wt, tfb_buffer *buf) {
    int64_t N = w->shape[0];
    float *dense = malloc((size_t)(N * N) * sizeof *dense);
    if (!dense)
        return tfb_error_set(TFB_STATUS_NOMEM, "fault: out of memory");
    size_t rb = tfb_dtype_row_bytes(w->dtype, N);
    for (int64_t r = 0; r < N; r++)
        tfb_dequantize_row(w->dtype, (const char *)tfb_tensor_host(w) + (size_t)r * rb, dense + r * N, N);
    memset(buf, 0, sizeof *buf);
    buf->size = (size_t)(N * N) * sizeof(float);
    tfb_status s = c->ref->buffer_alloc(c->ref_ctx, buf->size, buf);
    if (s != TFB_STATUS_OK) {
        free(dense);
        return s;
    }
    *wt = *w;
    wt->dtype = TFB_DTYPE_F32;
    wt->buf = buf;
    wt->offset = 0;
    float *dst = buf->host;
    for (int64_t r = 0; r < N; r++)
        for (int64_t k = 0; k < N; k++)
            dst[k * N + r] = dense[r * N + k];
    free(dense);
    return TFB_STATUS_OK;
}

static tfb_status fault_compute(void *ctx, tfb_graph *g) {
    fault_ctx *c = ctx;
    bool transposed = false, perturbed = false;
    for (int i = 0; i < g->n_nodes; i++) {
        tfb_node n = g->nodes[i];
        tfb_graph_params p = g->params;
        switch (c->fault) {
        case FAULT_CAUSAL:
            if (n.op == TFB_OP_ATTENTION && n.mask == TFB_MASK_CAUSAL)
                n.mask = TFB_MASK_BIDIR; /* same keys (pos + T), none hidden */
            break;
        case FAULT_CACHEPOS:
            if (n.op == TFB_OP_KV_WRITE && !n.kv_at_zero &&
                p.pos + tfb_graph_rows(g, n.in[0]) + 1 <= n.out->shape[0])
                p.pos += 1;
            break;
        case FAULT_SCALE:
            if (n.op == TFB_OP_ATTENTION)
                n.scale = n.scale * n.scale;
            break;
        default:
            break;
        }
        if (c->fault == FAULT_TRANSPOSE && !transposed && n.op == TFB_OP_MATMUL &&
            n.in[1]->shape[0] == n.in[1]->shape[1]) {
            tfb_tensor wt;
            tfb_buffer buf;
            TFB_TRY(transposed_weight(c, n.in[1], &wt, &buf));
            n.in[1] = &wt;
            tfb_status s = run_node(c, g, &n, p);
            c->ref->buffer_free(c->ref_ctx, &buf);
            TFB_TRY(s);
            transposed = true;
            continue;
        }
        TFB_TRY(run_node(c, g, &n, p));
        bool nondet = c->fault == FAULT_NONDET && c->n_compute % 2 == 1;
        if ((c->fault == FAULT_PERTURB || nondet) && !perturbed && n.op == TFB_OP_MATMUL) {
            float *out = tfb_tensor_host(n.out);
            int64_t len = tfb_graph_rows(g, n.out) * n.out->shape[1], best = 0;
            for (int64_t k = 1; k < len; k++)
                if (fabsf(out[k]) > fabsf(out[best]))
                    best = k;
            out[best] = nondet ? nextafterf(out[best], INFINITY) : out[best] * (1.0f + 1e-3f);
            perturbed = true;
        }
        if (c->fault == FAULT_OOB && i == 0) {
            size_t end = n.out->offset + tfb_tensor_nbytes(n.out);
            if (end + sizeof(float) <= n.out->buf->size) /* only where it cannot crash the process */
                memcpy((char *)n.out->buf->host + end, &(float){1.0f}, sizeof(float));
        }
    }
    c->n_compute++;
    return TFB_STATUS_OK;
}

static const tfb_backend_i fault_backend = {
    .name = "fault",
    .act_q8 = true, /* the wrapped reference honours it (opts go through) */
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
};

void tfb__cf_register_fault_backend(void) {
    const char *e = getenv("TFB_ENABLE_FAULT_BACKEND");
    if (e && strcmp(e, "1") == 0)
        tfb_backend_register(&fault_backend);
}
