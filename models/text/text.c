/* The public tokenizer API (include/tfbench/text.h): which files a directory holds, the added-token
 * split, normalize -> pre-tokenize -> model -> truncate -> post-process, and decode. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>

#include "text_impl.h"

static bool exists(const char *dir, const char *name, char *path, size_t n) {
    struct stat st;
    snprintf(path, n, "%s/%s", dir, name);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

tfb_status tfb__tt_finish(tfb_tokenizer *t) {
    int32_t n = t->model.vocab.n;
    t->is_special = calloc((size_t)n + 1, sizeof *t->is_special);
    if (!t->is_special)
        return tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
    for (int i = 0; i < t->n_added; i++) {
        tt_added *x = &t->added[i];
        if (x->special)
            t->is_special[x->id] = true;
        x->normalized = x->normalized && t->norm; /* without a normalizer both kinds match the raw text */
        if (x->normalized) {                      /* matched in normalized text, so in its normalized form */
            tt_buf b = {0};
            tfb_status s = tfb__tt_norm_apply(t->norm, x->s, x->n, &b);
            if (s != TFB_STATUS_OK) {
                tfb__tt_buf_free(&b);
                return s;
            }
            x->ns = b.p;
            x->nn = b.n;
        } else {
            x->ns = x->s;
            x->nn = x->n;
        }
        if (x->nn)
            t->added_first[(unsigned char)x->ns[0]] = true;
    }
    return TFB_STATUS_OK;
}

/* SentencePiece .model alone (T5's spiece.model: ids then </s>; Llama's tokenizer.model: <s> then
 * ids, or as tokenizer_config.json's add_bos_token / add_eos_token say, as T5Tokenizer and
 * LlamaTokenizer add them). */
static tfb_status load_spm(tfb_tokenizer *t, const char *dir, const char *path, bool t5) {
    char err[600];
    if (!(t->model.spm = tfb__tt_spm_load(path, err, sizeof err)))
        return tfb_error_set(TFB_STATUS_INPUT, "%s", err);
    t->model.kind = TT_SPM;
    int bos, eos, unk;
    tfb__tt_spm_special(t->model.spm, &bos, &eos, &unk);
    bool add_bos = !t5 && tfb__tt_config_flag(dir, "add_bos_token", true);
    bool add_eos = t5 || tfb__tt_config_flag(dir, "add_eos_token", false);
    if (add_bos && bos >= 0)
        t->post.pre[t->post.n_pre++] = bos;
    if (add_eos && eos >= 0)
        t->post.post[t->post.n_post++] = eos;
    snprintf(t->kind, sizeof t->kind, "SentencePiece %s", t5 ? "spiece.model" : "tokenizer.model");
    return TFB_STATUS_OK;
}

/* Marian: source.spm splits, vocab.json maps the pieces, </s> ends the sequence. */
static tfb_status load_marian(tfb_tokenizer *t, const char *dir) {
    char p[4200], err[600];
    if (!exists(dir, "target.spm", p, sizeof p))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: missing", p);
    if (!(t->marian_tgt = tfb__tt_spm_load(p, err, sizeof err)))
        return tfb_error_set(TFB_STATUS_INPUT, "%s", err);
    exists(dir, "source.spm", p, sizeof p);
    if (!(t->marian_src = tfb__tt_spm_load(p, err, sizeof err)))
        return tfb_error_set(TFB_STATUS_INPUT, "%s", err);
    if (exists(dir, "target_vocab.json", p, sizeof p)) /* MarianTokenizer(separate_vocabs=True) */
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: separate source and target vocabularies are not supported", p);
    TFB_TRY(tfb__tt_load_vocab_json(t, dir));
    int32_t eos = tfb__tt_vocab_find(&t->model.vocab, "</s>", 4);
    t->model.unk = tfb__tt_vocab_find(&t->model.vocab, "<unk>", 5);
    if (eos < 0 || t->model.unk < 0)
        return tfb_error_set(TFB_STATUS_INPUT, "%s/vocab.json: no </s> or <unk>", dir);
    t->post.post[t->post.n_post++] = eos;
    t->model.kind = TT_SPM;
    /* MarianTokenizer splits its special tokens out of the text before SentencePiece sees it. */
    TFB_TRY(tfb__tt_add_special(t, "</s>"));
    TFB_TRY(tfb__tt_add_special(t, "<unk>"));
    TFB_TRY(tfb__tt_add_special(t, "<pad>"));
    snprintf(t->kind, sizeof t->kind, "Marian source.spm + vocab.json");
    return TFB_STATUS_OK;
}

tfb_status tfb_tokenizer_load(const char *dir, tfb_tokenizer **out) {
    tfb_tokenizer *t = calloc(1, sizeof *t);
    if (!t)
        return tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
    t->model.unk = -1;
    char p[4200];
    tfb_status s;
    if (exists(dir, "tokenizer.json", p, sizeof p))
        s = tfb__tt_load_json(t, p);
    else if (exists(dir, "source.spm", p, sizeof p))
        s = load_marian(t, dir);
    else if (exists(dir, "vocab.json", p, sizeof p) && exists(dir, "merges.txt", p, sizeof p))
        s = tfb__tt_load_vocab_merges(t, dir);
    else if (exists(dir, "vocab.txt", p, sizeof p))
        s = tfb__tt_load_vocab_txt(t, dir);
    else if (exists(dir, "spiece.model", p, sizeof p))
        s = load_spm(t, dir, p, true);
    else if (exists(dir, "tokenizer.model", p, sizeof p))
        s = load_spm(t, dir, p, false);
    else
        s = tfb_error_set(TFB_STATUS_INPUT,
                          "%s: no tokenizer (tokenizer.json, vocab.json + merges.txt, vocab.txt, "
                          "spiece.model, tokenizer.model or source.spm)",
                          dir);
    if (s == TFB_STATUS_OK)
        s = tfb__tt_finish(t);
    if (s != TFB_STATUS_OK) {
        tfb_tokenizer_free(t);
        return s;
    }
    *out = t;
    return TFB_STATUS_OK;
}

tfb_status tfb__tt_tokenizer_from_json(const char *name, const char *data, size_t n, tfb_tokenizer **out) {
    tfb_tokenizer *t = calloc(1, sizeof *t);
    if (!t)
        return tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
    t->model.unk = -1;
    tfb_status s = tfb__tt_load_json_mem(t, name, data, n);
    if (s == TFB_STATUS_OK)
        s = tfb__tt_finish(t);
    if (s != TFB_STATUS_OK) {
        tfb_tokenizer_free(t);
        return s;
    }
    *out = t;
    return TFB_STATUS_OK;
}

void tfb_tokenizer_free(tfb_tokenizer *t) {
    if (!t)
        return;
    tfb__tt_norm_free(t->norm);
    tfb__tt_pretok_free(t->pretok);
    tfb__tt_decoder_free(t->dec);
    tfb__tt_model_free(&t->model);
    for (int i = 0; i < t->n_added; i++) {
        if (t->added[i].ns != t->added[i].s)
            free(t->added[i].ns);
        free(t->added[i].s);
    }
    free(t->added);
    free(t->is_special);
    if (t->marian_src)
        tfb__tt_spm_free(t->marian_src);
    if (t->marian_tgt)
        tfb__tt_spm_free(t->marian_tgt);
    free(t);
}

void tfb_tokenizer_set_max_length(tfb_tokenizer *t, int64_t max) {
    t->trunc_max = max > 0 ? max : 0;
}

const char *tfb_tokenizer_kind(const tfb_tokenizer *t) {
    return t->kind;
}

const char *tfb_tokenizer_token(const tfb_tokenizer *t, int32_t id) {
    if (t->model.kind == TT_SPM && !t->marian_src)
        return tfb__tt_spm_piece(t->model.spm, id);
    if (id < 0 || id >= t->model.vocab.n)
        return NULL;
    if (t->model.vocab.tok[id])
        return t->model.vocab.tok[id];
    for (int i = 0; i < t->n_added; i++)
        if (t->added[i].id == id)
            return t->added[i].s;
    return NULL;
}

static int64_t vocab_size(const tfb_tokenizer *t) {
    return t->model.kind == TT_SPM && !t->marian_src ? tfb__tt_spm_size(t->model.spm) : t->model.vocab.n;
}

/* ---- encode */
typedef struct idvec {
    int32_t *v;
    int64_t n, cap;
} idvec;

static bool id_push(idvec *x, int32_t id) {
    if (x->n == x->cap) {
        int64_t c = x->cap ? 2 * x->cap : 64;
        int32_t *p = realloc(x->v, (size_t)c * sizeof *p);
        if (!p)
            return false;
        x->v = p;
        x->cap = c;
    }
    x->v[x->n++] = id;
    return true;
}

static tfb_status split_added(const tfb_tokenizer *t, const char *s, size_t sn, bool normalized, bool first,
                              idvec *out);
static tfb_status encode_words(const tfb_tokenizer *t, const char *s, size_t n, bool first, idvec *out);

/* One stretch of text without added tokens: normalize, pre-tokenize, model. */
static tfb_status encode_plain(const tfb_tokenizer *t, const char *s, size_t n, bool first, idvec *out) {
    if (n == 0)
        return TFB_STATUS_OK;
    if (t->model.kind == TT_SPM) {
        if (t->marian_src) {
            char *pieces;
            size_t plen;
            int k = tfb__tt_spm_encode_pieces(t->marian_src, s, n, &pieces, &plen);
            if (k < 0)
                return tfb_error_set(TFB_STATUS_INTERNAL, "sentencepiece: encode failed");
            bool ok = true;
            for (size_t at = 0; ok && at < plen;) {
                size_t len = strlen(pieces + at);
                int32_t id = tfb__tt_vocab_find(&t->model.vocab, pieces + at, len);
                ok = id_push(out, id >= 0 ? id : t->model.unk);
                at += len + 1;
            }
            free(pieces);
            return ok ? TFB_STATUS_OK : tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
        }
        int32_t *ids = NULL;
        int k = tfb__tt_spm_encode(t->model.spm, s, n, &ids);
        if (k < 0)
            return tfb_error_set(TFB_STATUS_INTERNAL, "sentencepiece: encode failed");
        bool ok = true;
        for (int i = 0; ok && i < k; i++)
            ok = id_push(out, ids[i]);
        free(ids);
        return ok ? TFB_STATUS_OK : tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
    }
    tt_buf norm = {0};
    tfb_status st = TFB_STATUS_OK;
    if (t->norm)
        st = tfb__tt_norm_apply(t->norm, s, n, &norm);
    else if (!tfb__tt_buf_add(&norm, s, n))
        st = tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
    /* Added tokens with normalized: true are found in the normalized text (as tokenizers does). */
    if (st == TFB_STATUS_OK)
        st = split_added(t, norm.p, norm.n, true, first, out);
    tfb__tt_buf_free(&norm);
    return st;
}

/* Pre-tokenize and model one stretch of normalized text. */
static tfb_status encode_words(const tfb_tokenizer *t, const char *s, size_t n, bool first, idvec *out) {
    tt_list words = {0};
    tfb_status st = TFB_STATUS_OK;
    if (n == 0) /* nothing left after normalizing: no words */
        return TFB_STATUS_OK;
    if (t->pretok)
        st = tfb__tt_pretok_apply(t->pretok, s, n, first, &words);
    else if (!tfb__tt_list_push(&words, s, n))
        st = tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
    for (size_t w = 0; st == TFB_STATUS_OK && w < words.n; w++)
        st = tfb__tt_model_word(&t->model, words.v[w].p, words.v[w].n, &out->v, &out->n, &out->cap);
    tfb__tt_list_free(&words);
    return st;
}

/* Rust's char::is_whitespace (the White_Space property), for lstrip / rstrip of added tokens. */
static bool white_space(uint32_t c) {
    int cat = utf8proc_category((utf8proc_int32_t)c);
    return (c >= 0x09 && c <= 0x0D) || c == 0x85 || cat == UTF8PROC_CATEGORY_ZS ||
           cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

/* Bytes of whitespace ending at s + e (going left, not before a), or starting at s + b. */
static size_t space_before(const char *s, size_t a, size_t e) {
    size_t x = e;
    while (x > a) {
        size_t k = 1;
        while (k < x - a && ((unsigned char)s[x - k] & 0xC0) == 0x80)
            k++;
        uint32_t c;
        tfb__tt_utf8_next(s + x - k, k, &c);
        if (!white_space(c))
            break;
        x -= k;
    }
    return e - x;
}

static size_t space_after(const char *s, size_t b, size_t n) {
    size_t x = b;
    while (x < n) {
        uint32_t c;
        size_t k = tfb__tt_utf8_next(s + x, n - x, &c);
        if (!white_space(c))
            break;
        x += k;
    }
    return x - b;
}

/* The leftmost, then longest, added token of the given kind (normalized or not) at or after i;
 * normalized tokens are compared in their normalized form. */
static int find_added(const tfb_tokenizer *t, const char *s, size_t n, size_t i, bool normalized,
                      size_t *at) {
    for (size_t p = i; p < n; p++) {
        if (!t->added_first[(unsigned char)s[p]])
            continue;
        int best = -1;
        for (int k = 0; k < t->n_added; k++) {
            const tt_added *x = &t->added[k];
            if (x->normalized != normalized || !x->nn)
                continue;
            if (x->nn <= n - p && memcmp(s + p, x->ns, x->nn) == 0 && (best < 0 || x->nn > t->added[best].nn))
                best = k;
        }
        if (best >= 0) {
            *at = p;
            return best;
        }
    }
    return -1;
}

/* Split s around the added tokens of one kind: the stretches between them go on (raw text: to the
 * normalizer; normalized text: to the pre-tokenizer), the tokens become their ids. lstrip / rstrip
 * tokens take the whitespace beside them. */
static tfb_status split_added(const tfb_tokenizer *t, const char *s, size_t sn, bool normalized, bool first,
                              idvec *out) {
    tfb_status st = TFB_STATUS_OK;
    size_t i = 0;
    while (st == TFB_STATUS_OK && i <= sn) {
        size_t at = sn;
        int k = t->model.kind == TT_SPM && !t->marian_src ? -1 : find_added(t, s, sn, i, normalized, &at);
        size_t end = at, next = sn + 1;
        if (k >= 0) {
            const tt_added *x = &t->added[k];
            if (x->lstrip)
                end -= space_before(s, i, end);
            next = at + x->nn;
            if (x->rstrip)
                next += space_after(s, next, sn);
        }
        st = normalized ? encode_words(t, s + i, end - i, first && i == 0, out)
                        : encode_plain(t, s + i, end - i, first && i == 0, out);
        if (st == TFB_STATUS_OK && k >= 0 && !id_push(out, t->added[k].id))
            st = tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
        i = next;
    }
    return st;
}

tfb_status tfb_tokenizer_encode(const tfb_tokenizer *t, const char *text, size_t len, bool add_special,
                                int32_t **ids, int64_t *n) {
    char *s;
    size_t sn;
    TFB_TRY(tfb_text_utf8_replace(text, len, &s, &sn));
    idvec body = {0}, out = {0};
    tfb_status st = split_added(t, s, sn, false, true, &body);
    free(s);
    if (st == TFB_STATUS_OK && t->trunc_max > 0) {
        int64_t room = t->trunc_max - (add_special ? t->post.n_pre + t->post.n_post : 0);
        if (room < 0)
            room = 0;
        if (body.n > room && t->trunc_left)
            memmove(body.v, body.v + (body.n - room), (size_t)room * sizeof *body.v);
        if (body.n > room)
            body.n = room;
    }
    for (int k = 0; st == TFB_STATUS_OK && add_special && k < t->post.n_pre; k++)
        if (!id_push(&out, t->post.pre[k]))
            st = tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
    for (int64_t k = 0; st == TFB_STATUS_OK && k < body.n; k++)
        if (!id_push(&out, body.v[k]))
            st = tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
    for (int k = 0; st == TFB_STATUS_OK && add_special && k < t->post.n_post; k++)
        if (!id_push(&out, t->post.post[k]))
            st = tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
    free(body.v);
    if (st != TFB_STATUS_OK) {
        free(out.v);
        return st;
    }
    if (!out.v && !(out.v = malloc(sizeof *out.v))) /* an empty result is still an allocation */
        return tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
    *ids = out.v;
    *n = out.n;
    return TFB_STATUS_OK;
}

/* ---- decode */
/* transformers' clean_up_tokenization, which its slow tokenizers apply on decode. */
static tfb_status cleanup(char **text, size_t *len) {
    static const char *const rules[][2] = {{" .", "."},     {" ?", "?"},     {" !", "!"},   {" ,", ","},
                                           {" ' ", "'"},    {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"},
                                           {" 've", "'ve"}, {" 're", "'re"}};
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        tt_buf b = {0};
        const char *s = *text, *end = *text + *len;
        size_t pn = strlen(rules[r][0]);
        bool ok = tfb__tt_buf_add(&b, "", 0);
        while (ok && s < end) {
            if ((size_t)(end - s) >= pn && memcmp(s, rules[r][0], pn) == 0) {
                ok = tfb__tt_buf_add(&b, rules[r][1], strlen(rules[r][1]));
                s += pn;
            } else {
                ok = tfb__tt_buf_add(&b, s++, 1);
            }
        }
        if (!ok) {
            tfb__tt_buf_free(&b);
            return tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
        }
        free(*text);
        *text = b.p;
        *len = b.n;
    }
    return TFB_STATUS_OK;
}

/* Python's str.strip(): the characters str.isspace() calls whitespace, at both ends, in place. */
static bool py_space(uint32_t c) {
    int cat = utf8proc_category((utf8proc_int32_t)c);
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || cat == UTF8PROC_CATEGORY_ZS ||
           cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

static void py_strip(char *s, size_t *len) {
    size_t a = 0, e = *len;
    while (a < e) {
        uint32_t c;
        size_t k = tfb__tt_utf8_next(s + a, e - a, &c);
        if (!py_space(c))
            break;
        a += k;
    }
    while (e > a) {
        size_t k = 1;
        while (k < e - a && ((unsigned char)s[e - k] & 0xC0) == 0x80)
            k++;
        uint32_t c;
        tfb__tt_utf8_next(s + e - k, k, &c);
        if (!py_space(c))
            break;
        e -= k;
    }
    memmove(s, s + a, e - a);
    s[e - a] = 0;
    *len = e - a;
}

tfb_status tfb_tokenizer_decode(const tfb_tokenizer *t, const int32_t *ids, int64_t n, bool skip_special,
                                char **text, size_t *len) {
    size_t dummy;
    if (!len)
        len = &dummy;
    int64_t V = vocab_size(t);
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= V || !tfb_tokenizer_token(t, ids[i]))
            return tfb_error_set(TFB_STATUS_INPUT, "token id %d is not in the vocabulary (%lld ids)", ids[i],
                                 (long long)V);
    if (t->model.kind == TT_SPM && !t->marian_src) {
        int32_t *keep = malloc((size_t)(n + 1) * sizeof *keep);
        if (!keep)
            return tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
        int k = 0;
        for (int64_t i = 0; i < n; i++)
            if (!skip_special || !tfb__tt_spm_is_control(t->model.spm, ids[i])) /* <unk> decodes as " ⁇ " */
                keep[k++] = ids[i];
        *text = tfb__tt_spm_decode(t->model.spm, keep, k, len);
        free(keep);
        return *text ? TFB_STATUS_OK : tfb_error_set(TFB_STATUS_INTERNAL, "sentencepiece: decode failed");
    }
    tt_list toks = {0};
    bool ok = true;
    for (int64_t i = 0; ok && i < n; i++) {
        if (skip_special && t->is_special[ids[i]])
            continue;
        if (t->marian_src && skip_special &&
            (ids[i] == t->post.post[0] || ids[i] == t->model.unk ||
             strcmp(tfb_tokenizer_token(t, ids[i]), "<pad>") == 0))
            continue;
        const char *s = tfb_tokenizer_token(t, ids[i]);
        ok = tfb__tt_list_push(&toks, s, strlen(s));
    }
    if (!ok) {
        tfb__tt_list_free(&toks);
        return tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
    }
    if (t->marian_tgt) {
        tt_buf all = {0};
        ok = tfb__tt_buf_add(&all, "", 0);
        for (size_t i = 0; ok && i < toks.n; i++)
            ok = tfb__tt_buf_add(&all, toks.v[i].p, toks.v[i].n + 1);
        *text = ok ? tfb__tt_spm_decode_pieces(t->marian_tgt, all.p, all.n, (int)toks.n, len) : NULL;
        tfb__tt_buf_free(&all);
        tfb__tt_list_free(&toks);
        if (!*text)
            return tfb_error_set(TFB_STATUS_INTERNAL, "sentencepiece: decode failed");
        py_strip(*text, len); /* MarianTokenizer: out_string.strip(), then clean_up_tokenization */
        return cleanup(text, len);
    }
    tfb_status st = t->dec ? tfb__tt_decoder_apply(t->dec, &toks) : TFB_STATUS_OK;
    tt_buf b = {0};
    ok = st == TFB_STATUS_OK && tfb__tt_buf_add(&b, "", 0);
    for (size_t i = 0; ok && i < toks.n; i++) /* without a decoder tokenizers joins with spaces */
        ok = (t->dec || i == 0 || tfb__tt_buf_add(&b, " ", 1)) &&
             tfb__tt_buf_add(&b, toks.v[i].p, toks.v[i].n);
    tfb__tt_list_free(&toks);
    if (!ok) {
        tfb__tt_buf_free(&b);
        return st != TFB_STATUS_OK ? st : tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
    }
    *text = b.p;
    *len = b.n;
    if (t->legacy_cleanup)
        return cleanup(text, len);
    return TFB_STATUS_OK;
}
