/* Run state of a model on one backend: device weights, KV caches, graphs, and the calls that
 * feed tokens through them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/session_impl.h"

static size_t align64(size_t n) {
    return (n + 63) & ~(size_t)63;
}

static void tensor_like(tfb_tensor *t, const char *name, tfb_dtype dt, int ndim, const int64_t *shape) {
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dt;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
}

/* Every node must be supported, as built (dtypes, shapes, head size, mask): an unsupported node is
 * reported before anything runs, never worked around. */
static tfb_status check_supported(tfb_session *s, const tfb_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        const tfb_node *n = &g->nodes[i];
        if (tfb_backend_supports(s->b, n))
            continue;
        if (n->op == TFB_OP_MATMUL)
            return tfb_error_set(TFB_STATUS_UNSUPPORTED, "%s: %s: matmul with %s weights is not supported",
                                 s->b->iface->name, n->out->name, tfb_dtype_name(n->in[1]->dtype));
        if (n->op == TFB_OP_ATTENTION)
            return tfb_error_set(TFB_STATUS_UNSUPPORTED,
                                 "%s: %s: attention (%d heads of %lld, %d kv heads%s) is not supported",
                                 s->b->iface->name, n->out->name, n->n_head, (long long)tfb_node_head_size(n),
                                 n->n_kv_head ? n->n_kv_head : n->n_head, n->in[3] ? ", relative position bias" : "");
        return tfb_error_set(TFB_STATUS_UNSUPPORTED, "%s: %s: %s is not supported", s->b->iface->name,
                             n->out->name, tfb_op_name(n->op));
    }
    return TFB_STATUS_OK;
}

static tfb_status graph_alloc(tfb_session *s, tfb_sgraph *sg) {
    TFB_TRY(check_supported(s, &sg->g));
    size_t bytes = tfb_graph_layout(&sg->g);
    TFB_TRY(tfb_backend_buffer_alloc(s->b, bytes, &sg->g.act_buf));
    for (int i = 0; i < sg->g.n_tensors; i++)
        sg->g.tensors[i]->buf = sg->g.act_buf;
    sg->built = true;
    return TFB_STATUS_OK;
}

static void graph_free(tfb_session *s, tfb_sgraph *sg) {
    if (sg->g.backend_data && s->b->iface->graph_release)
        s->b->iface->graph_release(s->b->ctx, &sg->g);
    tfb_backend_buffer_free(s->b, sg->g.act_buf);
    tfb_graph_free(&sg->g);
    memset(sg, 0, sizeof *sg);
}

/* A relative position bias table [buckets, H] expanded per distance: out[h, r + n_ctx - 1] =
 * table[bucket(r), h] for r = key - query in (-n_ctx, n_ctx); bidirectional in the encoder (k 0),
 * causal in the decoder (k 1). The buckets are computed here once, so every backend adds the same. */
static tfb_status upload_rel_bias(tfb_session *s, int k, const tfb_stack *st) {
    const tfb_config *c = &s->m->cfg;
    const tfb_weight *w = tfb_model_find(s->m, k ? "dec.rel_bias" : "enc.rel_bias");
    const float *table = w->data; // [buckets, H]
    int64_t H = st->n_head, R = 2 * s->n_ctx - 1;
    float *out = malloc((size_t)(H * R) * sizeof *out); // [H, R]
    if (!out)
        return tfb_error_set(TFB_STATUS_NOMEM, "session: out of memory");
    for (int64_t r = -(s->n_ctx - 1); r < s->n_ctx; r++) {
        int32_t b = tfb_rel_bucket(r, c->rel_buckets, c->rel_max_distance, k == 0);
        for (int64_t h = 0; h < H; h++)
            out[h * R + r + s->n_ctx - 1] = table[b * H + h];
    }
    s->relb[k].buf = s->wbuf;
    tfb_status st2 = tfb_backend_upload(s->b, &s->relb[k], out, 0, (size_t)(H * R) * sizeof *out);
    free(out);
    return st2;
}

static tfb_status upload_weights(tfb_session *s) {
    const tfb_model *m = s->m;
    const tfb_config *c = &m->cfg;
    s->wt = calloc((size_t)m->n_w, sizeof *s->wt);
    if (!s->wt)
        return tfb_error_set(TFB_STATUS_NOMEM, "session: out of memory");
    size_t total = 0;
    for (int i = 0; i < m->n_w; i++) {
        tensor_like(&s->wt[i], m->w[i].name, m->w[i].dtype, m->w[i].ndim, m->w[i].shape);
        s->wt[i].offset = total;
        total += align64(tfb_tensor_nbytes(&s->wt[i]));
    }
    /* The LM head: lm_head itself, or the embedding it is tied to as a matmul weight, which is
     * in the weight dtype: its own quantized copy unless f32. */
    const char *tied = !c->has_lm_head || c->head == TFB_HEAD_OWN ? NULL
                       : c->head == TFB_HEAD_DEC_EMB             ? "dec_tok_emb"
                                                                 : "tok_emb";
    const tfb_weight *emb = tied ? tfb_model_find(m, tied) : NULL;
    int64_t head_shape[2] = {c->n_dec_vocab, c->d_model};
    /* A per-tensor model's tied head reads its F32 embedding (gguf_load.c gives a stored
     * non-F32 embedding its own lm_head). */
    tfb_dtype hdt = m->per_tensor ? TFB_DTYPE_F32 : m->wtype;
    tensor_like(&s->head, "lm_head", hdt, 2, head_shape);
    bool head_copy = emb && hdt != TFB_DTYPE_F32;
    if (head_copy) {
        s->head.offset = total;
        total += align64(tfb_tensor_nbytes(&s->head));
    }
    const tfb_stack *stacks[2] = {&c->enc, &c->dec};
    for (int k = 0; k < 2 && c->pos == TFB_POS_RELATIVE; k++) {
        if (stacks[k]->n_layer == 0)
            continue;
        int64_t shape[2] = {stacks[k]->n_head, 2 * s->n_ctx - 1};
        tensor_like(&s->relb[k], k ? "dec.rel_bias.expanded" : "enc.rel_bias.expanded", TFB_DTYPE_F32, 2, shape);
        s->relb[k].offset = total;
        total += align64(tfb_tensor_nbytes(&s->relb[k]));
    }
    TFB_TRY(tfb_backend_buffer_alloc(s->b, total, &s->wbuf));
    for (int i = 0; i < m->n_w; i++) {
        s->wt[i].buf = s->wbuf;
        TFB_TRY(tfb_backend_upload(s->b, &s->wt[i], m->w[i].data, 0, tfb_tensor_nbytes(&s->wt[i])));
    }
    for (int k = 0; k < 2 && c->pos == TFB_POS_RELATIVE; k++)
        if (stacks[k]->n_layer > 0)
            TFB_TRY(upload_rel_bias(s, k, stacks[k]));
    if (!c->has_lm_head)
        return TFB_STATUS_OK;
    if (!head_copy) {
        s->head_p = tfb__sess_weight(s, "%s", tied ? tied : "lm_head");
        return TFB_STATUS_OK;
    }
    s->head_p = &s->head;
    s->head.buf = s->wbuf;
    size_t row_bytes = tfb_dtype_row_bytes(m->wtype, c->d_model);
    void *row = malloc(row_bytes);
    if (!row)
        return tfb_error_set(TFB_STATUS_NOMEM, "session: out of memory");
    tfb_status st = TFB_STATUS_OK;
    for (int64_t v = 0; v < c->n_dec_vocab && st == TFB_STATUS_OK; v++) {
        tfb_quantize_row(m->wtype, (const float *)emb->data + v * c->d_model, row, c->d_model);
        st = tfb_backend_upload(s->b, &s->head, row, (size_t)v * row_bytes, row_bytes);
    }
    free(row);
    return st;
}

static tfb_status alloc_caches(tfb_session *s) {
    const tfb_config *c = &s->m->cfg;
    s->n_kv = (int)(c->dec.n_layer * (tfb_config_has_encoder(c) ? 4 : 2));
    if (s->n_kv == 0)
        return TFB_STATUS_OK;
    s->kv = calloc((size_t)s->n_kv, sizeof *s->kv);
    if (!s->kv)
        return tfb_error_set(TFB_STATUS_NOMEM, "session: out of memory");
    size_t total = 0;
    for (int i = 0; i < s->n_kv; i++) {
        /* Self-attention rows hold n_kv_head heads; cross-attention rows the whole width. */
        bool cross = i >= c->dec.n_layer * 2;
        int64_t shape[2] = {s->n_ctx, cross ? c->d_model : tfb_config_kv_width(c, &c->dec)};
        char name[TFB_NAME_MAX];
        snprintf(name, sizeof name, "%s.%d.%s", cross ? "xcache" : "cache", (i / 2) % (int)c->dec.n_layer,
                 i % 2 ? "v" : "k");
        tensor_like(&s->kv[i], name, TFB_DTYPE_F32, 2, shape);
        s->kv[i].offset = total;
        total += align64(tfb_tensor_nbytes(&s->kv[i]));
    }
    TFB_TRY(tfb_backend_buffer_alloc(s->b, total, &s->kvbuf));
    for (int i = 0; i < s->n_kv; i++)
        s->kv[i].buf = s->kvbuf;
    return TFB_STATUS_OK;
}

/* Rows one decoder graph call takes. Longer inputs run in chunks, the KV cache carrying the earlier
 * ones (as llama.cpp's micro-batches do): a graph holds every activation of every layer for its
 * rows, which at the whole context would be tens of GB for llama2-7b. Encoder graphs (bidirectional
 * attention over the whole source) keep the whole context. */
#ifndef TFB_DEC_CHUNK
#define TFB_DEC_CHUNK 256
#endif
static int64_t dec_rows(const tfb_session *s) {
    return s->n_ctx < TFB_DEC_CHUNK ? s->n_ctx : TFB_DEC_CHUNK;
}

static tfb_status build_graphs(tfb_session *s) {
    const tfb_config *c = &s->m->cfg;
    if (tfb_config_has_encoder(c)) {
        tfb_graph_init(&s->enc.g, s->n_ctx);
        tfb__build_encoder(s, &s->enc);
        TFB_TRY(graph_alloc(s, &s->enc));
    }
    if (tfb_config_has_decoder(c)) {
        tfb_graph_init(&s->dec_last.g, dec_rows(s));
        tfb__build_decoder(s, &s->dec_last, false);
        TFB_TRY(graph_alloc(s, &s->dec_last));
    }
    return TFB_STATUS_OK;
}

tfb_status tfb_session_init(tfb_backend *b, const tfb_model *m, int64_t n_ctx, tfb_session **out) {
    *out = NULL;
    TFB_TRY(tfb_model_validate(m));
    if (n_ctx <= 0 || n_ctx > m->cfg.n_ctx)
        n_ctx = m->cfg.n_ctx;
    tfb_session *s = calloc(1, sizeof *s);
    if (!s)
        return tfb_error_set(TFB_STATUS_NOMEM, "session: out of memory");
    s->b = b;
    s->m = m;
    s->n_ctx = n_ctx;
    tfb_status st = upload_weights(s);
    if (st == TFB_STATUS_OK)
        st = alloc_caches(s);
    if (st == TFB_STATUS_OK)
        st = build_graphs(s);
    if (st != TFB_STATUS_OK) {
        tfb_session_free(s);
        return st;
    }
    *out = s;
    return TFB_STATUS_OK;
}

void tfb_session_free(tfb_session *s) {
    if (!s)
        return;
    graph_free(s, &s->enc);
    graph_free(s, &s->dec_last);
    graph_free(s, &s->dec_all);
    tfb_backend_buffer_free(s->b, s->kvbuf);
    tfb_backend_buffer_free(s->b, s->wbuf);
    free(s->kv);
    free(s->wt);
    free(s);
}

const tfb_model *tfb_session_model(const tfb_session *s) {
    return s->m;
}

tfb_backend *tfb_session_backend(const tfb_session *s) {
    return s->b;
}

int64_t tfb_session_n_ctx(const tfb_session *s) {
    return s->n_ctx;
}

/* ---- running ------------------------------------------------------------------------------------ */

/* vocab: the rows of the side's embedding (n_vocab on both sides: a separate decoder embedding has
 * vocab_size rows too; only the logits are n_dec_vocab wide). */
static tfb_status check_tokens(const tfb_session *s, const int32_t *tokens, int64_t n, int64_t pos, int64_t vocab) {
    if (n < 1)
        return tfb_error_set(TFB_STATUS_USAGE, "no tokens given");
    if (pos < 0 || pos + n > s->n_ctx)
        return tfb_error_set(TFB_STATUS_USAGE, "positions %lld..%lld exceed the context of %lld", (long long)pos,
                             (long long)(pos + n - 1), (long long)s->n_ctx);
    for (int64_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= vocab)
            return tfb_error_set(TFB_STATUS_USAGE, "token %lld (id %d) outside the vocabulary of %lld",
                                 (long long)i, tokens[i], (long long)vocab);
    return TFB_STATUS_OK;
}

static tfb_status run_graph(tfb_session *s, tfb_sgraph *sg, const int32_t *tokens, int64_t n, int64_t pos) {
    tfb_graph *g = &sg->g;
    g->params.n_rows = n;
    g->params.pos = pos;
    g->params.n_src = s->n_src;
    TFB_TRY(tfb_backend_upload(s->b, g->input, tokens, 0, (size_t)n * sizeof *tokens));
    return tfb_backend_compute(s->b, g);
}

static tfb_status decoder_ready(tfb_session *s) {
    if (!tfb_config_has_decoder(&s->m->cfg))
        return tfb_error_set(TFB_STATUS_USAGE, "%s is an encoder: it has no decoder", s->m->cfg.name);
    if (tfb_config_has_encoder(&s->m->cfg) && !s->encoded)
        return tfb_error_set(TFB_STATUS_USAGE, "%s: decode before encode", s->m->cfg.name);
    return TFB_STATUS_OK;
}

tfb_status tfb_session_decode(tfb_session *s, const int32_t *tokens, int64_t n, int64_t pos, bool all_rows,
                              float *logits) {
    TFB_TRY(decoder_ready(s));
    TFB_TRY(check_tokens(s, tokens, n, pos, s->m->cfg.n_vocab));
    tfb_sgraph *sg = &s->dec_last;
    if (all_rows) {
        if (!s->dec_all.built) {
            tfb_graph_init(&s->dec_all.g, dec_rows(s));
            tfb__build_decoder(s, &s->dec_all, true);
            TFB_TRY(graph_alloc(s, &s->dec_all));
        }
        sg = &s->dec_all;
    }
    int64_t V = s->m->cfg.n_dec_vocab, chunk = dec_rows(s);
    for (int64_t off = 0; off < n; off += chunk) {
        int64_t c = n - off < chunk ? n - off : chunk;
        TFB_TRY(run_graph(s, sg, tokens + off, c, pos + off));
        if (logits && all_rows) /* each chunk's rows before the next call overwrites them */
            TFB_TRY(tfb_backend_download(s->b, sg->g.output, logits + off * V, 0, (size_t)(c * V) * sizeof *logits));
    }
    if (!logits)
        return tfb_backend_synchronize(s->b);
    if (all_rows)
        return TFB_STATUS_OK;
    return tfb_backend_download(s->b, sg->g.output, logits, 0, (size_t)V * sizeof *logits);
}

tfb_status tfb_session_decode_argmax(tfb_session *s, const int32_t *tokens, int64_t n, int64_t pos,
                                     int32_t *next) {
    TFB_TRY(decoder_ready(s));
    TFB_TRY(check_tokens(s, tokens, n, pos, s->m->cfg.n_vocab));
    int64_t chunk = dec_rows(s);
    for (int64_t off = 0; off < n; off += chunk)
        TFB_TRY(run_graph(s, &s->dec_last, tokens + off, n - off < chunk ? n - off : chunk, pos + off));
    return tfb_backend_download(s->b, s->dec_last.argmax, next, 0, sizeof *next);
}

tfb_status tfb_session_encode(tfb_session *s, const int32_t *src, int64_t n, float *logits) {
    const tfb_config *c = &s->m->cfg;
    if (!tfb_config_has_encoder(c))
        return tfb_error_set(TFB_STATUS_USAGE, "%s is a decoder: it has no encoder", c->name);
    if (logits && (tfb_config_has_decoder(c) || !c->has_lm_head))
        return tfb_error_set(TFB_STATUS_INTERNAL, "encode: only encoders with an MLM head return logits");
    TFB_TRY(check_tokens(s, src, n, 0, c->n_vocab));
    s->encoded = false;
    s->n_src = n;
    TFB_TRY(run_graph(s, &s->enc, src, n, 0));
    s->encoded = true;
    if (!logits)
        return tfb_backend_synchronize(s->b);
    return tfb_backend_download(s->b, s->enc.g.output, logits, 0,
                                (size_t)(n * s->m->cfg.n_vocab) * sizeof *logits);
}

tfb_status tfb_session_hidden(tfb_session *s, float *out) {
    if (!s->encoded)
        return tfb_error_set(TFB_STATUS_USAGE, "hidden states before encode");
    return tfb_backend_download(s->b, s->enc.hidden, out, 0,
                                (size_t)(s->n_src * s->m->cfg.d_model) * sizeof *out);
}

/* ---- KV snapshots ---------------------------------------------------------------------------------- */

static int n_self_caches(const tfb_session *s) {
    return (int)(s->m->cfg.dec.n_layer * 2);
}

size_t tfb_session_kv_bytes(const tfb_session *s, int64_t n) {
    return (size_t)n_self_caches(s) * (size_t)(n * tfb_config_kv_width(&s->m->cfg, &s->m->cfg.dec)) * sizeof(float);
}

static tfb_status kv_copy(tfb_session *s, int64_t n, void *host, bool save) {
    if (n < 0 || n > s->n_ctx)
        return tfb_error_set(TFB_STATUS_USAGE, "kv snapshot of %lld positions", (long long)n);
    size_t bytes = (size_t)(n * tfb_config_kv_width(&s->m->cfg, &s->m->cfg.dec)) * sizeof(float);
    for (int i = 0; i < n_self_caches(s); i++) {
        char *p = (char *)host + (size_t)i * bytes;
        if (save)
            TFB_TRY(tfb_backend_download(s->b, &s->kv[i], p, 0, bytes));
        else
            TFB_TRY(tfb_backend_upload(s->b, &s->kv[i], p, 0, bytes));
    }
    return TFB_STATUS_OK;
}

tfb_status tfb_session_kv_save(tfb_session *s, int64_t n, void *dst) {
    return kv_copy(s, n, dst, true);
}

tfb_status tfb_session_kv_load(tfb_session *s, int64_t n, const void *src) {
    return kv_copy(s, n, (void *)src, false);
}
