/* Greedy generation for decoders and encoder-decoders. */
#include <stdlib.h>

#include "core/clock.h"
#include "tfbench/model.h"

/* Lowest index wins ties, as the ARGMAX op does. */
static int32_t argmax_row(const float *x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return (int32_t)best;
}

/* Feed `n` tokens at `pos`; the next token, and the logits of every fed row into dump if asked. */
static tfb_status step(tfb_session *s, const int32_t *tokens, int64_t n, int64_t pos, float *dump,
                       int32_t *next) {
    if (!dump)
        return tfb_session_decode_argmax(s, tokens, n, pos, next);
    int64_t V = tfb_session_model(s)->cfg.n_dec_vocab;
    TFB_TRY(tfb_session_decode(s, tokens, n, pos, true, dump));
    *next = argmax_row(dump + (n - 1) * V, V);
    return TFB_STATUS_OK;
}

tfb_status tfb_generate(tfb_session *s, const int32_t *prompt, int64_t n_prompt, const int32_t *src,
                        int64_t n_src, int64_t n_gen, int32_t *out_tokens, int64_t *n_out, float *dump,
                        int64_t *dump_rows, tfb_gen_times *times) {
    const tfb_config *c = &tfb_session_model(s)->cfg;
    *n_out = 0;
    double t0 = tfb__now(), t1 = t0;
    if (dump_rows)
        *dump_rows = 0;
    if (n_gen < 1)
        return tfb_error_set(TFB_STATUS_USAGE, "--n-gen must be at least 1");
    int64_t V = c->n_dec_vocab, rows = 0;
    if (!tfb_config_has_decoder(c))
        return tfb_error_set(TFB_STATUS_USAGE, "%s is an encoder: use encode, not generate", c->name);
    if (!tfb_config_has_encoder(c)) {
        if (n_prompt < 1)
            return tfb_error_set(TFB_STATUS_USAGE, "a decoder needs at least one prompt token");
        if (n_prompt + n_gen - 1 > tfb_session_n_ctx(s))
            return tfb_error_set(TFB_STATUS_USAGE, "prompt %lld + %lld generated tokens exceed the context of %lld",
                                 (long long)n_prompt, (long long)n_gen, (long long)tfb_session_n_ctx(s));
        TFB_TRY(step(s, prompt, n_prompt, 0, dump, &out_tokens[0]));
        t1 = tfb__now();
        rows = n_prompt;
        for (int64_t i = 1; i < n_gen; i++) {
            TFB_TRY(step(s, &out_tokens[i - 1], 1, n_prompt + i - 1, dump ? dump + rows * V : NULL, &out_tokens[i]));
            rows++;
        }
        *n_out = n_gen;
    } else {
        if (n_src < 1)
            return tfb_error_set(TFB_STATUS_USAGE, "an encoder-decoder needs --source-tokens");
        if (n_gen > tfb_session_n_ctx(s))
            return tfb_error_set(TFB_STATUS_USAGE, "%lld generated tokens exceed the context of %lld",
                                 (long long)n_gen, (long long)tfb_session_n_ctx(s));
        (void)prompt;
        TFB_TRY(tfb_session_encode(s, src, n_src, NULL));
        int32_t tok = (int32_t)c->decoder_start_id;
        for (int64_t i = 0; i < n_gen; i++) {
            TFB_TRY(step(s, &tok, 1, i, dump ? dump + rows * V : NULL, &out_tokens[i]));
            if (i == 0)
                t1 = tfb__now();
            rows++;
            *n_out = i + 1;
            tok = out_tokens[i];
            if (tok == c->eos_id)
                break;
        }
    }
    if (dump_rows)
        *dump_rows = rows;
    if (times)
        *times = (tfb_gen_times){.first_s = t1 - t0, .rest_s = tfb__now() - t1};
    return TFB_STATUS_OK;
}
