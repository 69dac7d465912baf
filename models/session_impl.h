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
    tfb_tensor head;   /* LM head [Vd, C] in the weight dtype, when tied to an embedding (a quantized
                          copy of it; unused when the head aliases an f32 embedding or is lm_head) */
    tfb_tensor *head_p;
    tfb_tensor relb[2]; /* RELATIVE positions: the encoder's [0] and decoder's [1] bias tables expanded
                           per distance, [n_head, 2*n_ctx - 1] (ATTENTION in[3]); in wbuf */
    tfb_buffer *kvbuf; /* every cache, one allocation */
    tfb_tensor *kv;    /* [dec.n_layer][2] self-attention K, V; then [dec.n_layer][2] cross K, V
                          (encoder-decoders), each [n_ctx, C] */
    int n_kv;
    int64_t n_src;     /* source length of the last encode (encdec) */
    bool encoded;
    tfb_sgraph enc;    /* encoder graph (encoder stack, then the MLM head or the cross K/V) */
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

/* Graph builders (build.c), over a graph already tfb_graph_init'ed. The encoder graph runs the
 * encoder stack; then the MLM head (encoder-only models with a head) or the cross-attention K/V of
 * every decoder layer (encoder-decoders). The decoder graph ends in the LM head: logits of every
 * row when all_rows, else of the last row plus its argmax. */
void tfb__build_encoder(tfb_session *s, tfb_sgraph *sg);
void tfb__build_decoder(tfb_session *s, tfb_sgraph *sg, bool all_rows);

#endif
