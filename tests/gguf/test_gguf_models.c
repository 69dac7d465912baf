/* GGUF models (tfb_model_load_gguf) against their safetensors twins and the gguf package.
 *
 *   test_gguf_models GGUF_FIXTURES HF_FIXTURES SCRATCH_DIR
 *
 * GGUF_FIXTURES is tests/gguf/fixtures/models (gen_model_fixtures.py: llama.cpp's converter run on
 * the weights of tests/hf/fixtures), HF_FIXTURES tests/hf/fixtures. On the reference backend:
 *   - f32 (llama_gqa, mistral, gpt2_ff4, bert_model, t5_d128 v1.0 tied, t5_d128_gated v1.1): the
 *     GGUF file and the Hugging Face directory of the same weights give the same logits (BertModel:
 *     hidden states; T5: the tokens encoded, then fed to the decoder)
 *     (teacher-forced, every row) within 1e-6 of the largest |logit| (llama.cpp's permuted Q/K rows
 *     with the interleaved rope against rotate-half on the original rows), and rotate-half on the
 *     permuted rows, planted, fails it;
 *   - q8_0 (the converter's) and q4_0 (the gguf package's): matrices are kept as stored (their bytes
 *     are the file's), the f32 twin's every tensor hashes to the gguf package's dequantization
 *     (dequant.json), and the q4_0 model's logits equal its f32 twin's within 1e-5;
 *   - a head tied to a Q4_0 embedding: EMBED gathers the exact F32 dequantization, the head runs the
 *     stored Q4_0 bytes;
 *   - mapping refusals, each INPUT with one line naming the file: an unknown architecture, a missing
 *     tensor, an unsupported tensor type, an unmodelled key (rope scaling), metadata disagreeing
 *     with a tensor's shape (the converter's GPT-2 feed_forward_length is 4*n_embd whatever n_inner
 *     says). The malformed files are written to SCRATCH_DIR for cli_gguf_models.sh as well. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "models/formats/ggml_dequant.h"
#include "models/formats/gguf.h"
#include "tests/gguf/test_util.h"
#include "tfbench/model.h"

static const char *gg_dir, *hf_dir, *scratch;

static const char *path2(char *buf, size_t n, const char *dir, const char *name) {
    snprintf(buf, n, "%s/%s", dir, name);
    return buf;
}

/* ---- logits on the reference backend ------------------------------------------------------------ */

/* Teacher-forced logits [n, V] of tokens, or an encoder's hidden states [n, C] (BertModel has no
 * head); NULL (a failure counted) if anything fails. */
static float *logits_of(const tfb_model *m, const int32_t *tokens, int64_t n) {
    const tfb_backend_i *iface = tfb_backend_find("reference");
    tfb_backend *b = NULL;
    tfb_session *s = NULL;
    tfb_backend_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.n_threads = 1;
    float *out = malloc((size_t)(n * tfb_config_out_width(&m->cfg)) * sizeof *out);
    tfb_status st = iface && out ? tfb_backend_init(iface, &opts, &b) : TFB_STATUS_NOMEM;
    if (st == TFB_STATUS_OK)
        st = tfb_session_init(b, m, 0, &s);
    if (st == TFB_STATUS_OK && tfb_config_encoder_only(&m->cfg)) {
        st = tfb_session_encode(s, tokens, n, NULL);
        if (st == TFB_STATUS_OK)
            st = tfb_session_hidden(s, out);
    } else if (st == TFB_STATUS_OK) {
        /* An encoder-decoder (T5) encodes the tokens, then the decoder is fed them too. */
        if (tfb_config_has_cross(&m->cfg))
            st = tfb_session_encode(s, tokens, n, NULL);
        if (st == TFB_STATUS_OK)
            st = tfb_session_decode(s, tokens, n, 0, true, out);
    }
    CHECK(st == TFB_STATUS_OK, "%s: %s", m->cfg.name, tfb_error_last());
    tfb_session_free(s);
    if (b)
        tfb_backend_free(b);
    if (st != TFB_STATUS_OK) {
        free(out);
        return NULL;
    }
    return out;
}

/* max |a - b| / max |b|. */
static double max_rel(const float *a, const float *b, int64_t n) {
    double err = 0.0, scale = 0.0;
    for (int64_t i = 0; i < n; i++) {
        err = fmax(err, fabs((double)a[i] - (double)b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    return scale > 0.0 ? err / scale : INFINITY;
}

static const int32_t TOKENS[] = {1, 17, 42, 3, 88, 61, 29, 5, 70, 11, 0, 95, 64, 2, 33, 7};
#define N_TOKENS ((int64_t)(sizeof TOKENS / sizeof TOKENS[0]))

static double compare_models(const tfb_model *a, const tfb_model *b) {
    int64_t w = tfb_config_out_width(&a->cfg);
    CHECK(w == tfb_config_out_width(&b->cfg), "%s vs %s: output widths differ", a->cfg.name, b->cfg.name);
    float *la = logits_of(a, TOKENS, N_TOKENS), *lb = logits_of(b, TOKENS, N_TOKENS);
    double r = la && lb ? max_rel(la, lb, N_TOKENS * w) : INFINITY;
    free(la);
    free(lb);
    return r;
}

static bool load_gguf(const char *name, bool twin, tfb_model *m) {
    char p[1024];
    tfb_status s = tfb_model_load_gguf(path2(p, sizeof p, gg_dir, name), twin, m);
    CHECK(s == TFB_STATUS_OK, "%s: %s", name, tfb_error_last());
    return s == TFB_STATUS_OK;
}

/* The GGUF file against the Hugging Face directory it was converted from. */
static void test_f32_twin_of_hf(const char *gguf, const char *root, const char *hf) {
    char p[1024];
    tfb_model mg, mh;
    if (!load_gguf(gguf, false, &mg))
        return;
    tfb_status s = tfb_model_load_dir(path2(p, sizeof p, root, hf), TFB_DTYPE_F32, &mh);
    CHECK(s == TFB_STATUS_OK, "%s: %s", hf, tfb_error_last());
    if (s == TFB_STATUS_OK) {
        bool rotary = mg.cfg.pos == TFB_POS_ROTARY;
        CHECK(!rotary || (mg.cfg.rope_layout == TFB_ROPE_INTERLEAVED && mh.cfg.rope_layout == TFB_ROPE_HALF),
              "%s: rope layouts", gguf);
        CHECK(mg.cfg.dec.n_kv_head == mh.cfg.dec.n_kv_head && mg.cfg.eps == mh.cfg.eps &&
                  mg.cfg.has_lm_head == mh.cfg.has_lm_head && mg.cfg.n_type == mh.cfg.n_type &&
                  mg.cfg.rope_theta == mh.cfg.rope_theta && mg.cfg.n_ctx == mh.cfg.n_ctx,
              "%s: description differs from %s's", gguf, hf);
        double r = compare_models(&mg, &mh);
        printf("%-28s vs %-10s max-relative output difference %.3g (limit 1e-6)\n", gguf, hf, r);
        CHECK(r <= 1e-6, "%s vs %s: %.3g", gguf, hf, r);
        /* The check can fail: the permuted rows under rotate-half are another model. */
        if (rotary) {
            mg.cfg.rope_layout = TFB_ROPE_HALF;
            double planted = compare_models(&mg, &mh);
            printf("%-28s planted: rotate-half on llama.cpp's rows gives %.3g, must exceed 1e-3\n", gguf,
                   planted);
            CHECK(planted > 1e-3, "%s: the planted rope layout went unnoticed (%.3g)", gguf, planted);
        }
        if (mg.cfg.pos == TFB_POS_RELATIVE) {
            /* The max distance no GGUF key holds: 128 is what the check rests on. */
            mg.cfg.rel_max_distance = 9;
            double planted = compare_models(&mg, &mh);
            printf("%-28s planted: relative max distance 9 instead of 128 gives %.3g, must exceed 1e-3\n",
                   gguf, planted);
            CHECK(planted > 1e-3, "%s: the planted max distance went unnoticed (%.3g)", gguf, planted);
        }
        tfb_model_free(&mh);
    }
    tfb_model_free(&mg);
}

/* A converter-quantized GPT-2 (attn_qkv split by rows, blocks kept) against the safetensors twin
 * quantized by tfbench: the gguf package's Q8_0 and tfbench's give the same blocks for every matrix
 * (so the split is right); the logits differ by the converter's Q8_0 token embedding, which the file
 * holds quantized and tfbench gathers dequantized, where the safetensors table is f32. */
static void test_gpt2_q8_0(void) {
    char p[1024];
    tfb_model mg, mh;
    if (!load_gguf("gpt2_ff4.q8_0.gguf", false, &mg))
        return;
    tfb_status s = tfb_model_load_dir(path2(p, sizeof p, gg_dir, "gpt2_ff4"), TFB_DTYPE_Q8_0, &mh);
    CHECK(s == TFB_STATUS_OK, "gpt2_ff4 at q8_0: %s", tfb_error_last());
    if (s == TFB_STATUS_OK) {
        const tfb_weight *wq = tfb_model_find(&mg, "dec.1.attn.wv");
        CHECK(mg.per_tensor && mg.wtype == TFB_DTYPE_Q8_0 && wq && wq->dtype == TFB_DTYPE_Q8_0,
              "gpt2_ff4.q8_0 dtypes");
        int same = 0, total = 0;
        for (int i = 0; i < mg.n_w; i++) {
            const tfb_weight *a = &mg.w[i], *b = tfb_model_find(&mh, a->name);
            if (a->dtype != TFB_DTYPE_Q8_0 || !b || b->dtype != a->dtype)
                continue;
            total++;
            same += memcmp(a->data, b->data,
                           tfb_dtype_row_bytes(a->dtype, a->shape[1]) * (size_t)a->shape[0]) == 0;
        }
        printf("%-28s %d/%d Q8_0 matrices bit-identical to tfbench's own quantization of the safetensors\n",
               "gpt2_ff4.q8_0.gguf", same, total);
        CHECK(total == 12 && same == total, "gpt2_ff4.q8_0.gguf: %d/%d matrices as tfbench quantizes them",
              same, total);
        double r = compare_models(&mg, &mh);
        printf("%-28s vs gpt2_ff4 quantized to q8_0 by tfbench: max-relative logit difference %.3g (limit "
               "1e-2)\n",
               "gpt2_ff4.q8_0.gguf", r);
        CHECK(r <= 1e-2, "gpt2_ff4.q8_0.gguf vs tfbench's q8_0: %.3g", r);
        tfb_model_free(&mh);
    }
    tfb_model_free(&mg);
}

/* ---- stored bytes and the gguf package's dequantization ----------------------------------------- */

/* tfbench's canonical name of a llama GGUF tensor. */
static bool llama_canon(const char *g, char *out, size_t n) {
    static const char *const map[][2] = {
        {"attn_q.weight", "attn.wq"},      {"attn_k.weight", "attn.wk"},  {"attn_v.weight", "attn.wv"},
        {"attn_output.weight", "attn.wo"}, {"ffn_gate.weight", "ffn.wg"}, {"ffn_up.weight", "ffn.w1"},
        {"ffn_down.weight", "ffn.w2"},     {"attn_norm.weight", "ln1.g"}, {"ffn_norm.weight", "ln2.g"}};
    int layer, used = 0;
    if (strcmp(g, "token_embd.weight") == 0)
        return snprintf(out, n, "tok_emb") > 0;
    if (strcmp(g, "output.weight") == 0)
        return snprintf(out, n, "lm_head") > 0;
    if (strcmp(g, "output_norm.weight") == 0)
        return snprintf(out, n, "final_ln.g") > 0;
    if (sscanf(g, "blk.%d.%n", &layer, &used) != 1 || used == 0)
        return false;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(g + used, map[i][0]) == 0)
            return snprintf(out, n, "dec.%d.%s", layer, map[i][1]) > 0;
    return false;
}

/* Every quantized matrix is the file's bytes; every tensor of the f32 twin hashes to the gguf
 * package's dequantization. */
static void test_stored_and_dequant(const char *name, const cJSON *hashes, tfb_dtype want,
                                    const char *want_label) {
    char p[1024];
    tfb_model m, t;
    if (!load_gguf(name, false, &m))
        return;
    if (!load_gguf(name, true, &t)) {
        tfb_model_free(&m);
        return;
    }
    char label[128];
    CHECK(m.per_tensor && m.wtype == want && !t.per_tensor && t.wtype == TFB_DTYPE_F32, "%s: dtypes", name);
    CHECK(strcmp(tfb_model_dtype_label(&m, label, sizeof label), want_label) == 0, "%s: label %s", name,
          label);
    tfb__gguf_file f;
    tfb_status s = tfb__gguf_open(path2(p, sizeof p, gg_dir, name), &f);
    CHECK(s == TFB_STATUS_OK, "%s", tfb_error_last());
    int n_bytes_eq = 0, n_hash_eq = 0;
    for (int64_t i = 0; s == TFB_STATUS_OK && i < f.n_t; i++) {
        const tfb__gguf_tensor *gt = &f.t[i];
        char canon[TFB_NAME_MAX], hex[65];
        CHECK(llama_canon(gt->name.s, canon, sizeof canon), "%s: %s unmapped", name, gt->name.s);
        const tfb_weight *ws = tfb_model_find(&m, canon), *wt = tfb_model_find(&t, canon);
        if (!ws || !wt) {
            CHECK(false, "%s: %s not loaded", name, canon);
            continue;
        }
        tfb_dtype fdt;
        CHECK(tfb__gguf_ggml_dtype(gt->ggml_type, &fdt), "%s", gt->name.s);
        if (fdt != TFB_DTYPE_F32 && strcmp(canon, "tok_emb") != 0) {
            void *raw = malloc((size_t)gt->nbytes);
            CHECK(raw && tfb__gguf_read(&f, gt, raw, (size_t)gt->nbytes) == TFB_STATUS_OK, "%s", gt->name.s);
            bool eq = raw && ws->dtype == fdt && memcmp(raw, ws->data, (size_t)gt->nbytes) == 0;
            CHECK(eq, "%s: %s is not kept as stored", name, canon);
            n_bytes_eq += eq;
            free(raw);
        }
        int64_t ne = wt->shape[0] * (wt->ndim > 1 ? wt->shape[1] : 1);
        CHECK(wt->dtype == TFB_DTYPE_F32, "%s: twin %s", name, canon);
        sha256_hex(wt->data, (size_t)ne * sizeof(float), hex);
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(hashes, gt->name.s);
        bool eq = cJSON_IsString(h) && strcmp(h->valuestring, hex) == 0;
        CHECK(eq, "%s: %s dequantizes unlike the gguf package", name, gt->name.s);
        n_hash_eq += eq;
    }
    printf("%-28s %d matrices kept as stored (%s), %d/%lld tensors of the f32 twin bit-identical to gguf's "
           "dequantize\n",
           name, n_bytes_eq, label, n_hash_eq, (long long)f.n_t);
    tfb__gguf_close(&f);
    if (want == TFB_DTYPE_Q4_0) {
        double r = compare_models(&m, &t);
        printf("%-28s vs its f32 twin: max-relative logit difference %.3g (limit 1e-5)\n", name, r);
        CHECK(r <= 1e-5, "%s vs f32 twin: %.3g", name, r);
    }
    tfb_model_free(&m);
    tfb_model_free(&t);
}

/* A head tied to a Q4_0 embedding: the stored bytes for the head, the exact dequantization for EMBED. */
static void test_tied_quantized(const cJSON *q4_hashes) {
    tfb_model m, t;
    if (!load_gguf("llama_gqa.q4_0_tied.gguf", false, &m))
        return;
    const tfb_weight *emb = tfb_model_find(&m, "tok_emb"), *head = tfb_model_find(&m, "lm_head");
    CHECK(m.cfg.head == TFB_HEAD_OWN && emb && head && emb->dtype == TFB_DTYPE_F32 &&
              head->dtype == TFB_DTYPE_Q4_0,
          "tied q4_0: head %d", (int)m.cfg.head);
    if (emb) {
        char hex[65];
        sha256_hex(emb->data, (size_t)(emb->shape[0] * emb->shape[1]) * sizeof(float), hex);
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(q4_hashes, "token_embd.weight");
        CHECK(cJSON_IsString(h) && strcmp(h->valuestring, hex) == 0,
              "tied q4_0: tok_emb is not the exact dequantization");
    }
    if (load_gguf("llama_gqa.q4_0_tied.gguf", true, &t)) {
        CHECK(t.cfg.head == TFB_HEAD_TOK_EMB && !tfb_model_find(&t, "lm_head"), "tied q4_0 twin: head %d",
              (int)t.cfg.head);
        double r = compare_models(&m, &t);
        printf("%-28s (head tied to a Q4_0 table) vs its f32 twin: max-relative logit difference %.3g (limit "
               "1e-5)\n",
               "llama_gqa.q4_0_tied.gguf", r);
        CHECK(r <= 1e-5, "tied q4_0 vs twin: %.3g", r);
        tfb_model_free(&t);
    }
    tfb_model_free(&m);
}

/* ---- --gguf-convert: ggml's dequantization, bit for bit ----------------------------------------- */

/* Every tensor of kquants.gguf (random blocks of Q4_1 ... Q6_K) dequantizes as the gguf package does. */
static void test_kquants(const cJSON *hashes) {
    char p[1024];
    tfb__gguf_file f;
    tfb_status s = tfb__gguf_open(path2(p, sizeof p, gg_dir, "kquants.gguf"), &f);
    CHECK(s == TFB_STATUS_OK, "%s", tfb_error_last());
    if (s != TFB_STATUS_OK)
        return;
    int same = 0;
    for (int64_t i = 0; i < f.n_t; i++) {
        const tfb__gguf_tensor *t = &f.t[i];
        int64_t cols = t->ne[0], rows = t->ne[1];
        uint8_t *raw = malloc((size_t)t->nbytes);
        float *x = malloc((size_t)(cols * rows) * sizeof *x);
        bool ok = raw && x && tfb__gguf_read(&f, t, raw, (size_t)t->nbytes) == TFB_STATUS_OK;
        for (int64_t r = 0; ok && r < rows; r++)
            ok = tfb__ggml_dequantize_row(t->ggml_type, raw + (size_t)r * ((size_t)t->nbytes / (size_t)rows),
                                          x + r * cols, cols);
        char hex[65] = "";
        if (ok)
            sha256_hex((const uint8_t *)x, (size_t)(cols * rows) * sizeof *x, hex);
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(hashes, t->name.s);
        bool eq = ok && cJSON_IsString(h) && strcmp(h->valuestring, hex) == 0;
        CHECK(eq, "kquants.gguf: %s dequantizes unlike the gguf package", t->name.s);
        same += eq;
        free(raw);
        free(x);
    }
    printf("%-28s %d/%lld types (Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K) bit-identical to gguf's dequantize\n",
           "kquants.gguf", same, (long long)f.n_t);
    tfb__gguf_close(&f);
}

/* A Q5_0 matrix (the unsupported-type file) loads under --gguf-convert q8_0 as tfbench's Q8_0 of
 * ggml's dequantization, counted in the label; without it the refusal names the option. */
static void test_convert(const char *path) {
    tfb_model m;
    tfb_model_set_gguf_convert(TFB_DTYPE_Q8_0);
    tfb_status s = tfb_model_load_gguf(path, false, &m);
    tfb_model_set_gguf_convert(TFB_DTYPE_COUNT);
    CHECK(s == TFB_STATUS_OK, "--gguf-convert q8_0: %s", tfb_error_last());
    if (s != TFB_STATUS_OK)
        return;
    tfb__gguf_file f;
    const tfb_weight *w = tfb_model_find(&m, "dec.0.attn.wq");
    CHECK(tfb__gguf_open(path, &f) == TFB_STATUS_OK, "%s", tfb_error_last());
    const tfb__gguf_tensor *t = tfb__gguf_find_tensor(&f, "blk.0.attn_q.weight");
    int64_t C = 64;
    uint8_t *raw = malloc((size_t)t->nbytes);
    float *x = malloc((size_t)(C * C) * sizeof *x);
    size_t rb = tfb_dtype_row_bytes(TFB_DTYPE_Q8_0, C);
    uint8_t *q = malloc(rb * (size_t)C);
    bool ok = w && w->dtype == TFB_DTYPE_Q8_0 && raw && x && q &&
              tfb__gguf_read(&f, t, raw, (size_t)t->nbytes) == TFB_STATUS_OK;
    for (int64_t r = 0; ok && r < C; r++) {
        ok = tfb__ggml_dequantize_row(t->ggml_type, raw + (size_t)r * ((size_t)t->nbytes / (size_t)C),
                                      x + r * C, C);
        tfb_quantize_row(TFB_DTYPE_Q8_0, x + r * C, q + (size_t)r * rb, C);
    }
    ok = ok && memcmp(q, w->data, rb * (size_t)C) == 0;
    char label[128];
    tfb_model_dtype_label(&m, label, sizeof label);
    CHECK(ok && m.n_converted == 1 && strstr(label, "; 1 converted"),
          "--gguf-convert q8_0: wq not converted (%s)", label);
    if (ok)
        printf("--gguf-convert q8_0: blk.0.attn_q.weight (Q5_0) loaded as tfbench's Q8_0 of ggml's "
               "dequantization; "
               "label '%s'\n",
               label);
    free(raw), free(x), free(q);
    tfb__gguf_close(&f);
    tfb_model_free(&m);
}

/* ---- mapping refusals -------------------------------------------------------------------------- */

/* buf with the first `from` replaced by `to` (no longer than from), the lost bytes given back as
 * padding before the data section (so every tensor offset still holds); written to SCRATCH/out. */
static bool write_patched(const uint8_t *buf, size_t n, uint64_t data_start, const void *from, size_t nf,
                          const void *to, size_t nt, const char *out, char *path, size_t np) {
    const uint8_t *hit = NULL;
    for (size_t i = 0; i + nf <= n && !hit; i++)
        if (memcmp(buf + i, from, nf) == 0)
            hit = buf + i;
    CHECK(hit && nt <= nf && hit + nf <= buf + data_start, "%s: pattern not found", out);
    if (!hit || nt > nf)
        return false;
    FILE *fp = fopen(path2(path, np, scratch, out), "wb");
    CHECK(fp != NULL, "cannot write %s", path);
    if (!fp)
        return false;
    size_t at = (size_t)(hit - buf);
    static const uint8_t zeros[64];
    bool ok = fwrite(buf, 1, at, fp) == at && fwrite(to, 1, nt, fp) == nt &&
              fwrite(buf + at + nf, 1, (size_t)data_start - at - nf, fp) == (size_t)data_start - at - nf &&
              fwrite(zeros, 1, nf - nt, fp) == nf - nt &&
              fwrite(buf + data_start, 1, n - data_start, fp) == n - data_start;
    ok = fclose(fp) == 0 && ok;
    CHECK(ok, "writing %s", path);
    return ok;
}

/* A GGUF string as stored: uint64 length + bytes. */
static size_t gstr(uint8_t *out, const char *s) {
    uint64_t n = strlen(s);
    memcpy(out, &n, 8);
    memcpy(out + 8, s, n);
    return 8 + n;
}

static void expect_refused(const char *path, const char *what) {
    tfb_model m;
    tfb_status s = tfb_model_load_gguf(path, false, &m);
    const char *msg = tfb_error_last();
    bool ok = s == TFB_STATUS_INPUT && strncmp(msg, path, strlen(path)) == 0 && strstr(msg, what) &&
              !strchr(msg, '\n');
    CHECK(ok, "%s: status %d, message '%s', wanted INPUT with '%s'", path, (int)s, msg, what);
    if (ok)
        printf("refused as expected: %s\n", msg);
    if (s == TFB_STATUS_OK)
        tfb_model_free(&m);
}

static void test_refusals(void) {
    char src[1024], p[1024];
    size_t n;
    uint8_t *buf = (uint8_t *)slurp(path2(src, sizeof src, gg_dir, "llama_gqa.f32.gguf"), &n);
    tfb__gguf_file f;
    CHECK(buf && tfb__gguf_open(src, &f) == TFB_STATUS_OK, "%s", src);
    if (!buf)
        return;
    uint64_t ds = f.data_start;
    tfb__gguf_close(&f);
    uint8_t a[128], b[128];
    size_t na, nb;

    na = gstr(a, "llama"), nb = gstr(b, "bloom");
    if (write_patched(buf, n, ds, a, na, b, nb, "unknown-arch.gguf", p, sizeof p))
        expect_refused(p, "architecture 'bloom' is not modelled");
    na = gstr(a, "blk.1.ffn_up.weight"), nb = gstr(b, "blk.1.ffn_up.weighx");
    if (write_patched(buf, n, ds, a, na, b, nb, "missing-tensor.gguf", p, sizeof p))
        expect_refused(p, "missing tensor 'blk.1.ffn_up.weight'");
    na = gstr(a, "llama.rope.dimension_count"), nb = gstr(b, "llama.rope.scaling.factor");
    if (write_patched(buf, n, ds, a, na, b, nb, "rope-scaling.gguf", p, sizeof p))
        expect_refused(p, "key llama.rope.scaling.factor is not modelled");
    /* blk.0.attn_q.weight (2 dims: 64, 64) stored as Q5_0: 2 blocks of 22 bytes a row, inside its range. */
    na = gstr(a, "blk.0.attn_q.weight");
    memcpy(b, a, na);
    uint32_t nd = 2, ty = 6;
    uint64_t d = 64;
    memcpy(b + na, &nd, 4), memcpy(b + na + 4, &d, 8), memcpy(b + na + 12, &d, 8),
        memcpy(b + na + 20, &ty, 4);
    memcpy(a + na, b + na, 20);
    ty = 0;
    memcpy(a + na + 20, &ty, 4);
    if (write_patched(buf, n, ds, a, na + 24, b, na + 24, "unsupported-type.gguf", p, sizeof p)) {
        expect_refused(
            p, "tensor 'blk.0.attn_q.weight' is of type Q5_0, which tfbench does not run (--gguf-convert");
        /* The F32 bytes read as Q5_0 blocks have arbitrary fp16 scales (NaN among them): converting
         * refuses them, one line. Then valid blocks (scale 0.01, patterned quants) convert. */
        tfb_model_set_gguf_convert(TFB_DTYPE_Q8_0);
        expect_refused(p, "dequantizes to a non-finite value");
        tfb_model_set_gguf_convert(TFB_DTYPE_COUNT);
        tfb__gguf_file g;
        FILE *fp = NULL;
        bool ok = tfb__gguf_open(p, &g) == TFB_STATUS_OK;
        const tfb__gguf_tensor *t = ok ? tfb__gguf_find_tensor(&g, "blk.0.attn_q.weight") : NULL;
        if (t && (fp = fopen(p, "r+b")) && fseek(fp, (long)(g.data_start + t->offset), SEEK_SET) == 0) {
            for (uint64_t k = 0; ok && k < t->nbytes / 22; k++) {
                uint8_t blk[22] = {0x1F, 0x21}; /* fp16 0.01 */
                for (int j = 2; j < 22; j++)
                    blk[j] = (uint8_t)(k * 31 + (uint64_t)j * 17);
                ok = fwrite(blk, 1, sizeof blk, fp) == sizeof blk;
            }
        }
        ok = t && fp && fclose(fp) == 0 && ok;
        if (t)
            tfb__gguf_close(&g);
        CHECK(ok, "%s: cannot write valid Q5_0 blocks", p);
        if (ok)
            test_convert(p);
    }
    free(buf);
    expect_refused(path2(p, sizeof p, gg_dir, "gpt2.f32.gguf"),
                   "tensor 'blk.0.ffn_up.weight' has shape [64,32], the metadata implies [128,32]");
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s GGUF_FIXTURES HF_FIXTURES SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    gg_dir = argv[1], hf_dir = argv[2], scratch = argv[3];
    char p[1024];
    char *text = slurp(path2(p, sizeof p, gg_dir, "dequant.json"), NULL);
    cJSON *dq = text ? cJSON_Parse(text) : NULL;
    free(text);
    CHECK(dq != NULL, "%s unreadable", p);

    test_f32_twin_of_hf("llama_gqa.f32.gguf", hf_dir, "llama_gqa");
    test_f32_twin_of_hf("mistral.f32.gguf", hf_dir, "mistral");
    test_f32_twin_of_hf("gpt2_ff4.f32.gguf", gg_dir, "gpt2_ff4");
    test_f32_twin_of_hf("bert_model.f32.gguf", hf_dir, "bert_model");
    test_f32_twin_of_hf("t5_d128.f32.gguf", gg_dir, "t5_d128");
    test_f32_twin_of_hf("t5_d128_gated.f32.gguf", gg_dir, "t5_d128_gated");
    test_stored_and_dequant("llama_gqa.q8_0.gguf", cJSON_GetObjectItem(dq, "llama_gqa.q8_0.gguf"),
                            TFB_DTYPE_Q8_0, "q8_0");
    test_stored_and_dequant("llama_gqa.q4_0.gguf", cJSON_GetObjectItem(dq, "llama_gqa.q4_0.gguf"),
                            TFB_DTYPE_Q4_0, "mixed (q8_0 1, q4_0 14)");
    test_tied_quantized(cJSON_GetObjectItem(dq, "llama_gqa.q4_0.gguf"));
    test_gpt2_q8_0();
    test_kquants(cJSON_GetObjectItem(dq, "kquants.gguf"));
    test_refusals();
    cJSON_Delete(dq);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all GGUF model checks passed\n");
    return 0;
}
