/* Op-level conformance: every op x weight dtype x shape of the one op definition (opdef.c: the
 * shapes and the tolerance table) as a single-node graph, run on the backend and on the reference
 * with identical inputs, compared by conform_cmp.c.
 *
 * Every tensor gets its own buffer with GUARD bytes before and after it, filled with a pattern and
 * downloaded in full afterwards through a view tensor spanning the whole buffer, so out-of-bounds
 * writes show up whether or not the buffer is host memory. The output region starts as the same
 * pattern (an element left unwritten shows as a mismatch), rows past the call's n_rows must stay
 * untouched, and inputs must come back unchanged. Cache rows a call must not read hold large
 * values (+-1000) so that reading them changes the result. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "opdef.h"

#define GUARD 256
#define MAX_T 6 /* tensors of one case */

typedef tfb_opdef_case op_case; /* the shapes: opdef.c, shared with every backend's op tests */

/* ---- one side of a case: graph, tensors, guarded buffers --------------------------------------------- */

typedef struct side {
    tfb_backend *b;
    tfb_graph g;
    tfb_tensor *t[MAX_T]; /* t[0..n-1]: every tensor; the output is t[out] */
    tfb_tensor own[MAX_T];
    tfb_tensor view[MAX_T];
    tfb_buffer *buf[MAX_T];
    int n, out;
} side;

/* Host images of every tensor's whole buffer (guards + data), identical for both sides. */
typedef struct images {
    unsigned char *img[MAX_T];
    size_t size[MAX_T];
} images;

static size_t region_bytes(const tfb_tensor *t) {
    return (tfb_tensor_nbytes(t) + 63) & ~(size_t)63;
}

static tfb_tensor *own_tensor(side *s, const char *name, tfb_dtype dt, int64_t rows, int64_t cols) {
    tfb_tensor *t = &s->own[s->n];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dt;
    t->ndim = 2;
    t->shape[0] = rows;
    t->shape[1] = cols;
    s->t[s->n++] = t;
    return t;
}

static tfb_tensor *act_tensor(side *s, const char *name, int64_t cols, tfb_dtype dt) {
    tfb_tensor *t = tfb_graph_new_act(&s->g, name, 0, cols, dt);
    s->t[s->n++] = t;
    return t;
}

/* Build the graph of case c on s (tensors not yet allocated). */
static void build(const op_case *c, side *s) {
    tfb_graph_init(&s->g, c->T + 2);
    s->n = 0;
    tfb_tensor *out = NULL;
    tfb_node *n = NULL;
    switch (c->op) {
    case TFB_OP_MATMUL: {
        tfb_tensor *x = act_tensor(s, "x", c->K, TFB_DTYPE_F32);
        tfb_tensor *w = own_tensor(s, "w", TFB_DTYPE_F32, c->N, c->K); /* dtype set by the caller */
        tfb_tensor *bias = c->bias ? own_tensor(s, "bias", TFB_DTYPE_F32, 1, c->N) : NULL;
        if (bias) {
            bias->ndim = 1;
            bias->shape[0] = c->N;
        }
        out = act_tensor(s, "out", c->N, TFB_DTYPE_F32);
        n = tfb_graph_add(&s->g, c->op, out, x, w, bias, NULL);
        break;
    }
    case TFB_OP_ADD:
    case TFB_OP_MUL: {
        tfb_tensor *a = act_tensor(s, "a", c->N, TFB_DTYPE_F32), *b = act_tensor(s, "b", c->N, TFB_DTYPE_F32);
        out = act_tensor(s, "out", c->N, TFB_DTYPE_F32);
        n = tfb_graph_add(&s->g, c->op, out, a, b, NULL, NULL);
        break;
    }
    case TFB_OP_LAYERNORM:
    case TFB_OP_RMSNORM: {
        tfb_tensor *x = act_tensor(s, "x", c->N, TFB_DTYPE_F32);
        tfb_tensor *gm = own_tensor(s, "gamma", TFB_DTYPE_F32, 1, c->N);
        tfb_tensor *bt = c->op == TFB_OP_LAYERNORM ? own_tensor(s, "beta", TFB_DTYPE_F32, 1, c->N) : NULL;
        out = act_tensor(s, "out", c->N, TFB_DTYPE_F32);
        n = tfb_graph_add(&s->g, c->op, out, x, gm, bt, NULL);
        n->eps = c->eps;
        break;
    }
    case TFB_OP_SOFTMAX:
    case TFB_OP_SCALE:
    case TFB_OP_GELU:
    case TFB_OP_GELU_TANH:
    case TFB_OP_RELU:
    case TFB_OP_SILU: {
        tfb_tensor *x = act_tensor(s, "x", c->N, TFB_DTYPE_F32);
        out = act_tensor(s, "out", c->N, TFB_DTYPE_F32);
        n = tfb_graph_add(&s->g, c->op, out, x, NULL, NULL, NULL);
        n->scale = c->op == TFB_OP_SOFTMAX || c->op == TFB_OP_SCALE ? c->scale : 1.0f;
        break;
    }
    case TFB_OP_ROPE: {
        tfb_tensor *x = act_tensor(s, "x", c->N, TFB_DTYPE_F32);
        out = act_tensor(s, "out", c->N, TFB_DTYPE_F32);
        n = tfb_graph_add(&s->g, c->op, out, x, NULL, NULL, NULL);
        n->n_head = (int)c->H;
        n->rope_theta = c->rope_theta;
        n->rope_layout = c->rope_layout;
        break;
    }
    case TFB_OP_KV_WRITE: {
        tfb_tensor *src = act_tensor(s, "src", c->N, TFB_DTYPE_F32);
        out = own_tensor(s, "cache", TFB_DTYPE_F32, c->S, c->N);
        n = tfb_graph_add(&s->g, c->op, out, src, out, NULL, NULL);
        n->kv_at_zero = c->kv_at_zero;
        break;
    }
    case TFB_OP_ATTENTION: {
        int64_t KD = (c->Hkv ? c->Hkv : c->H) * c->D; /* grouped-query caches are narrower */
        tfb_tensor *q = act_tensor(s, "q", c->N, TFB_DTYPE_F32), *k, *v;
        if (c->cache_input) {
            k = own_tensor(s, "kcache", TFB_DTYPE_F32, c->S, KD);
            v = own_tensor(s, "vcache", TFB_DTYPE_F32, c->S, KD);
        } else {
            k = act_tensor(s, "k", KD, TFB_DTYPE_F32);
            v = act_tensor(s, "v", KD, TFB_DTYPE_F32);
        }
        tfb_tensor *rb = c->rel_bias ? own_tensor(s, "relbias", TFB_DTYPE_F32, c->H, 2 * c->S - 1) : NULL;
        out = act_tensor(s, "out", c->N, TFB_DTYPE_F32);
        n = tfb_graph_add(&s->g, c->op, out, q, k, v, rb);
        n->n_head = (int)c->H;
        n->n_kv_head = (int)c->Hkv;
        n->mask = c->mask;
        n->scale = (float)(1.0 / sqrt((double)c->D));
        break;
    }
    case TFB_OP_EMBED: {
        tfb_tensor *ids = act_tensor(s, "ids", 1, TFB_DTYPE_I32);
        ids->ndim = 1;
        s->g.input = ids;
        tfb_tensor *tok = own_tensor(s, "tok", TFB_DTYPE_F32, c->K, c->N);
        tfb_tensor *pos =
            c->pos_kind == TFB_POS_LEARNED ? own_tensor(s, "pos", TFB_DTYPE_F32, c->S, c->N) : NULL;
        tfb_tensor *typ = c->type ? own_tensor(s, "type", TFB_DTYPE_F32, 2, c->N) : NULL;
        out = act_tensor(s, "out", c->N, TFB_DTYPE_F32);
        n = tfb_graph_add(&s->g, c->op, out, ids, tok, pos, typ);
        n->pos_kind = c->pos_kind;
        n->scale = c->scale;
        break;
    }
    case TFB_OP_LAST_ROW: {
        tfb_tensor *x = act_tensor(s, "x", c->N, TFB_DTYPE_F32);
        out = tfb_graph_new_act(&s->g, "out", 1, c->N, TFB_DTYPE_F32);
        s->t[s->n++] = out;
        n = tfb_graph_add(&s->g, c->op, out, x, NULL, NULL, NULL);
        break;
    }
    case TFB_OP_ARGMAX: {
        tfb_tensor *x = act_tensor(s, "x", c->N, TFB_DTYPE_F32);
        out = act_tensor(s, "out", 1, TFB_DTYPE_I32);
        out->ndim = 1;
        n = tfb_graph_add(&s->g, c->op, out, x, NULL, NULL, NULL);
        break;
    }
    default:
        TFB_ASSERT(!"op without conformance cases");
    }
    (void)n;
    s->g.output = out;
    for (int i = 0; i < s->n; i++)
        if (s->t[i] == out)
            s->out = i;
    s->g.params.n_rows = c->T;
    s->g.params.pos = c->pos;
    s->g.params.n_src = c->n_src;
}

/* Fill the host images: guard pattern around random data; rows a call must not read get +-1000. */
static void make_images(const op_case *c, const side *s, uint64_t seed, images *im) {
    for (int i = 0; i < s->n; i++) {
        const tfb_tensor *t = s->t[i];
        size_t region = region_bytes(t);
        im->size[i] = 2 * GUARD + region;
        im->img[i] = malloc(im->size[i]);
        TFB_ASSERT(im->img[i] != NULL);
        tfb__cf_guard_fill(im->img[i], (int64_t)im->size[i], (uint32_t)(seed * 31 + (uint64_t)i));
        if (i == s->out && c->op != TFB_OP_KV_WRITE)
            continue; /* the output starts as the pattern */
        uint64_t st = seed * 1000003u + (uint64_t)i;
        unsigned char *data = im->img[i] + GUARD;
        int64_t rows = t->shape[0], cols = tfb_tensor_row_elems(t);
        if (t->dtype == TFB_DTYPE_I32) {
            int32_t *ids = (int32_t *)data;
            for (int64_t r = 0; r < rows; r++)
                ids[r] = (int32_t)(tfb__cf_rand(&st) % (uint64_t)c->K);
            continue;
        }
        float *row = malloc((size_t)cols * sizeof *row);
        TFB_ASSERT(row != NULL);
        /* Rows a correct kernel never reads: past n_rows of an activation, past the valid cache. */
        int64_t valid = t->dyn_rows ? c->T : rows;
        bool cache = strcmp(t->name, "kcache") == 0 || strcmp(t->name, "vcache") == 0;
        if (c->op == TFB_OP_ATTENTION && c->cache_input && cache)
            valid = c->mask == TFB_MASK_CROSS ? c->n_src : c->pos + c->T;
        size_t rb = tfb_dtype_row_bytes(t->dtype, cols);
        const char *nm = t->name;
        for (int64_t r = 0; r < rows; r++) {
            for (int64_t k = 0; k < cols; k++) {
                float lo = c->lo, hi = c->hi;
                if (strcmp(nm, "gamma") == 0)
                    lo = 0.5f, hi = 1.5f;
                else if (strcmp(nm, "beta") == 0 || strcmp(nm, "bias") == 0)
                    lo = -0.5f, hi = 0.5f;
                else if (strcmp(nm, "w") == 0)
                    lo = -1.0f, hi = 1.0f;
                row[k] = r < valid ? tfb__cf_uniform(&st, lo, hi) : tfb__cf_uniform(&st, -1000.0f, 1000.0f);
            }
            if (c->ties && r < c->T) { /* the maximum twice: the lower index must win */
                int64_t a = (int64_t)(tfb__cf_rand(&st) % (uint64_t)(cols / 2)), b = cols / 2 + a;
                row[a] = row[b] = 2.0f;
            }
            tfb_quantize_row(t->dtype, row, data + (size_t)r * rb, cols);
        }
        free(row);
    }
}

static void side_free(side *s) {
    if (s->g.backend_data && s->b->iface->graph_release)
        s->b->iface->graph_release(s->b->ctx, &s->g);
    for (int i = 0; i < s->n; i++)
        tfb_backend_buffer_free(s->b, s->buf[i]);
    tfb_graph_free(&s->g);
    memset(s, 0, sizeof *s);
}

static tfb_status alloc_upload(side *s, const images *im) {
    for (int i = 0; i < s->n; i++) {
        TFB_TRY(tfb_backend_buffer_alloc(s->b, im->size[i], &s->buf[i]));
        s->t[i]->buf = s->buf[i];
        s->t[i]->offset = GUARD;
        tfb_tensor *v = &s->view[i];
        memset(v, 0, sizeof *v);
        snprintf(v->name, sizeof v->name, "%s.view", s->t[i]->name);
        v->dtype = TFB_DTYPE_F32;
        v->ndim = 1;
        v->shape[0] = (int64_t)(im->size[i] / 4);
        v->buf = s->buf[i];
    }
    s->g.act_buf = s->buf[s->out];
    return TFB_STATUS_OK;
}

static tfb_status upload_all(side *s, const images *im) {
    for (int i = 0; i < s->n; i++)
        TFB_TRY(tfb_backend_upload(s->b, &s->view[i], im->img[i], 0, im->size[i]));
    return TFB_STATUS_OK;
}

/* Run the graph and download every buffer into got[i] (malloc'ed by the caller). */
static tfb_status run_side(side *s, const images *im, unsigned char **got) {
    TFB_TRY(upload_all(s, im));
    TFB_TRY(tfb_backend_compute(s->b, &s->g));
    TFB_TRY(tfb_backend_synchronize(s->b));
    for (int i = 0; i < s->n; i++)
        TFB_TRY(tfb_backend_download(s->b, &s->view[i], got[i], 0, im->size[i]));
    return TFB_STATUS_OK;
}

/* Bytes of the output that this call defines: n_rows rows (every row of a cache). */
static size_t out_call_bytes(const op_case *c, const side *s) {
    const tfb_tensor *o = s->t[s->out];
    int64_t rows = o->dyn_rows ? c->T : o->shape[0];
    return (size_t)rows * tfb_dtype_row_bytes(o->dtype, tfb_tensor_row_elems(o));
}

/* Everything but the output's defined bytes must equal the image; describe the first change. */
static bool check_untouched(const op_case *c, const side *s, const images *im, unsigned char **got, char *why,
                            size_t len) {
    for (int i = 0; i < s->n; i++) {
        size_t lo = 0, hi = 0; /* the defined range, excluded */
        if (i == s->out) {
            lo = GUARD;
            hi = GUARD + out_call_bytes(c, s);
        }
        for (size_t k = 0; k < im->size[i]; k++) {
            if (k >= lo && k < hi)
                continue;
            if (got[i][k] != im->img[i][k]) {
                const char *where = k < GUARD                                 ? "guard before"
                                    : k >= GUARD + tfb_tensor_nbytes(s->t[i]) ? "guard after"
                                    : i == s->out ? "rows past the call's n_rows of"
                                                  : "input data of";
                snprintf(why, len, "%s: %s %s changed (byte %lld)", s->b->iface->name, where, s->t[i]->name,
                         (long long)k - GUARD);
                return false;
            }
        }
    }
    return true;
}

/* ---- one case --------------------------------------------------------------------------------------- */

static void run_case(const tfb_cf_args *a, tfb_backend *b, tfb_backend *ref, const op_case *c, tfb_dtype wt,
                     uint64_t seed, tfb_cf_result *r) {
    double t0 = tfb_now();
    side sb = {.b = b}, sr = {.b = ref};
    images im = {0};
    unsigned char *got_b[MAX_T] = {0}, *got_r[MAX_T] = {0}, *again[MAX_T] = {0};
    build(c, &sb);
    build(c, &sr);
    tfb_tensor *w = c->op == TFB_OP_MATMUL ? sb.t[1] : NULL;
    if (w) {
        w->dtype = wt;
        sr.t[1]->dtype = wt;
    }
    const tfb_node *node = &sb.g.nodes[0];
    tfb_dtype node_wt = c->op == TFB_OP_MATMUL ? wt : node->in[0]->dtype;
    r->metric_name[0] = 0;
    snprintf(r->metric_name, sizeof r->metric_name, c->op == TFB_OP_ARGMAX ? "wrong" : "nmse");
    const char *why = "";
    double tol = tfb__opdef_node_tol(node, &sb.g.params, &why);
    r->threshold = c->op == TFB_OP_ARGMAX ? 0.0 : tol * tol;
    if (!tfb_backend_supports(b, node)) {
        r->verdict = TFB_CF_UNSUPPORTED;
        snprintf(r->detail, sizeof r->detail, "%s: %s with %s is not supported%s", b->iface->name,
                 tfb_op_name(c->op), tfb_dtype_name(node_wt),
                 c->op == TFB_OP_MATMUL ? tfb_cli_act_refusal(&a->opts, b->iface, node_wt) : "");
        goto done;
    }
    make_images(c, &sb, seed, &im);
    tfb_status st = alloc_upload(&sb, &im);
    if (st == TFB_STATUS_OK)
        st = alloc_upload(&sr, &im);
    for (int i = 0; i < sb.n; i++) {
        got_b[i] = malloc(im.size[i]);
        got_r[i] = malloc(im.size[i]);
        again[i] = malloc(im.size[i]);
        TFB_ASSERT(got_b[i] && got_r[i] && again[i]);
    }
    if (st == TFB_STATUS_OK && (st = run_side(&sr, &im, got_r)) != TFB_STATUS_OK) {
        r->verdict = TFB_CF_ERROR;
        snprintf(r->detail, sizeof r->detail, "reference: %s", tfb_error_last());
        goto done;
    }
    if (st == TFB_STATUS_OK)
        st = run_side(&sb, &im, got_b);
    if (st != TFB_STATUS_OK) {
        r->verdict = st == TFB_STATUS_UNSUPPORTED ? TFB_CF_UNSUPPORTED : TFB_CF_ERROR;
        snprintf(r->detail, sizeof r->detail, "%s", tfb_error_last());
        goto done;
    }
    char msg[256];
    if (!check_untouched(c, &sr, &im, got_r, msg, sizeof msg)) {
        r->verdict = TFB_CF_ERROR; /* the oracle itself is broken */
        snprintf(r->detail, sizeof r->detail, "%s", msg);
        goto done;
    }
    if (!check_untouched(c, &sb, &im, got_b, msg, sizeof msg)) {
        r->verdict = TFB_CF_FAIL;
        snprintf(r->detail, sizeof r->detail, "%s", msg);
        goto done;
    }
    const tfb_tensor *o = sb.t[sb.out];
    int64_t n_out = (int64_t)(out_call_bytes(c, &sb) / 4);
    tfb_cf_cmp cmp;
    if (o->dtype == TFB_DTYPE_I32)
        tfb__cf_compare_i32((const int32_t *)(got_b[sb.out] + GUARD),
                            (const int32_t *)(got_r[sb.out] + GUARD), n_out, &cmp);
    else
        tfb__cf_compare((const float *)(got_b[sb.out] + GUARD), (const float *)(got_r[sb.out] + GUARD), n_out,
                        tol, &cmp);
    r->verdict = cmp.verdict;
    r->metric = cmp.nmse;
    snprintf(r->detail, sizeof r->detail, "%s", cmp.detail);
    if (a->determinism && !tfb__cf_verdict_fails(r->verdict)) {
        if ((st = run_side(&sb, &im, again)) != TFB_STATUS_OK) {
            r->verdict = TFB_CF_ERROR;
            snprintf(r->detail, sizeof r->detail, "second run: %s", tfb_error_last());
        } else if (memcmp(again[sb.out], got_b[sb.out], im.size[sb.out]) != 0) {
            size_t k = 0;
            while (again[sb.out][k] == got_b[sb.out][k])
                k++;
            r->verdict = TFB_CF_FAIL;
            snprintf(r->detail, sizeof r->detail,
                     "not deterministic: second run differs at byte %lld of the output",
                     (long long)k - GUARD);
        }
    }
    r->extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(r->extra, "max_abs", cmp.max_abs);
    cJSON_AddNumberToObject(r->extra, "rms_ref", cmp.rms_ref);
    cJSON_AddNumberToObject(r->extra, "tol", tol);
    cJSON_AddNumberToObject(r->extra, "n_bad", (double)cmp.n_bad);
    cJSON_AddNumberToObject(r->extra, "worst_index", (double)cmp.worst);
    cJSON_AddStringToObject(r->extra, "tolerance_reason", why);
done:
    r->seconds = tfb_now() - t0;
    for (int i = 0; i < MAX_T; i++) {
        free(im.img[i]);
        free(got_b[i]);
        free(got_r[i]);
        free(again[i]);
    }
    side_free(&sb);
    side_free(&sr);
}

void tfb__cf_run_ops(const tfb_cf_args *a, tfb_backend *b, tfb_backend *ref, tfb_dtype wt,
                     tfb_cf_report *rep) {
    for (int i = 0; i < tfb__opdef_count(); i++) {
        const op_case *c = tfb__opdef_get(i);
        char name[96];
        tfb__opdef_name(c, name, sizeof name);
        if (!tfb__opdef_applies(c, wt))
            continue;
        if (a->op && strcmp(a->op, tfb_op_name(c->op)) != 0)
            continue;
        if (a->case_filter && strcmp(name, a->case_filter) != 0)
            continue;
        tfb_cf_result *r = tfb__cf_add(rep);
        tfb__cf_label(r, a, b->iface->name, "op", name, (int)wt);
        tfb__cf_repro(r->repro, sizeof r->repro, a, b->iface->name, NULL, tfb_dtype_name(wt),
                      tfb_op_name(c->op), name, true);
        run_case(a, b, ref, c, wt, 0x5eed0000u + (uint64_t)i * 7919u + (uint64_t)wt, r);
        if (!a->quiet)
            tfb__cf_print_row(stdout, r, a->repro_all);
    }
}
