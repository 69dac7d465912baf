/* The tokenizer a GGUF file's metadata describes (tokenizer.ggml.*, as llama.cpp's converter writes
 * it), onto the text layer's kinds:
 *   gpt2  -> byte-level BPE (tokens, merges "a b", the split regex that tokenizer.ggml.pre names)
 *   bert  -> WordPiece (the converter writes word starts as "\u2581w" and continuations as "w":
 *            turned back into WordPiece's "w" / "##w")
 *   llama -> SentencePiece BPE, t5 -> SentencePiece Unigram: a ModelProto is encoded here from the
 *            tokens, scores, token types and normalizer keys and loaded into libsentencepiece, the
 *            engine that already serves .model files, so a GGUF and the .model it came from
 *            tokenize with the same code (the text layer's own Unigram / BPE follow tokenizers'
 *            reimplementations, which differ from SentencePiece in corner cases).
 * The metadata is untrusted: every count, id and length is checked, and anything that is not
 * modelled is refused as "<file>: tokenizer: <what>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/formats/gguf.h"
#include "text_impl.h"

/* llama.cpp's token types (the same numbers as SentencePiece's piece types). */
enum { GT_NORMAL = 1, GT_UNKNOWN = 2, GT_CONTROL = 3, GT_USER = 4, GT_UNUSED = 5, GT_BYTE = 6 };

typedef struct gt_meta {
    const char *path;
    const tfb__gguf_file *f;
    const tfb__gguf_value *tok;                   /* [n] strings */
    const tfb__gguf_value *score, *type, *merges; /* [n] floats, [n] ints, [n_merges] strings; or NULL */
    int32_t n;
    uint64_t n_merges;
    int32_t bos, eos, unk, pad, sep, cls; /* -1 when absent */
    int add_bos, add_eos;                 /* -1 when absent */
} gt_meta;

#define BAD(...) tfb_error_set(TFB_STATUS_INPUT, __VA_ARGS__)

static tfb_status nomem(const gt_meta *m) {
    return tfb_error_set(TFB_STATUS_NOMEM, "%s: tokenizer: out of memory", m->path);
}

/* An array key of element type elem (any integer type when elem is INT32), or NULL when absent. */
static tfb_status get_arr(const gt_meta *m, const char *key, tfb__gguf_type elem, const tfb__gguf_value **out,
                          uint64_t *n) {
    const tfb__gguf_kv *kv = tfb__gguf_find_key(m->f, key);
    *out = NULL;
    *n = 0;
    if (!kv)
        return TFB_STATUS_OK;
    tfb__gguf_type et = kv->val.type == TFB_GGUF_ARRAY ? kv->val.arr.type : TFB_GGUF_TYPE_COUNT;
    bool is_int = et <= TFB_GGUF_INT32 || et == TFB_GGUF_UINT64 || et == TFB_GGUF_INT64;
    bool ok = elem == TFB_GGUF_INT32 ? is_int && et != TFB_GGUF_BOOL : et == elem;
    if (!ok)
        return BAD("%s: tokenizer: %s is %s%s%s, not an array of %s", m->path, key,
                   tfb__gguf_type_name(kv->val.type), kv->val.type == TFB_GGUF_ARRAY ? " of " : "",
                   kv->val.type == TFB_GGUF_ARRAY ? tfb__gguf_type_name(et) : "",
                   elem == TFB_GGUF_INT32 ? "integers" : tfb__gguf_type_name(elem));
    *out = kv->val.arr.v;
    *n = kv->val.arr.n;
    return TFB_STATUS_OK;
}

/* An integer value as int64 (false when it is not an integer type). */
static bool int_of(const tfb__gguf_value *v, int64_t *out) {
    switch (v->type) {
    case TFB_GGUF_UINT8:
    case TFB_GGUF_UINT16:
    case TFB_GGUF_UINT32:
    case TFB_GGUF_UINT64:
        if (v->u > INT64_MAX)
            return false;
        *out = (int64_t)v->u;
        return true;
    case TFB_GGUF_INT8:
    case TFB_GGUF_INT16:
    case TFB_GGUF_INT32:
    case TFB_GGUF_INT64:
        *out = v->i;
        return true;
    default:
        return false;
    }
}

/* tokenizer.ggml.<name>_token_id: an id below n, or -1 when absent. */
static tfb_status get_id(const gt_meta *m, const char *name, int32_t *out) {
    char key[96];
    snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", name);
    const tfb__gguf_kv *kv = tfb__gguf_find_key(m->f, key);
    *out = -1;
    if (!kv)
        return TFB_STATUS_OK;
    int64_t id;
    if (!int_of(&kv->val, &id) || id < 0 || id >= m->n)
        return BAD("%s: tokenizer: %s is not a token id below the vocabulary's %d", m->path, key, (int)m->n);
    *out = (int32_t)id;
    return TFB_STATUS_OK;
}

static tfb_status get_flag(const gt_meta *m, const char *key, int *out) {
    const tfb__gguf_kv *kv = tfb__gguf_find_key(m->f, key);
    *out = -1;
    if (!kv)
        return TFB_STATUS_OK;
    if (kv->val.type != TFB_GGUF_BOOL)
        return BAD("%s: tokenizer: %s is %s, not BOOL", m->path, key, tfb__gguf_type_name(kv->val.type));
    *out = kv->val.u != 0;
    return TFB_STATUS_OK;
}

static int token_type(const gt_meta *m, int32_t i) {
    return m->type ? (int)m->type[i].i : GT_NORMAL;
}

/* The keys every kind shares: tokens (valid UTF-8, bounded), scores and token types of the same
 * count, the special ids and the add_bos / add_eos flags. */
static tfb_status read_meta(gt_meta *m) {
    uint64_t n, ns, nt;
    TFB_TRY(get_arr(m, "tokenizer.ggml.tokens", TFB_GGUF_STRING, &m->tok, &n));
    if (!m->tok)
        return BAD("%s: tokenizer: tokenizer.ggml.tokens is missing", m->path);
    if (n == 0 || n > TT_MAX_VOCAB)
        return BAD("%s: tokenizer: %llu tokens (1 to %d are read)", m->path, (unsigned long long)n,
                   TT_MAX_VOCAB);
    m->n = (int32_t)n;
    for (int32_t i = 0; i < m->n; i++) {
        const tfb__gguf_str *s = &m->tok[i].str;
        if (s->len > TT_MAX_TOKEN || !tfb__tt_utf8_valid(s->s, (size_t)s->len))
            return BAD("%s: tokenizer: token %d is %s", m->path, (int)i,
                       s->len > TT_MAX_TOKEN ? "longer than 1024 bytes" : "not valid UTF-8");
    }
    TFB_TRY(get_arr(m, "tokenizer.ggml.scores", TFB_GGUF_FLOAT32, &m->score, &ns));
    TFB_TRY(get_arr(m, "tokenizer.ggml.token_type", TFB_GGUF_INT32, &m->type, &nt));
    if (m->score && ns != n)
        return BAD("%s: tokenizer: %llu scores for %llu tokens", m->path, (unsigned long long)ns,
                   (unsigned long long)n);
    if (m->type && nt != n)
        return BAD("%s: tokenizer: %llu token types for %llu tokens", m->path, (unsigned long long)nt,
                   (unsigned long long)n);
    for (int32_t i = 0; m->type && i < m->n; i++) {
        int64_t ty;
        if (!int_of(&m->type[i], &ty) || ty < GT_NORMAL || ty > GT_BYTE)
            return BAD("%s: tokenizer: token %d has type %lld (1 to 6 are defined)", m->path, (int)i,
                       (long long)(int_of(&m->type[i], &ty) ? ty : -1));
    }
    TFB_TRY(get_arr(m, "tokenizer.ggml.merges", TFB_GGUF_STRING, &m->merges, &m->n_merges));
    if (m->n_merges > TT_MAX_VOCAB)
        return BAD("%s: tokenizer: more than %d merges", m->path, TT_MAX_VOCAB);
    TFB_TRY(get_id(m, "bos", &m->bos));
    TFB_TRY(get_id(m, "eos", &m->eos));
    TFB_TRY(get_id(m, "unknown", &m->unk));
    TFB_TRY(get_id(m, "padding", &m->pad));
    TFB_TRY(get_id(m, "seperator", &m->sep)); /* llama.cpp's spelling */
    TFB_TRY(get_id(m, "cls", &m->cls));
    TFB_TRY(get_flag(m, "tokenizer.ggml.add_bos_token", &m->add_bos));
    TFB_TRY(get_flag(m, "tokenizer.ggml.add_eos_token", &m->add_eos));
    return TFB_STATUS_OK;
}

/* add_bos / add_eos as the file says, else the kind's default (llama.cpp's: <s> before for
 * SentencePiece BPE, </s> after for T5, [CLS] ... [SEP] for BERT, nothing for GPT-2). */
static tfb_status set_post(tfb_tokenizer *t, const gt_meta *m, int32_t bos, int32_t eos, bool def_bos,
                           bool def_eos) {
    bool ab = m->add_bos >= 0 ? m->add_bos : def_bos, ae = m->add_eos >= 0 ? m->add_eos : def_eos;
    if ((ab && bos < 0) || (ae && eos < 0))
        return BAD("%s: tokenizer: adds a %s token but names none", m->path,
                   ab && bos < 0 ? "first" : "last");
    if (ab)
        t->post.pre[t->post.n_pre++] = bos;
    if (ae)
        t->post.post[t->post.n_post++] = eos;
    return TFB_STATUS_OK;
}

/* Control tokens become special added tokens and user-defined ones plain added tokens, matched in
 * the text before the model sees it (the converter marks a tokenizer's added tokens so). */
static tfb_status add_marked(tfb_tokenizer *t, const gt_meta *m) {
    for (int32_t i = 0; i < m->n; i++) {
        int ty = token_type(m, i);
        /* the vocabulary's form (bert's phantom spaces already undone) */
        const tfb__gguf_str str = {t->model.vocab.tlen[i], t->model.vocab.tok[i]}, *s = &str;
        if ((ty != GT_CONTROL && ty != GT_USER) || s->len == 0 || !s->s)
            continue;
        tt_added *a = realloc(t->added, (size_t)(t->n_added + 1) * sizeof *a);
        if (!a)
            return nomem(m);
        t->added = a;
        tt_added *x = &a[t->n_added];
        *x = (tt_added){
            .s = malloc((size_t)s->len + 1), .n = (size_t)s->len, .id = i, .special = ty == GT_CONTROL};
        if (!x->s)
            return nomem(m);
        memcpy(x->s, s->s, (size_t)s->len + 1);
        t->n_added++;
    }
    return TFB_STATUS_OK;
}

static tfb_status fill_vocab(tfb_tokenizer *t, const gt_meta *m) {
    TFB_TRY(tfb__tt_vocab_init(&t->model.vocab, m->n));
    for (int32_t i = 0; i < m->n; i++)
        if (tfb__tt_vocab_set(&t->model.vocab, i, m->tok[i].str.s, (size_t)m->tok[i].str.len) !=
            TFB_STATUS_OK)
            return BAD("%s: tokenizer: token %d: %s", m->path, (int)i, tfb_error_last());
    return TFB_STATUS_OK;
}

/* ---- gpt2: byte-level BPE ------------------------------------------------------------------- */

/* llama.cpp's pre-tokenizer names and the split each stands for in the Hugging Face tokenizer.json
 * of the models they were named after. "default" is what the converter writes when it has no better
 * name; tfbench reads it as GPT-2's split (llama.cpp's own "default" regex differs on punctuation
 * runs: see docs/gguf-models.md). */
static const char LLAMA3_RE[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
                                "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static tfb_status gpt2_pretok(tfb_tokenizer *t, const gt_meta *m, const char *pre) {
    if (!pre || !strcmp(pre, "default") || !strcmp(pre, "gpt-2") || !strcmp(pre, "gpt2")) {
        t->pretok = tfb__tt_pretok_bytelevel(false, true);
        return t->pretok ? TFB_STATUS_OK : nomem(m);
    }
    if (!strcmp(pre, "llama-bpe") || !strcmp(pre, "llama3") || !strcmp(pre, "llama-v3")) {
        size_t rn;
        char err[256] = "", *re = tfb__tt_regex_onig(LLAMA3_RE, sizeof LLAMA3_RE - 1, &rn);
        if (!re)
            return nomem(m);
        tt_pretok *parts[2] = {tfb__tt_pretok_split(re, rn, true, 1, false, err, sizeof err),
                               tfb__tt_pretok_bytelevel(false, false)};
        free(re);
        if (!parts[0] || !parts[1] || !(t->pretok = tfb__tt_pretok_seq(parts, 2))) {
            tfb__tt_pretok_free(parts[0]);
            tfb__tt_pretok_free(parts[1]);
            return err[0] ? BAD("%s: tokenizer: the llama3 split regex: %s", m->path, err) : nomem(m);
        }
        t->model.ignore_merges = true; /* Llama 3's tokenizer.json sets it; llama.cpp does the same */
        return TFB_STATUS_OK;
    }
    return tfb_error_set(TFB_STATUS_INPUT,
                         "%s: tokenizer: pre-tokenizer \"%.64s\" (tokenizer.ggml.pre) is not modelled",
                         m->path, pre);
}

static tfb_status load_gpt2(tfb_tokenizer *t, const gt_meta *m, const char *pre) {
    if (!m->merges)
        return BAD("%s: tokenizer: gpt2 needs tokenizer.ggml.merges", m->path);
    TFB_TRY(fill_vocab(t, m));
    tt_model *md = &t->model;
    md->kind = TT_BPE;
    md->unk = -1;
    for (uint64_t r = 0; r < m->n_merges; r++) {
        const tfb__gguf_str *s = &m->merges[r].str;
        /* "a b": split at the first space after the first byte, as llama.cpp does */
        const char *sp = s->len > 1 ? memchr(s->s + 1, ' ', (size_t)s->len - 1) : NULL;
        size_t an = sp ? (size_t)(sp - s->s) : 0, bn = sp ? (size_t)s->len - an - 1 : 0;
        if (!sp || bn == 0 || an + bn > 2 * TT_MAX_TOKEN)
            return BAD("%s: tokenizer: merge %llu is not two tokens", m->path, (unsigned long long)r);
        char joined[2 * TT_MAX_TOKEN];
        memcpy(joined, s->s, an);
        memcpy(joined + an, sp + 1, bn);
        int32_t id = tfb__tt_vocab_find(&md->vocab, joined, an + bn);
        if (id < 0 || tfb__tt_vocab_find(&md->vocab, s->s, an) < 0 ||
            tfb__tt_vocab_find(&md->vocab, sp + 1, bn) < 0)
            return BAD("%s: tokenizer: merge %llu \"%.*s\" joins or makes a token not in the vocabulary",
                       m->path, (unsigned long long)r, (int)(s->len > 80 ? 80 : s->len), s->s);
        TFB_TRY(tfb__tt_merges_add(&md->merges, s->s, an, sp + 1, bn, (int32_t)r, id));
    }
    TFB_TRY(gpt2_pretok(t, m, pre));
    if (!(t->dec = tfb__tt_dec_bytelevel()))
        return nomem(m);
    TFB_TRY(add_marked(t, m));
    TFB_TRY(set_post(t, m, m->bos, m->eos, false, false));
    snprintf(t->kind, sizeof t->kind, "GGUF gpt2 (byte-level BPE, pre %.32s)", pre ? pre : "default");
    return TFB_STATUS_OK;
}

/* ---- bert: WordPiece ------------------------------------------------------------------------ */

static tfb_status load_bert(tfb_tokenizer *t, const gt_meta *m) {
    tt_model *md = &t->model;
    TFB_TRY(tfb__tt_vocab_init(&md->vocab, m->n));
    /* The converter's phantom(), applied to every token whatever its type: "[X]" kept, "##w" -> "w",
     * "w" -> "\u2581w". Undone here (a "##[X]" or "\u2581..." entry of the source is ambiguous). BERT's
     * BasicTokenizer lower-cases when do_lower_case, which GGUF does not record: a vocabulary with
     * no upper-case ASCII letter outside its [X] tokens is read as uncased. */
    bool upper = false;
    char buf[TT_MAX_TOKEN + 3];
    for (int32_t i = 0; i < m->n; i++) {
        const tfb__gguf_str *s = &m->tok[i].str;
        size_t n = (size_t)s->len;
        bool bracket = n >= 2 && s->s[0] == '[' && s->s[n - 1] == ']';
        if (bracket) {
            memcpy(buf, s->s, n);
        } else if (n >= 3 && memcmp(s->s, "\xe2\x96\x81", 3) == 0) {
            memcpy(buf, s->s + 3, n - 3);
            n -= 3;
        } else {
            memcpy(buf, "##", 2);
            memcpy(buf + 2, s->s, n);
            n += 2;
        }
        for (size_t k = 0; !bracket && k < n; k++)
            upper |= buf[k] >= 'A' && buf[k] <= 'Z';
        if ((int)n > md->max_piece)
            md->max_piece = (int)n;
        if (tfb__tt_vocab_set(&md->vocab, i, buf, n) != TFB_STATUS_OK)
            return BAD("%s: tokenizer: token %d: %s", m->path, (int)i, tfb_error_last());
    }
    md->kind = TT_WORDPIECE;
    md->max_chars = 100;
    if (!(md->cont_prefix = malloc(3)))
        return nomem(m);
    memcpy(md->cont_prefix, "##", 3);
    md->unk = m->unk >= 0 ? m->unk : tfb__tt_vocab_find(&md->vocab, "[UNK]", 5);
    /* The converter writes the ids a checkpoint's tokenizer_config.json names; without one, BERT's
     * [CLS] / [SEP] by name (llama.cpp falls back to bert-base's numbers instead). */
    int32_t cls = m->cls >= 0 ? m->cls : m->bos >= 0 ? m->bos : tfb__tt_vocab_find(&md->vocab, "[CLS]", 5);
    int32_t sep = m->sep >= 0 ? m->sep : m->eos >= 0 ? m->eos : tfb__tt_vocab_find(&md->vocab, "[SEP]", 5);
    if (md->unk < 0)
        return BAD("%s: tokenizer: bert needs an unknown token (tokenizer.ggml.unknown_token_id or [UNK])",
                   m->path);
    TFB_TRY(add_marked(t, m));
    TFB_TRY(set_post(t, m, cls, sep, true, true));
    tt_norm *parts[3] = {tfb__tt_norm_bert(true, true, 0, false), tfb__tt_norm_simple("NFC"),
                         tfb__tt_norm_bert(false, false, !upper, !upper)};
    if (!parts[0] || !parts[1] || !parts[2] || !(t->norm = tfb__tt_norm_seq(parts, 3))) {
        for (int i = 0; i < 3; i++)
            tfb__tt_norm_free(parts[i]);
        return nomem(m);
    }
    if (!(t->pretok = tfb__tt_pretok_bert()) || !(t->dec = tfb__tt_dec_wordpiece("##", true)))
        return nomem(m);
    snprintf(t->kind, sizeof t->kind, "GGUF bert (WordPiece, %s)", upper ? "cased" : "uncased");
    return TFB_STATUS_OK;
}

/* ---- llama / t5: a SentencePiece ModelProto ---------------------------------------------------- */

static bool pb_varint(tt_buf *b, uint64_t v) {
    unsigned char c[10];
    int n = 0;
    do {
        c[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return tfb__tt_buf_add(b, c, (size_t)n);
}
static bool pb_tag(tt_buf *b, int field, int wire) {
    return pb_varint(b, (uint64_t)field << 3 | (uint64_t)wire);
}
static bool pb_bytes(tt_buf *b, int field, const void *s, size_t n) {
    return pb_tag(b, field, 2) && pb_varint(b, n) && tfb__tt_buf_add(b, s, n);
}
static bool pb_int(tt_buf *b, int field, int64_t v) { /* int32 / enum / bool: negatives as 10 bytes */
    return pb_tag(b, field, 0) && pb_varint(b, (uint64_t)v);
}
static bool pb_float(tt_buf *b, int field, float v) {
    unsigned char c[4];
    uint32_t u;
    memcpy(&u, &v, 4);
    for (int i = 0; i < 4; i++)
        c[i] = (unsigned char)(u >> (8 * i));
    return pb_tag(b, field, 5) && tfb__tt_buf_add(b, c, 4);
}

/* tokenizer.ggml.precompiled_charsmap: bytes as an array of UINT8 / INT8 (or NULL when absent). */
static tfb_status get_charsmap(const gt_meta *m, tt_buf *out) {
    const tfb__gguf_kv *kv = tfb__gguf_find_key(m->f, "tokenizer.ggml.precompiled_charsmap");
    if (!kv)
        return TFB_STATUS_OK;
    if (kv->val.type != TFB_GGUF_ARRAY ||
        (kv->val.arr.type != TFB_GGUF_UINT8 && kv->val.arr.type != TFB_GGUF_INT8))
        return BAD("%s: tokenizer: tokenizer.ggml.precompiled_charsmap is not an array of bytes", m->path);
    if (kv->val.arr.n > TT_MAX_FILE)
        return BAD("%s: tokenizer: precompiled_charsmap is over %u bytes", m->path, TT_MAX_FILE);
    for (uint64_t i = 0; i < kv->val.arr.n; i++) {
        unsigned char c = (unsigned char)kv->val.arr.v[i].u;
        if (!tfb__tt_buf_add(out, &c, 1))
            return nomem(m);
    }
    return TFB_STATUS_OK;
}

static tfb_status load_spm(tfb_tokenizer *t, const gt_meta *m, bool t5) {
    if (!m->score)
        return BAD("%s: tokenizer: %s needs tokenizer.ggml.scores", m->path, t5 ? "t5" : "llama");
    int dummy, extra;
    TFB_TRY(get_flag(m, "tokenizer.ggml.add_space_prefix", &dummy));
    TFB_TRY(get_flag(m, "tokenizer.ggml.remove_extra_whitespaces", &extra));
    tt_buf map = {0}, pb = {0}, sub = {0}, piece = {0};
    tfb_status s = get_charsmap(m, &map);
    int safe = s == TFB_STATUS_OK && map.n ? tfb__tt_charsmap_check((const unsigned char *)map.p, map.n) : 1;
    if (safe < 0)
        s = nomem(m);
    else if (safe == 0)
        s = BAD("%s: tokenizer: tokenizer.ggml.precompiled_charsmap is malformed (its trie reaches past itself "
                "or past its strings)", m->path);
    bool ok = s == TFB_STATUS_OK, byte = false;
    /* The converter pads a vocabulary longer than the .model with "[PADn]" pieces typed unknown;
     * SentencePiece allows one unknown piece, so the others (all but unknown_token_id, or the first)
     * are written as unused, which is what they are. */
    int32_t unk = m->unk;
    for (int32_t i = 0; unk < 0 && i < m->n; i++)
        if (token_type(m, i) == GT_UNKNOWN)
            unk = i;
    if (ok && (unk < 0 || token_type(m, unk) != GT_UNKNOWN)) {
        s = BAD("%s: tokenizer: no token of type unknown%s (SentencePiece needs one)", m->path,
                unk >= 0 ? " at unknown_token_id" : "");
        ok = false;
    }
    for (int32_t i = 0; ok && i < m->n; i++) { /* ModelProto.pieces = 1: {piece 1, score 2, type 3} */
        int ty = token_type(m, i);
        byte |= ty == GT_BYTE;
        if (ty == GT_UNKNOWN && i != unk)
            ty = GT_UNUSED;
        piece.n = 0;
        ok = pb_bytes(&piece, 1, m->tok[i].str.s, (size_t)m->tok[i].str.len) &&
             pb_float(&piece, 2, (float)m->score[i].f) && pb_int(&piece, 3, ty) &&
             pb_bytes(&pb, 1, piece.p, piece.n);
    }
    /* trainer_spec = 2: model_type 3 (UNIGRAM 1, BPE 2), vocab_size 4, byte_fallback 35, the
     * special ids 40-43 (SentencePiece finds them by their pieces 45-48) */
    const int32_t ids[4] = {m->unk, m->bos, m->eos, m->pad};
    if (ok) {
        ok = pb_int(&sub, 3, t5 ? 1 : 2) && pb_int(&sub, 4, m->n) && pb_int(&sub, 35, byte);
        for (int k = 0; ok && k < 4; k++)
            ok = pb_int(&sub, 40 + k, ids[k]) &&
                 (ids[k] < 0 || pb_bytes(&sub, 45 + k, m->tok[ids[k]].str.s, (size_t)m->tok[ids[k]].str.len));
        ok = ok && pb_bytes(&pb, 2, sub.p, sub.n);
    }
    /* normalizer_spec = 3: name 1, precompiled_charsmap 2, add_dummy_prefix 3,
     * remove_extra_whitespaces 4, escape_whitespaces 5 */
    if (ok) {
        sub.n = 0;
        const char *name = map.n ? "nmt_nfkc" : "identity";
        ok = pb_bytes(&sub, 1, name, strlen(name)) && (!map.n || pb_bytes(&sub, 2, map.p, map.n)) &&
             pb_int(&sub, 3, dummy != 0) && pb_int(&sub, 4, extra >= 0 ? extra : t5) && pb_int(&sub, 5, 1) &&
             pb_bytes(&pb, 3, sub.p, sub.n);
    }
    if (ok) {
        char err[600];
        if (!(t->model.spm = tfb__tt_spm_load_proto(pb.p, pb.n, m->path, err, sizeof err)))
            s = BAD("%s", err);
    } else if (s == TFB_STATUS_OK) {
        s = nomem(m);
    }
    tfb__tt_buf_free(&map);
    tfb__tt_buf_free(&pb);
    tfb__tt_buf_free(&sub);
    tfb__tt_buf_free(&piece);
    TFB_TRY(s);
    t->model.kind = TT_SPM;
    TFB_TRY(set_post(t, m, m->bos, m->eos, !t5, t5));
    snprintf(t->kind, sizeof t->kind, "GGUF %s (SentencePiece %s)", t5 ? "t5" : "llama",
             t5 ? "Unigram" : "BPE");
    return TFB_STATUS_OK;
}

/* ---- entry ------------------------------------------------------------------------------------- */

static tfb_status load_file(tfb_tokenizer *t, const tfb__gguf_file *f) {
    gt_meta m = {.path = f->label, .f = f};
    const tfb__gguf_kv *kind = tfb__gguf_find_key(f, "tokenizer.ggml.model");
    if (!kind)
        return BAD("%s: tokenizer: the file has no tokenizer metadata (tokenizer.ggml.model); give token ids "
                   "with --tokens",
                   m.path);
    if (kind->val.type != TFB_GGUF_STRING)
        return BAD("%s: tokenizer: tokenizer.ggml.model is %s, not STRING", m.path,
                   tfb__gguf_type_name(kind->val.type));
    const char *k = kind->val.str.s;
    const tfb__gguf_kv *prek = tfb__gguf_find_key(f, "tokenizer.ggml.pre");
    if (prek && prek->val.type != TFB_GGUF_STRING)
        return BAD("%s: tokenizer: tokenizer.ggml.pre is %s, not STRING", m.path,
                   tfb__gguf_type_name(prek->val.type));
    bool known = !strcmp(k, "gpt2") || !strcmp(k, "bert") || !strcmp(k, "llama") || !strcmp(k, "t5");
    if (!known || strlen(k) != kind->val.str.len)
        return tfb_error_set(
            TFB_STATUS_INPUT,
            "%s: tokenizer: model \"%.64s\" (tokenizer.ggml.model) is not modelled (gpt2, bert, "
            "llama and t5 are)",
            m.path, k);
    TFB_TRY(read_meta(&m));
    if (!strcmp(k, "gpt2"))
        return load_gpt2(t, &m, prek ? prek->val.str.s : NULL);
    if (!strcmp(k, "bert"))
        return load_bert(t, &m);
    return load_spm(t, &m, !strcmp(k, "t5"));
}

static tfb_status load_opened(tfb__gguf_file *f, tfb_tokenizer **out) {
    tfb_tokenizer *t = calloc(1, sizeof *t);
    tfb_status s =
        t ? TFB_STATUS_OK : tfb_error_set(TFB_STATUS_NOMEM, "%s: tokenizer: out of memory", f->label);
    if (t) {
        t->model.unk = -1;
        s = load_file(t, f);
    }
    if (s == TFB_STATUS_OK)
        s = tfb__tt_finish(t);
    tfb__gguf_close(f);
    if (s != TFB_STATUS_OK) {
        if (t)
            tfb_tokenizer_free(t);
        return s;
    }
    *out = t;
    return TFB_STATUS_OK;
}

tfb_status tfb_tokenizer_load_gguf(const char *path, tfb_tokenizer **out) {
    tfb__gguf_file f;
    TFB_TRY(tfb__gguf_open(path, &f));
    return load_opened(&f, out);
}

tfb_status tfb__tt_load_gguf_mem(const char *label, const void *buf, size_t size, tfb_tokenizer **out) {
    tfb__gguf_file f;
    TFB_TRY(tfb__gguf_open_mem(label, buf, size, &f));
    return load_opened(&f, out);
}
