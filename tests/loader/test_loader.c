/* Hugging Face directory loader: tiny valid models load with the right mapping, and every kind of
 * malformed file is refused with TFB_STATUS_INPUT and a message naming the file.
 *
 *   test_loader                     run every case in a fresh temporary directory
 *   test_loader --make-good DIR     write a valid tiny GPT-2 directory (for the CLI tests)
 *   test_loader --make-bad DIR KIND write a malformed one (KIND: see bad_kinds below)
 *
 * The fixtures are written here, from C, rather than committed as binaries. */
#define _XOPEN_SOURCE 700

#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tfbench/model.h"

/* ---- writing safetensors files ------------------------------------------------------------------ */

typedef struct tt {
    char name[128];
    char like[128]; /* when set: the values of that tensor (a tied copy) */
    const char *dtype; /* "F32", "F16", "BF16", "I64" */
    int ndim;
    int64_t shape[4];
} tt;

typedef struct tlist {
    tt t[512];
    int n;
} tlist;

/* Deterministic values, exactly representable in f16 and bf16: multiples of 1/8 in [-1, 1]. */
static uint32_t hash(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}
static float val(const char *name, int64_t i) {
    return (float)((int)((hash(name) % 17 + (uint64_t)i * 7) % 17) - 8) / 8.0f;
}

static int64_t nelem(const tt *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}
static int esize(const char *dt) {
    return strcmp(dt, "F32") == 0 ? 4 : strcmp(dt, "I64") == 0 ? 8 : 2;
}

static void add(tlist *l, const char *dtype, int ndim, int64_t d0, int64_t d1, const char *fmt, ...) {
    if (l->n >= (int)(sizeof l->t / sizeof l->t[0])) {
        fprintf(stderr, "test: too many tensors\n");
        exit(1);
    }
    tt *t = &l->t[l->n++];
    t->like[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->dtype = dtype;
    t->ndim = ndim;
    t->shape[0] = d0;
    t->shape[1] = d1;
}

static void drop(tlist *l, const char *name) {
    for (int i = 0; i < l->n; i++) {
        if (strcmp(l->t[i].name, name) == 0) {
            memmove(&l->t[i], &l->t[i + 1], (size_t)(l->n - i - 1) * sizeof l->t[0]);
            l->n--;
            return;
        }
    }
    fprintf(stderr, "test: no tensor %s to drop\n", name);
    exit(1);
}

static tt *get(tlist *l, const char *name) {
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->t[i].name, name) == 0)
            return &l->t[i];
    fprintf(stderr, "test: no tensor %s\n", name);
    exit(1);
}

/* How to damage a file. */
typedef struct wopts {
    long truncate_by;       /* bytes cut off the end */
    int hdr_len_past_end;   /* header length field beyond the file */
    int offset_past_end;    /* last tensor's end offset beyond the data */
    int overlap;            /* second tensor starts inside the first */
    int span_mismatch;      /* first tensor's shape claims one element more than its bytes */
    int duplicate;          /* first tensor's entry repeated */
    const char *raw_header; /* header text used verbatim */
} wopts;

static void die_io(const char *what, const char *path) {
    fprintf(stderr, "test: cannot %s %s\n", what, path);
    exit(1);
}

static void write_st(const char *path, const tlist *l, const wopts *o) {
    static const wopts none = {0};
    if (!o)
        o = &none;
    size_t cap = 4096 + (size_t)l->n * 256, len = 0;
    char *h = malloc(cap);
    uint64_t off = 0;
    len += (size_t)snprintf(h + len, cap - len, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (int i = 0; i < l->n; i++) {
        const tt *t = &l->t[i];
        uint64_t bytes = (uint64_t)nelem(t) * (uint64_t)esize(t->dtype);
        uint64_t b = off, e = off + bytes;
        if (o->overlap && i == 1)
            b -= 4, e -= 4;
        if (o->offset_past_end && i == l->n - 1)
            e += 64;
        int64_t d0 = t->shape[0] + ((o->span_mismatch && i == 0) ? 1 : 0);
        for (int rep = 0; rep < ((o->duplicate && i == 0) ? 2 : 1); rep++) {
            len += (size_t)snprintf(h + len, cap - len, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", t->name,
                                    t->dtype);
            for (int d = 0; d < t->ndim; d++)
                len += (size_t)snprintf(h + len, cap - len, "%s%lld", d ? "," : "",
                                        (long long)(d == 0 ? d0 : t->shape[d]));
            len += (size_t)snprintf(h + len, cap - len, "],\"data_offsets\":[%llu,%llu]}",
                                    (unsigned long long)b, (unsigned long long)e);
        }
        off += bytes;
    }
    len += (size_t)snprintf(h + len, cap - len, "}  ");
    if (o->raw_header) {
        free(h);
        h = strdup(o->raw_header);
        len = strlen(h);
    }
    FILE *fp = fopen(path, "wb");
    if (!fp)
        die_io("create", path);
    uint64_t hl = o->hdr_len_past_end ? (uint64_t)len + off + 1000 : (uint64_t)len;
    unsigned char lb[8];
    for (int i = 0; i < 8; i++)
        lb[i] = (unsigned char)(hl >> (8 * i));
    int ok = fwrite(lb, 1, 8, fp) == 8 && fwrite(h, 1, len, fp) == len;
    for (int i = 0; i < l->n && ok; i++) {
        const tt *t = &l->t[i];
        for (int64_t k = 0; k < nelem(t) && ok; k++) {
            float v = val(t->like[0] ? t->like : t->name, k);
            if (strstr(t->name, "embed_positions")) {
                /* Marian's sinusoidal table: sin in [0, C/2), cos in [C/2, C). */
                int64_t C = t->shape[1], p = k / C, j = k % C, jj = j < C / 2 ? j : j - C / 2;
                double a = (double)p / pow(10000.0, 2.0 * (double)jj / (double)C);
                v = (float)(j < C / 2 ? sin(a) : cos(a));
            }
            unsigned char b[8];
            int n = esize(t->dtype);
            uint64_t u;
            if (strcmp(t->dtype, "F32") == 0) {
                uint32_t x;
                memcpy(&x, &v, 4);
                u = x;
            } else if (strcmp(t->dtype, "F16") == 0) {
                u = tfb_f32_to_f16(v);
            } else if (strcmp(t->dtype, "BF16") == 0) {
                u = tfb_f32_to_bf16(v);
            } else {
                u = (uint64_t)(int64_t)(v * 8);
            }
            for (int j = 0; j < n; j++)
                b[j] = (unsigned char)(u >> (8 * j));
            ok = fwrite(b, 1, (size_t)n, fp) == (size_t)n;
        }
    }
    if (!ok || fclose(fp) != 0)
        die_io("write", path);
    free(h);
    if (o->truncate_by > 0) {
        struct stat st;
        if (stat(path, &st) != 0 || truncate(path, st.st_size - o->truncate_by) != 0)
            die_io("truncate", path);
    }
}

static void write_text(const char *path, const char *text) {
    FILE *fp = fopen(path, "wb");
    if (!fp || fputs(text, fp) < 0 || fclose(fp) != 0)
        die_io("write", path);
}

static char *join(const char *dir, const char *name) {
    static char buf[8][4096];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", dir, name);
    return b;
}

/* ---- tiny models --------------------------------------------------------------------------------- */

enum { C = 32, H = 2, V = 16, P = 8, NL = 2, FF = 4 * C };

static const char *gpt2_config(int64_t c, int64_t nhead) {
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"architectures\": [\"GPT2LMHeadModel\"], \"model_type\": \"gpt2\", \"n_embd\": %lld, "
             "\"n_layer\": %d, \"n_head\": %lld, \"n_positions\": %d, \"vocab_size\": %d, \"n_inner\": null, "
             "\"layer_norm_epsilon\": 1e-05, \"activation_function\": \"gelu_new\", \"bos_token_id\": 15, "
             "\"eos_token_id\": 15}\n",
             (long long)c, NL, (long long)nhead, P, V);
    return buf;
}

static void gpt2_tensors(tlist *l, const char *pre, const char *dt, int64_t c) {
    l->n = 0;
    int64_t f = 4 * c;
    add(l, dt, 2, V, c, "%swte.weight", pre);
    add(l, dt, 2, P, c, "%swpe.weight", pre);
    for (int i = 0; i < NL; i++) {
        add(l, dt, 1, c, 0, "%sh.%d.ln_1.weight", pre, i);
        add(l, dt, 1, c, 0, "%sh.%d.ln_1.bias", pre, i);
        add(l, dt, 2, c, 3 * c, "%sh.%d.attn.c_attn.weight", pre, i);
        add(l, dt, 1, 3 * c, 0, "%sh.%d.attn.c_attn.bias", pre, i);
        add(l, dt, 2, c, c, "%sh.%d.attn.c_proj.weight", pre, i);
        add(l, dt, 1, c, 0, "%sh.%d.attn.c_proj.bias", pre, i);
        add(l, dt, 1, c, 0, "%sh.%d.ln_2.weight", pre, i);
        add(l, dt, 1, c, 0, "%sh.%d.ln_2.bias", pre, i);
        add(l, dt, 2, c, f, "%sh.%d.mlp.c_fc.weight", pre, i);
        add(l, dt, 1, f, 0, "%sh.%d.mlp.c_fc.bias", pre, i);
        add(l, dt, 2, f, c, "%sh.%d.mlp.c_proj.weight", pre, i);
        add(l, dt, 1, c, 0, "%sh.%d.mlp.c_proj.bias", pre, i);
        /* the causal-mask buffer old checkpoints carry: must be ignored */
        add(l, "F32", 4, 1, 1, "%sh.%d.attn.bias", pre, i);
        l->t[l->n - 1].shape[2] = P, l->t[l->n - 1].shape[3] = P;
    }
    add(l, dt, 1, c, 0, "%sln_f.weight", pre);
    add(l, dt, 1, c, 0, "%sln_f.bias", pre);
    add(l, dt, 2, V, c, "lm_head.weight");
    snprintf(l->t[l->n - 1].like, sizeof l->t[0].like, "%swte.weight", pre);
}

static void make_dir(const char *dir) {
    if (mkdir(dir, 0755) != 0)
        die_io("mkdir", dir);
}

static void make_gpt2(const char *dir, const char *pre, const char *dt, const wopts *o) {
    static tlist l;
    make_dir(dir);
    write_text(join(dir, "config.json"), gpt2_config(C, H));
    gpt2_tensors(&l, pre, dt, C);
    write_st(join(dir, "model.safetensors"), &l, o);
}

/* ---- checks -------------------------------------------------------------------------------------- */

static int failures;

#define CHECK(cond, ...)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                \
            fprintf(stderr, __VA_ARGS__);                                                                    \
            fprintf(stderr, "\n");                                                                           \
            failures++;                                                                                      \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)

/* Weight w element (r, c) as a float. */
static float wat(const tfb_weight *w, int64_t r, int64_t c) {
    int64_t cols = w->ndim > 1 ? w->shape[1] : w->shape[0];
    float row[4096];
    size_t rb = tfb_dtype_row_bytes(w->dtype, cols);
    tfb_dequantize_row(w->dtype, (const char *)w->data + (size_t)r * rb, row, cols);
    return row[c];
}

static const tfb_weight *need(const tfb_model *m, const char *name) {
    const tfb_weight *w = tfb_model_find(m, name);
    if (!w)
        fprintf(stderr, "  missing weight %s\n", name);
    return w;
}

/* The GPT-2 mapping: Conv1D transposes, the c_attn split, biases, dtypes. */
static void check_gpt2(const char *dir, const char *pre, tfb_dtype wtype, float tol) {
    tfb_model m;
    tfb_status s = tfb_model_load_dir(dir, wtype, &m);
    CHECK(s == TFB_STATUS_OK, "load %s: %s", dir, tfb_error_last());
    const tfb_config *c = &m.cfg;
    int bad = tfb_config_has_encoder(c) || c->d_model != C || c->dec.n_head != H || c->dec.n_layer != NL ||
              c->dec.d_ff != FF || c->n_vocab != V || c->n_ctx != P || c->act != TFB_ACT_GELU_TANH ||
              c->eos_id != 15 || fabsf(c->eps - 1e-5f) > 1e-9f || m.wtype != wtype;
    char nm[160];
    const tfb_weight *wq, *wk, *wv, *bv, *w1, *w2, *wo, *te;
    if (!bad && (te = need(&m, "tok_emb")) && (wq = need(&m, "dec.1.attn.wq")) &&
        (wk = need(&m, "dec.1.attn.wk")) && (wv = need(&m, "dec.1.attn.wv")) &&
        (bv = need(&m, "dec.1.attn.wv.bias")) && (w1 = need(&m, "dec.0.ffn.w1")) &&
        (w2 = need(&m, "dec.0.ffn.w2")) && (wo = need(&m, "dec.1.attn.wo"))) {
        bad |= te->dtype != TFB_DTYPE_F32 || wq->dtype != wtype || bv->dtype != TFB_DTYPE_F32;
        bad |= w1->shape[0] != FF || w1->shape[1] != C || w2->shape[0] != C || w2->shape[1] != FF;
        snprintf(nm, sizeof nm, "%sh.1.attn.c_attn.weight", pre);
        for (int o = 0; o < C && !bad; o++)
            for (int i = 0; i < C && !bad; i++) {
                bad |= fabsf(wat(wq, o, i) - val(nm, (int64_t)i * 3 * C + o)) > tol;
                bad |= fabsf(wat(wk, o, i) - val(nm, (int64_t)i * 3 * C + C + o)) > tol;
                bad |= fabsf(wat(wv, o, i) - val(nm, (int64_t)i * 3 * C + 2 * C + o)) > tol;
            }
        snprintf(nm, sizeof nm, "%sh.1.attn.c_attn.bias", pre);
        for (int o = 0; o < C && !bad; o++)
            bad |= wat(bv, 0, o) != val(nm, 2 * C + o);
        snprintf(nm, sizeof nm, "%sh.0.mlp.c_fc.weight", pre);
        for (int f = 0; f < FF && !bad; f++)
            for (int i = 0; i < C && !bad; i++)
                bad |= fabsf(wat(w1, f, i) - val(nm, (int64_t)i * FF + f)) > tol;
        snprintf(nm, sizeof nm, "%sh.0.mlp.c_proj.weight", pre);
        for (int o = 0; o < C && !bad; o++)
            for (int f = 0; f < FF && !bad; f++)
                bad |= fabsf(wat(w2, o, f) - val(nm, (int64_t)f * C + o)) > tol;
        snprintf(nm, sizeof nm, "%sh.1.attn.c_proj.weight", pre);
        for (int o = 0; o < C && !bad; o++)
            for (int i = 0; i < C && !bad; i++)
                bad |= fabsf(wat(wo, o, i) - val(nm, (int64_t)i * C + o)) > tol;
        snprintf(nm, sizeof nm, "%swte.weight", pre);
        for (int k = 0; k < V * C && !bad; k++)
            bad |= ((const float *)te->data)[k] != val(nm, k);
    } else {
        bad = 1;
    }
    tfb_model_free(&m);
    CHECK(!bad, "%s: config or weights mapped wrongly", dir);
}

/* A malformed directory must give INPUT and a message containing `mention`. */
static void expect_input(const char *what, const char *dir, tfb_dtype wtype, const char *mention) {
    tfb_model m;
    tfb_status s = tfb_model_load_dir(dir, wtype, &m);
    const char *msg = tfb_error_last();
    if (s == TFB_STATUS_OK)
        tfb_model_free(&m);
    CHECK(s == TFB_STATUS_INPUT, "%s: got status %s (%s)", what, tfb_status_str(s), msg);
    CHECK(strstr(msg, mention) != NULL, "%s: message '%s' does not mention '%s'", what, msg, mention);
    CHECK(m.n_w == 0 && m.w == NULL, "%s: model not left empty on failure", what);
    printf("  ok %-28s %s\n", what, msg);
}

/* ---- the cases -------------------------------------------------------------------------------- */

static void sharded(const char *dir, const char *bad_shard_name, int drop_second) {
    static tlist l, a, b;
    make_dir(dir);
    write_text(join(dir, "config.json"), gpt2_config(C, H));
    gpt2_tensors(&l, "transformer.", "F32", C);
    a.n = b.n = 0;
    for (int i = 0; i < l.n; i++) {
        if (i < l.n / 2)
            a.t[a.n++] = l.t[i];
        else
            b.t[b.n++] = l.t[i];
    }
    const char *n1 = "model-00001-of-00002.safetensors",
               *n2 = bad_shard_name ? bad_shard_name : "model-00002-of-00002.safetensors";
    write_st(join(dir, n1), &a, NULL);
    if (!drop_second)
        write_st(join(dir, "model-00002-of-00002.safetensors"), &b, NULL);
    size_t cap = 65536, len = 0;
    char *idx = malloc(cap);
    len += (size_t)snprintf(idx, cap, "{\"metadata\": {\"total_size\": 0}, \"weight_map\": {");
    for (int i = 0; i < l.n; i++)
        len += (size_t)snprintf(idx + len, cap - len, "%s\"%s\": \"%s\"", i ? ", " : "", l.t[i].name,
                                i < l.n / 2 ? n1 : n2);
    snprintf(idx + len, cap - len, "}}\n");
    write_text(join(dir, "model.safetensors.index.json"), idx);
    free(idx);
}

static void make_bert(const char *dir) {
    static tlist l;
    enum { BF = 64, BL = 1, T = 2 };
    make_dir(dir);
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"architectures\": [\"BertForMaskedLM\"], \"model_type\": \"bert\", \"hidden_size\": %d, "
             "\"num_hidden_layers\": %d, \"num_attention_heads\": %d, \"intermediate_size\": %d, "
             "\"max_position_embeddings\": %d, \"vocab_size\": %d, \"type_vocab_size\": %d, "
             "\"layer_norm_eps\": 1e-12, \"hidden_act\": \"gelu\", \"pad_token_id\": 0, "
             "\"position_embedding_type\": \"absolute\"}",
             C, BL, H, BF, P, V, T);
    write_text(join(dir, "config.json"), cfg);
    l.n = 0;
    add(&l, "F32", 2, V, C, "bert.embeddings.word_embeddings.weight");
    add(&l, "F32", 2, P, C, "bert.embeddings.position_embeddings.weight");
    add(&l, "F32", 2, T, C, "bert.embeddings.token_type_embeddings.weight");
    add(&l, "I64", 2, 1, P, "bert.embeddings.position_ids"); /* unused I64 buffer: ignored */
    add(&l, "F32", 1, C, 0, "bert.embeddings.LayerNorm.gamma");
    add(&l, "F32", 1, C, 0, "bert.embeddings.LayerNorm.beta");
    const char *lin[][3] = {{"attention.self.query", "C", "C"}, {"attention.self.key", "C", "C"},
                            {"attention.self.value", "C", "C"}, {"attention.output.dense", "C", "C"},
                            {"intermediate.dense", "F", "C"},   {"output.dense", "C", "F"}};
    for (int i = 0; i < BL; i++) {
        for (int k = 0; k < 6; k++) {
            int64_t out = lin[k][1][0] == 'F' ? BF : C, in = lin[k][2][0] == 'F' ? BF : C;
            add(&l, "F32", 2, out, in, "bert.encoder.layer.%d.%s.weight", i, lin[k][0]);
            add(&l, "F32", 1, out, 0, "bert.encoder.layer.%d.%s.bias", i, lin[k][0]);
        }
        add(&l, "F32", 1, C, 0, "bert.encoder.layer.%d.attention.output.LayerNorm.weight", i);
        add(&l, "F32", 1, C, 0, "bert.encoder.layer.%d.attention.output.LayerNorm.bias", i);
        add(&l, "F32", 1, C, 0, "bert.encoder.layer.%d.output.LayerNorm.weight", i);
        add(&l, "F32", 1, C, 0, "bert.encoder.layer.%d.output.LayerNorm.bias", i);
    }
    add(&l, "F32", 2, C, C, "cls.predictions.transform.dense.weight");
    add(&l, "F32", 1, C, 0, "cls.predictions.transform.dense.bias");
    add(&l, "F32", 1, C, 0, "cls.predictions.transform.LayerNorm.weight");
    add(&l, "F32", 1, C, 0, "cls.predictions.transform.LayerNorm.bias");
    add(&l, "F32", 1, V, 0, "cls.predictions.bias");
    write_st(join(dir, "model.safetensors"), &l, NULL);
}

static void check_bert(const char *dir) {
    tfb_model m;
    tfb_status s = tfb_model_load_dir(dir, TFB_DTYPE_F32, &m);
    CHECK(s == TFB_STATUS_OK, "load %s: %s", dir, tfb_error_last());
    const tfb_weight *w1 = tfb_model_find(&m, "enc.0.ffn.w1"), *g = tfb_model_find(&m, "emb_ln.g");
    const tfb_weight *hb = tfb_model_find(&m, "lm_head.bias");
    int bad =
        !w1 || !g || !hb || !tfb_config_encoder_only(&m.cfg) || m.cfg.n_type != 2 || m.cfg.act != TFB_ACT_GELU;
    for (int r = 0; !bad && r < 64; r++)
        for (int k = 0; !bad && k < C; k++)
            bad |= wat(w1, r, k) != val("bert.encoder.layer.0.intermediate.dense.weight", (int64_t)r * C + k);
    for (int k = 0; !bad && k < C; k++)
        bad |= wat(g, 0, k) != val("bert.embeddings.LayerNorm.gamma", k);
    for (int k = 0; !bad && k < V; k++)
        bad |= wat(hb, 0, k) != val("cls.predictions.bias", k);
    tfb_model_free(&m);
    CHECK(!bad, "%s: BERT mapped wrongly", dir);
}

static void make_marian(const char *dir, int shared) {
    static tlist l;
    enum { MF = 64 };
    make_dir(dir);
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"architectures\": [\"MarianMTModel\"], \"model_type\": \"marian\", \"d_model\": %d, "
             "\"encoder_layers\": 1, \"decoder_layers\": 1, \"encoder_attention_heads\": %d, "
             "\"decoder_attention_heads\": %d, \"encoder_ffn_dim\": %d, \"decoder_ffn_dim\": %d, "
             "\"max_position_embeddings\": %d, \"vocab_size\": %d, \"activation_function\": \"swish\", "
             "\"scale_embedding\": true, \"pad_token_id\": %d, \"eos_token_id\": 0, "
             "\"decoder_start_token_id\": %d}",
             C, H, H, MF, MF, P, V, V - 1, V - 1);
    write_text(join(dir, "config.json"), cfg);
    l.n = 0;
    add(&l, "F32", 2, V, C, shared ? "model.shared.weight" : "model.decoder.embed_tokens.weight");
    add(&l, "F32", 2, P, C, "model.encoder.embed_positions.weight"); /* sinusoidal: ignored */
    for (int side = 0; side < 2; side++) {
        const char *s = side ? "decoder" : "encoder";
        for (int a = 0; a < 1 + side; a++) {
            const char *att = a ? "encoder_attn" : "self_attn";
            const char *proj[] = {"q_proj", "k_proj", "v_proj", "out_proj"};
            for (int k = 0; k < 4; k++) {
                add(&l, "F32", 2, C, C, "model.%s.layers.0.%s.%s.weight", s, att, proj[k]);
                add(&l, "F32", 1, C, 0, "model.%s.layers.0.%s.%s.bias", s, att, proj[k]);
            }
            add(&l, "F32", 1, C, 0, "model.%s.layers.0.%s_layer_norm.weight", s, att);
            add(&l, "F32", 1, C, 0, "model.%s.layers.0.%s_layer_norm.bias", s, att);
        }
        add(&l, "F32", 2, MF, C, "model.%s.layers.0.fc1.weight", s);
        add(&l, "F32", 1, MF, 0, "model.%s.layers.0.fc1.bias", s);
        add(&l, "F32", 2, C, MF, "model.%s.layers.0.fc2.weight", s);
        add(&l, "F32", 1, C, 0, "model.%s.layers.0.fc2.bias", s);
        add(&l, "F32", 1, C, 0, "model.%s.layers.0.final_layer_norm.weight", s);
        add(&l, "F32", 1, C, 0, "model.%s.layers.0.final_layer_norm.bias", s);
    }
    add(&l, "F32", 2, 1, V, "final_logits_bias");
    write_st(join(dir, "model.safetensors"), &l, NULL);
}

static void check_marian(const char *dir, const char *emb_name) {
    tfb_model m;
    tfb_status s = tfb_model_load_dir(dir, TFB_DTYPE_F32, &m);
    CHECK(s == TFB_STATUS_OK, "load %s: %s", dir, tfb_error_last());
    const tfb_weight *te = tfb_model_find(&m, "tok_emb"), *xk = tfb_model_find(&m, "dec.0.xattn.wk");
    const tfb_weight *hb = tfb_model_find(&m, "lm_head.bias"), *lx = tfb_model_find(&m, "dec.0.ln_x.b");
    int bad = !te || !xk || !hb || !lx || !tfb_config_has_cross(&m.cfg) || m.cfg.act != TFB_ACT_SILU ||
              m.cfg.emb_scale == 1.0f || m.cfg.enc.n_layer != 1 || m.cfg.decoder_start_id != V - 1 ||
              fabsf(m.cfg.eps - 1e-5f) > 1e-9f;
    for (int k = 0; !bad && k < V * C; k++)
        bad |= ((const float *)te->data)[k] != val(emb_name, k);
    for (int k = 0; !bad && k < C * C; k++)
        bad |= wat(xk, k / C, k % C) != val("model.decoder.layers.0.encoder_attn.k_proj.weight", k);
    for (int k = 0; !bad && k < V; k++)
        bad |= wat(hb, 0, k) != val("final_logits_bias", k);
    for (int k = 0; !bad && k < C; k++)
        bad |= wat(lx, 0, k) != val("model.decoder.layers.0.encoder_attn_layer_norm.bias", k);
    tfb_model_free(&m);
    CHECK(!bad, "%s: Marian mapped wrongly", dir);
}

/* The malformed kinds, shared by the in-process cases and --make-bad for the CLI tests. Returns
 * the file name (relative to dir) the error must mention. */
static const char *bad_kinds[] = {
    "truncated", "tiny-file",       "header-past-end", "offset-past-end", "overlap",     "span-mismatch",
    "duplicate", "shape-vs-config", "missing",         "config-json",     "header-json", "unknown-arch",
    "dtype-i64", "shard-traversal", "shard-missing",   "no-weights",      "heads",       "header-not-object",
    "eps-underflow", "refused-field", "unknown-field", "unexpected-tensor", "tied-differs", NULL};

static const char *make_bad(const char *dir, const char *kind) {
    static tlist l;
    wopts o = {0};
    const char *st = "model.safetensors";
    if (strcmp(kind, "truncated") == 0) {
        o.truncate_by = 10;
    } else if (strcmp(kind, "header-past-end") == 0) {
        o.hdr_len_past_end = 1;
    } else if (strcmp(kind, "offset-past-end") == 0) {
        o.offset_past_end = 1;
    } else if (strcmp(kind, "overlap") == 0) {
        o.overlap = 1;
    } else if (strcmp(kind, "span-mismatch") == 0) {
        o.span_mismatch = 1;
    } else if (strcmp(kind, "duplicate") == 0) {
        o.duplicate = 1;
    } else if (strcmp(kind, "header-json") == 0) {
        o.raw_header = "{\"wte.weight\": {\"dtype\": \"F32\", \"shape\": [16, 32], ";
    } else if (strcmp(kind, "header-not-object") == 0) {
        o.raw_header = "[1, 2, 3]";
    } else if (strcmp(kind, "tiny-file") == 0) {
        make_dir(dir);
        write_text(join(dir, "config.json"), gpt2_config(C, H));
        write_text(join(dir, st), "abc");
        return st;
    } else if (strcmp(kind, "shape-vs-config") == 0 || strcmp(kind, "missing") == 0 ||
               strcmp(kind, "dtype-i64") == 0) {
        make_dir(dir);
        write_text(join(dir, "config.json"), gpt2_config(C, H));
        gpt2_tensors(&l, "transformer.", "F32", C);
        if (kind[0] == 's')
            get(&l, "transformer.h.1.mlp.c_fc.weight")->shape[1] = 3 * C; /* config says n_inner = 4C */
        else if (kind[0] == 'm')
            drop(&l, "transformer.h.1.ln_2.bias");
        else
            get(&l, "transformer.h.0.ln_1.weight")->dtype = "I64";
        write_st(join(dir, st), &l, NULL);
        return st;
    } else if (strcmp(kind, "config-json") == 0 || strcmp(kind, "unknown-arch") == 0 ||
               strcmp(kind, "heads") == 0) {
        make_gpt2(dir, "", "F32", NULL);
        const char *cfg = kind[0] == 'c' ? "{\"model_type\": \"gpt2\", \"n_embd\": 32,, }"
                          : kind[0] == 'u'
                              ? "{\"architectures\": [\"FalconForCausalLM\"], \"model_type\": \"falcon\"}"
                              : gpt2_config(C, 3);
        write_text(join(dir, "config.json"), cfg);
        return "config.json";
    } else if (strcmp(kind, "eps-underflow") == 0) { // found by fuzz_hf_json: positive double, zero float
        make_gpt2(dir, "", "F32", NULL);
        char cfg[1024];
        snprintf(cfg, sizeof cfg, "%s", gpt2_config(C, H));
        char *eps = strstr(cfg, "1e-05");
        if (!eps) {
            fprintf(stderr, "test_loader: the GPT-2 config has no 1e-05 to replace\n");
            exit(2);
        }
        memcpy(eps, "1e-56", 5);
        write_text(join(dir, "config.json"), cfg);
        return "config.json";
    } else if (strcmp(kind, "refused-field") == 0 || strcmp(kind, "unknown-field") == 0) {
        /* A field whose value changes the forward pass in a way tfbench does not model, and a key
         * in no audit table: each refused in one line naming it. */
        make_gpt2(dir, "", "F32", NULL);
        char cfg[1024];
        snprintf(cfg, sizeof cfg, "%s", gpt2_config(C, H));
        char *end = strrchr(cfg, '}');
        snprintf(end, sizeof cfg - (size_t)(end - cfg), ", %s}",
                 kind[0] == 'r' ? "\"add_cross_attention\": true" : "\"frobnicate\": 1");
        write_text(join(dir, "config.json"), cfg);
        return "config.json";
    } else if (strcmp(kind, "unexpected-tensor") == 0 || strcmp(kind, "tied-differs") == 0) {
        /* A tensor the description does not use, and a stored tied head that is not the embedding. */
        make_dir(dir);
        write_text(join(dir, "config.json"), gpt2_config(C, H));
        gpt2_tensors(&l, "transformer.", "F32", C);
        if (kind[0] == 'u')
            add(&l, "F32", 1, C, 0, "transformer.h.0.attn.rotary_freqs");
        else
            get(&l, "lm_head.weight")->like[0] = '\0';
        write_st(join(dir, st), &l, NULL);
        return st;
    } else if (strcmp(kind, "shard-traversal") == 0) {
        sharded(dir, "../evil.safetensors", 0);
        return "model.safetensors.index.json";
    } else if (strcmp(kind, "shard-missing") == 0) {
        sharded(dir, NULL, 1);
        return "model-00002-of-00002.safetensors";
    } else if (strcmp(kind, "no-weights") == 0) {
        make_dir(dir);
        write_text(join(dir, "config.json"), gpt2_config(C, H));
        return dir;
    } else {
        fprintf(stderr, "test_loader: unknown bad kind '%s'\n", kind);
        exit(2);
    }
    make_gpt2(dir, "transformer.", "F32", &o);
    return st;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--make-good") == 0) {
        make_gpt2(argv[2], "transformer.", "F32", NULL);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "--make-bad") == 0) {
        make_bad(argv[2], argv[3]);
        return 0;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: test_loader [--make-good DIR | --make-bad DIR KIND]\n");
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    char root[4096];
    snprintf(root, sizeof root, "%s/tfb-loader-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root))
        die_io("mkdtemp", root);
    char d[4200];

    printf("valid models:\n");
    snprintf(d, sizeof d, "%s/gpt2-prefix", root);
    make_gpt2(d, "transformer.", "F32", NULL);
    check_gpt2(d, "transformer.", TFB_DTYPE_F32, 0.0f);
    snprintf(d, sizeof d, "%s/gpt2-bare", root);
    make_gpt2(d, "", "F32", NULL);
    check_gpt2(d, "", TFB_DTYPE_F32, 0.0f);
    snprintf(d, sizeof d, "%s/gpt2-f16", root);
    make_gpt2(d, "transformer.", "F16", NULL);
    check_gpt2(d, "transformer.", TFB_DTYPE_F32, 0.0f);
    snprintf(d, sizeof d, "%s/gpt2-bf16", root);
    make_gpt2(d, "", "BF16", NULL);
    check_gpt2(d, "", TFB_DTYPE_F32, 0.0f);
    /* quantized at load: values are multiples of 1/8 in [-1,1], so q8_0's error is at most d/2. */
    check_gpt2(d, "", TFB_DTYPE_Q8_0, 1.0f / 254.0f + 1e-6f);
    check_gpt2(d, "", TFB_DTYPE_F16, 0.0f);
    check_gpt2(d, "", TFB_DTYPE_Q4_0, 1.0f / 8.0f + 1e-6f); /* +max clips at 7/8 */
    snprintf(d, sizeof d, "%s/gpt2-sharded", root);
    sharded(d, NULL, 0);
    check_gpt2(d, "transformer.", TFB_DTYPE_F32, 0.0f);
    /* Only the tied head saved: the embedding resolves to its twin. */
    snprintf(d, sizeof d, "%s/gpt2-head-only", root);
    {
        static tlist l;
        make_dir(d);
        write_text(join(d, "config.json"), gpt2_config(C, H));
        gpt2_tensors(&l, "", "F32", C);
        drop(&l, "wte.weight");
        write_st(join(d, "model.safetensors"), &l, NULL);
        tfb_model m;
        tfb_status s = tfb_model_load_dir(d, TFB_DTYPE_F32, &m);
        const tfb_weight *te = s == TFB_STATUS_OK ? tfb_model_find(&m, "tok_emb") : NULL;
        int bad = !te;
        for (int k = 0; !bad && k < V * C; k++)
            bad |= ((const float *)te->data)[k] != val("wte.weight", k);
        if (s == TFB_STATUS_OK)
            tfb_model_free(&m);
        if (bad) {
            fprintf(stderr, "  FAIL gpt2-head-only: %s\n",
                    s == TFB_STATUS_OK ? "tok_emb wrong" : tfb_error_last());
            failures++;
        }
    }
    snprintf(d, sizeof d, "%s/bert", root);
    make_bert(d);
    check_bert(d);
    snprintf(d, sizeof d, "%s/marian-shared", root);
    make_marian(d, 1);
    check_marian(d, "model.shared.weight");
    snprintf(d, sizeof d, "%s/marian-twin", root);
    make_marian(d, 0);
    check_marian(d, "model.decoder.embed_tokens.weight");

    printf("malformed models:\n");
    for (int i = 0; bad_kinds[i]; i++) {
        snprintf(d, sizeof d, "%s/bad-%s", root, bad_kinds[i]);
        const char *file = make_bad(d, bad_kinds[i]);
        char mention[4300];
        snprintf(mention, sizeof mention, "%s", file[0] == '/' ? file : join(d, file));
        expect_input(bad_kinds[i], d, TFB_DTYPE_F32, mention);
    }
    /* A width quantized formats cannot block: C = 48 is not a multiple of 32. */
    snprintf(d, sizeof d, "%s/gpt2-c48", root);
    {
        static tlist l;
        make_dir(d);
        write_text(join(d, "config.json"), gpt2_config(48, 2));
        gpt2_tensors(&l, "", "F32", 48);
        write_st(join(d, "model.safetensors"), &l, NULL);
        expect_input("q8_0-width-48", d, TFB_DTYPE_Q8_0, d);
        tfb_model m;
        tfb_status s = tfb_model_load_dir(d, TFB_DTYPE_F32, &m);
        if (s == TFB_STATUS_OK)
            tfb_model_free(&m);
        else {
            fprintf(stderr, "  FAIL gpt2-c48 as f32: %s\n", tfb_error_last());
            failures++;
        }
    }
    /* Specific messages. */
    snprintf(d, sizeof d, "%s/bad-unknown-arch", root);
    expect_input("unknown-arch names it", d, TFB_DTYPE_F32, "unknown architecture 'FalconForCausalLM'");
    snprintf(d, sizeof d, "%s/bad-dtype-i64", root);
    expect_input("dtype names tensor+dtype", d, TFB_DTYPE_F32,
                 "'transformer.h.0.ln_1.weight' has unsupported dtype I64");
    snprintf(d, sizeof d, "%s/bad-missing", root);
    expect_input("missing names tensor", d, TFB_DTYPE_F32, "h.1.ln_2.bias");
    snprintf(d, sizeof d, "%s/bad-refused-field", root);
    expect_input("a refused field is named with its value", d, TFB_DTYPE_F32,
                 "\"add_cross_attention\": true is not supported");
    snprintf(d, sizeof d, "%s/bad-unknown-field", root);
    expect_input("an unknown field is named", d, TFB_DTYPE_F32, "\"frobnicate\": 1 is not supported");
    snprintf(d, sizeof d, "%s/bad-unexpected-tensor", root);
    expect_input("an unused tensor is named", d, TFB_DTYPE_F32, "unexpected tensor transformer.h.0.attn.rotary_freqs");
    snprintf(d, sizeof d, "%s/bad-tied-differs", root);
    expect_input("a tied copy that differs is named", d, TFB_DTYPE_F32, "tensor 'lm_head.weight' differs");

    if (nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "test_loader: could not remove %s\n", root);
    if (failures) {
        fprintf(stderr, "test_loader: %d failure(s)\n", failures);
        return 1;
    }
    printf("test_loader: all passed\n");
    return 0;
}
