/* Internal: the run state of a model on one backend, shared by the graph builders and session.c. */
#ifndef TFB_MODELS_SESSION_IMPL_H
#define TFB_MODELS_SESSION_IMPL_H

#include "tfbench/model.h"

/* A graph plus the tensors its caller reads. */
typedef struct tfb_sgraph {
    tfb_graph g;
    bool built;
    tfb_tensor *hidden; /* encoder output [T, C] (BERT: before the MLM head) */
    tfb_tensor *argmax; /* I32 [1] greedy token of the last row (decoder graphs) */
} tfb_sgraph;

struct tfb_session {
    tfb_backend *b;
    const tfb_model *m;
    int64_t n_ctx;
    tfb_buffer *wbuf;  /* every weight, one allocation */
    tfb_tensor *wt;    /* device weights, same order as m->w */
    tfb_tensor head;   /* LM head [V, C] in the weight dtype (tok_emb quantized; may alias) */
    tfb_tensor *head_p;
    tfb_buffer *kvbuf; /* every cache, one allocation */
    tfb_tensor *kv;    /* [n_layer][2] self-attention K, V; then [n_layer][2] cross K, V (encdec) */
    int n_kv;
    int64_t n_src;     /* source length of the last encode (encdec) */
    bool encoded;
    tfb_sgraph enc;    /* encoder graph (BERT, Marian encoder + cross K/V) */
    tfb_sgraph dec_last; /* decoder graph, logits of the last row + argmax */
    tfb_sgraph dec_all;  /* decoder graph, logits of every row (built on first use) */
};

/* Weight by canonical name; asserts it exists (the model was validated). */
tfb_tensor *tfb__sess_weight(tfb_session *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Self-attention cache of layer l (K when which = 0, V when 1); cross caches when cross. */
tfb_tensor *tfb__sess_cache(tfb_session *s, int64_t layer, int which, bool cross);

/* Graph builders (decoder.c, encoder.c, encdec.c), over a graph already tfb_graph_init'ed. */
void tfb__build_decoder(tfb_session *s, tfb_sgraph *sg, bool all_rows);
void tfb__build_encoder(tfb_session *s, tfb_sgraph *sg);
void tfb__build_encdec_encoder(tfb_session *s, tfb_sgraph *sg);
void tfb__build_encdec_decoder(tfb_session *s, tfb_sgraph *sg, bool all_rows);

/* Pieces shared by the builders (build.c). */
tfb_tensor *tfb__linear(tfb_session *s, tfb_graph *g, tfb_tensor *x, const char *prefix, const char *what);
tfb_tensor *tfb__layernorm(tfb_session *s, tfb_graph *g, tfb_tensor *x, const char *prefix, const char *what);
tfb_tensor *tfb__unary(tfb_graph *g, tfb_op op, tfb_tensor *x);
tfb_tensor *tfb__add(tfb_graph *g, tfb_tensor *a, tfb_tensor *b);
/* Self-attention of layer `layer`: causal appends K/V to the layer's cache and attends to it;
 * bidirectional (encoders, whole sequence at position 0) attends to this call's K/V directly. */
tfb_tensor *tfb__self_attention(tfb_session *s, tfb_graph *g, tfb_tensor *x, const char *prefix, int64_t layer,
                                tfb_mask mask);
/* The FFN: w2(act(w1 x)). */
tfb_tensor *tfb__ffn(tfb_session *s, tfb_graph *g, tfb_tensor *x, const char *prefix);
/* The LM head: optional LAST_ROW, matmul with the head (+ bias name or NULL), argmax when last. */
void tfb__head(tfb_session *s, tfb_sgraph *sg, tfb_tensor *x, const char *bias, bool all_rows);
tfb_op tfb__act_op(tfb_act a);

#endif
