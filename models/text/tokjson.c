/* tokenizer.json (Hugging Face fast tokenizers) -> the pipeline of text_impl.h. Every component
 * type is either built or refused in one error naming it; sizes and counts are bounded. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_impl.h"

typedef struct ctx {
    const char *path;
    tfb_tokenizer *t;
} ctx;

#define FAIL(c, ...) fail_((c), __VA_ARGS__)
static tfb_status fail_(const ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static tfb_status fail_(const ctx *c, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tfb_error_set(TFB_STATUS_INPUT, "%s: %s", c->path, msg);
}

static const char *str(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool flag(const cJSON *o, const char *k, bool def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

/* A non-negative integer field within [0, hi]; def when absent or null. */
static bool intval(const cJSON *v, int64_t hi, int64_t *out) {
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > (double)hi ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

static const char *type_of(const cJSON *o) {
    const char *t = str(o, "type");
    return t ? t : "(no type)";
}

static uint32_t first_cp(const char *s) {
    uint32_t c = 0;
    if (s && *s)
        tfb__tt_utf8_next(s, strlen(s), &c);
    return c;
}

/* "pattern": {"String": "..."} or {"Regex": "..."}. */
static const char *pattern(const cJSON *o, bool *regex) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "pattern");
    const char *s = str(p, "String");
    *regex = false;
    if (!s && (s = str(p, "Regex")))
        *regex = true;
    return s;
}

static int behavior(const char *b) {
    static const char *const names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext",
                                        "Contiguous"};
    for (int i = 0; b && i < 5; i++)
        if (strcmp(b, names[i]) == 0)
            return i;
    return -1;
}

static size_t b64(const char *s, unsigned char *out) {
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (; *s; s++) {
        int v = *s >= 'A' && *s <= 'Z'   ? *s - 'A'
                : *s >= 'a' && *s <= 'z' ? *s - 'a' + 26
                : *s >= '0' && *s <= '9' ? *s - '0' + 52
                : *s == '+'              ? 62
                : *s == '/'              ? 63
                                         : -1;
        if (v < 0)
            continue; /* '=' padding */
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return n;
}

/* ---- normalizers */
static tfb_status normalizer(const ctx *c, const cJSON *o, int depth, tt_norm **out) {
    const char *t = type_of(o);
    tt_norm *n = NULL;
    if (depth > TT_MAX_DEPTH)
        return FAIL(c, "normalizer Sequence nested deeper than %d", TT_MAX_DEPTH);
    if (strcmp(t, "Sequence") == 0) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "normalizers");
        int k = cJSON_GetArraySize(a);
        if (!cJSON_IsArray(a) || k > TT_MAX_PARTS)
            return FAIL(c, "normalizer Sequence: \"normalizers\" is not an array of at most %d",
                        TT_MAX_PARTS);
        tt_norm *parts[TT_MAX_PARTS];
        int i = 0;
        for (const cJSON *e = a->child; e; e = e->next, i++) {
            tfb_status s = normalizer(c, e, depth + 1, &parts[i]);
            if (s != TFB_STATUS_OK) {
                while (i--)
                    tfb__tt_norm_free(parts[i]);
                return s;
            }
        }
        n = tfb__tt_norm_seq(parts, k);
        if (!n)
            for (i = 0; i < k; i++)
                tfb__tt_norm_free(parts[i]);
    } else if (strcmp(t, "BertNormalizer") == 0) {
        const cJSON *sa = cJSON_GetObjectItemCaseSensitive(o, "strip_accents");
        n = tfb__tt_norm_bert(flag(o, "clean_text", true), flag(o, "handle_chinese_chars", true),
                              cJSON_IsBool(sa) ? cJSON_IsTrue(sa) : -1, flag(o, "lowercase", true));
    } else if ((n = tfb__tt_norm_simple(t))) {
    } else if (strcmp(t, "Replace") == 0) {
        bool re;
        const char *p = pattern(o, &re), *with = str(o, "content");
        if (!p || !with)
            return FAIL(c, "normalizer Replace: needs a pattern and a content string");
        if (!(n = tfb__tt_norm_replace(p, strlen(p), re, with, strlen(with), c->path)))
            return FAIL(c, "normalizer Replace: pattern \"%.80s\" does not compile", p);
    } else if (strcmp(t, "Prepend") == 0) {
        const char *p = str(o, "prepend");
        if (!p)
            return FAIL(c, "normalizer Prepend: \"prepend\" is not a string");
        n = tfb__tt_norm_prepend(p, strlen(p));
    } else if (strcmp(t, "Strip") == 0) {
        n = tfb__tt_norm_strip(flag(o, "strip_left", true), flag(o, "strip_right", true));
    } else if (strcmp(t, "Precompiled") == 0) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "precompiled_charsmap");
        if (cJSON_IsNull(m) || (cJSON_IsString(m) && !m->valuestring[0])) {
            n = tfb__tt_norm_seq(NULL, 0); /* no charsmap: the identity, as tokenizers treats it */
        } else {
            if (!cJSON_IsString(m))
                return FAIL(c, "normalizer Precompiled: \"precompiled_charsmap\" is not a string");
            unsigned char *raw = malloc(strlen(m->valuestring) / 4 * 3 + 4);
            if (!raw)
                return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", c->path);
            size_t rn = b64(m->valuestring, raw);
            n = tfb__tt_norm_precompiled(raw, rn);
            free(raw);
            if (!n)
                return FAIL(c, "normalizer Precompiled: malformed charsmap");
        }
    } else {
        return tfb_error_set(TFB_STATUS_INPUT, "%s: normalizer \"%.64s\" is not supported", c->path, t);
    }
    if (!n)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", c->path);
    *out = n;
    return TFB_STATUS_OK;
}

/* Metaspace's "prepend_scheme" (tokenizers >= 0.14) or the older "add_prefix_space". */
static int prepend_scheme(const cJSON *o) {
    const char *p = str(o, "prepend_scheme");
    if (p)
        return strcmp(p, "always") == 0 ? 1 : strcmp(p, "first") == 0 ? 2 : strcmp(p, "never") == 0 ? 0 : -1;
    return flag(o, "add_prefix_space", true) ? 1 : 0;
}

/* ---- pre-tokenizers */
static tfb_status pretokenizer(const ctx *c, const cJSON *o, int depth, tt_pretok **out) {
    const char *t = type_of(o);
    tt_pretok *p = NULL;
    if (depth > TT_MAX_DEPTH)
        return FAIL(c, "pre_tokenizer Sequence nested deeper than %d", TT_MAX_DEPTH);
    if (strcmp(t, "Sequence") == 0) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "pretokenizers");
        int k = cJSON_GetArraySize(a);
        if (!cJSON_IsArray(a) || k > TT_MAX_PARTS)
            return FAIL(c, "pre_tokenizer Sequence: \"pretokenizers\" is not an array of at most %d",
                        TT_MAX_PARTS);
        tt_pretok *parts[TT_MAX_PARTS];
        int i = 0;
        for (const cJSON *e = a->child; e; e = e->next, i++) {
            tfb_status s = pretokenizer(c, e, depth + 1, &parts[i]);
            if (s != TFB_STATUS_OK) {
                while (i--)
                    tfb__tt_pretok_free(parts[i]);
                return s;
            }
        }
        if (!(p = tfb__tt_pretok_seq(parts, k)))
            for (i = 0; i < k; i++)
                tfb__tt_pretok_free(parts[i]);
    } else if (strcmp(t, "ByteLevel") == 0) {
        p = tfb__tt_pretok_bytelevel(flag(o, "add_prefix_space", true), flag(o, "use_regex", true));
    } else if (strcmp(t, "Metaspace") == 0) {
        const char *r = str(o, "replacement");
        int ps = prepend_scheme(o);
        if (!r || !*r || ps < 0)
            return FAIL(c, "pre_tokenizer Metaspace: bad replacement or prepend_scheme");
        p = tfb__tt_pretok_metaspace(first_cp(r), ps, flag(o, "split", true));
    } else if (strcmp(t, "BertPreTokenizer") == 0) {
        p = tfb__tt_pretok_bert();
    } else if (strcmp(t, "Whitespace") == 0 || strcmp(t, "WhitespaceSplit") == 0) {
        p = tfb__tt_pretok_whitespace(strcmp(t, "WhitespaceSplit") == 0);
    } else if (strcmp(t, "Punctuation") == 0) {
        int b = behavior(str(o, "behavior") ? str(o, "behavior") : "Isolated");
        if (b < 0)
            return FAIL(c, "pre_tokenizer Punctuation: unknown behavior");
        p = tfb__tt_pretok_punct(b);
    } else if (strcmp(t, "Digits") == 0) {
        p = tfb__tt_pretok_digits(flag(o, "individual_digits", false));
    } else if (strcmp(t, "Split") == 0) {
        bool re;
        const char *pat = pattern(o, &re);
        int b = behavior(str(o, "behavior"));
        if (!pat || b < 0)
            return FAIL(c, "pre_tokenizer Split: needs a pattern and a known behavior");
        char err[256] = "";
        if (!(p = tfb__tt_pretok_split(pat, strlen(pat), re, b, flag(o, "invert", false), err, sizeof err)))
            return FAIL(c, "pre_tokenizer Split: pattern \"%.80s\": %s", pat, err);
    } else {
        return tfb_error_set(TFB_STATUS_INPUT, "%s: pre_tokenizer \"%.64s\" is not supported", c->path, t);
    }
    if (!p)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", c->path);
    *out = p;
    return TFB_STATUS_OK;
}

/* ---- decoders */
static tfb_status decoder(const ctx *c, const cJSON *o, int depth, tt_decoder **out) {
    const char *t = type_of(o);
    tt_decoder *d = NULL;
    if (depth > TT_MAX_DEPTH)
        return FAIL(c, "decoder Sequence nested deeper than %d", TT_MAX_DEPTH);
    if (strcmp(t, "Sequence") == 0) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "decoders");
        int k = cJSON_GetArraySize(a);
        if (!cJSON_IsArray(a) || k > TT_MAX_PARTS)
            return FAIL(c, "decoder Sequence: \"decoders\" is not an array of at most %d", TT_MAX_PARTS);
        tt_decoder *parts[TT_MAX_PARTS];
        int i = 0;
        for (const cJSON *e = a->child; e; e = e->next, i++) {
            tfb_status s = decoder(c, e, depth + 1, &parts[i]);
            if (s != TFB_STATUS_OK) {
                while (i--)
                    tfb__tt_decoder_free(parts[i]);
                return s;
            }
        }
        if (!(d = tfb__tt_dec_seq(parts, k)))
            for (i = 0; i < k; i++)
                tfb__tt_decoder_free(parts[i]);
    } else if (strcmp(t, "ByteLevel") == 0) {
        d = tfb__tt_dec_bytelevel();
    } else if (strcmp(t, "Metaspace") == 0) {
        const char *r = str(o, "replacement");
        int ps = prepend_scheme(o);
        if (!r || !*r || ps < 0)
            return FAIL(c, "decoder Metaspace: bad replacement or prepend_scheme");
        d = tfb__tt_dec_metaspace(first_cp(r), ps != 0);
    } else if (strcmp(t, "WordPiece") == 0) {
        const char *p = str(o, "prefix");
        d = tfb__tt_dec_wordpiece(p ? p : "##", flag(o, "cleanup", true));
    } else if (strcmp(t, "Replace") == 0) {
        bool re;
        const char *p = pattern(o, &re), *with = str(o, "content");
        if (!p || !with)
            return FAIL(c, "decoder Replace: needs a pattern and a content string");
        if (re)
            return tfb_error_set(TFB_STATUS_INPUT,
                                 "%s: decoder \"Replace\" with a Regex pattern is not supported", c->path);
        if (!(d = tfb__tt_dec_replace(p, strlen(p), with, strlen(with))))
            return FAIL(c, "decoder Replace: empty pattern");
    } else if (strcmp(t, "ByteFallback") == 0) {
        d = tfb__tt_dec_bytefallback();
    } else if (strcmp(t, "Fuse") == 0) {
        d = tfb__tt_dec_fuse();
    } else if (strcmp(t, "Strip") == 0) {
        const char *content = str(o, "content");
        int64_t a = 0, e = 0;
        if (!content || !intval(cJSON_GetObjectItemCaseSensitive(o, "start"), 1 << 16, &a) ||
            !intval(cJSON_GetObjectItemCaseSensitive(o, "stop"), 1 << 16, &e))
            return FAIL(c, "decoder Strip: needs content, start and stop");
        d = tfb__tt_dec_strip(content, strlen(content), (int)a, (int)e);
    } else if (strcmp(t, "BPEDecoder") == 0) {
        const char *s = str(o, "suffix");
        d = tfb__tt_dec_bpe(s ? s : "</w>");
    } else {
        return tfb_error_set(TFB_STATUS_INPUT, "%s: decoder \"%.64s\" is not supported", c->path, t);
    }
    if (!d)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", c->path);
    *out = d;
    return TFB_STATUS_OK;
}

/* ---- post-processors: only the single-sequence template matters for encode */
static tfb_status special_pair(const ctx *c, const cJSON *o, const char *k, int32_t *id) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, k);
    int64_t v;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 2 || !cJSON_IsString(a->child) ||
        !intval(a->child->next, TT_MAX_VOCAB - 1, &v))
        return FAIL(c, "post_processor: \"%s\" is not [token, id]", k);
    *id = (int32_t)v;
    return TFB_STATUS_OK;
}

static tfb_status post(const ctx *c, const cJSON *o, int depth, tt_post *p) {
    const char *t = type_of(o);
    if (depth > TT_MAX_DEPTH)
        return FAIL(c, "post_processor Sequence nested deeper than %d", TT_MAX_DEPTH);
    if (strcmp(t, "ByteLevel") == 0)
        return TFB_STATUS_OK; /* offsets only */
    if (strcmp(t, "Sequence") == 0) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "processors");
        if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > TT_MAX_PARTS)
            return FAIL(c, "post_processor Sequence: \"processors\" is not an array of at most %d",
                        TT_MAX_PARTS);
        for (const cJSON *e = a->child; e; e = e->next)
            TFB_TRY(post(c, e, depth + 1, p));
        return TFB_STATUS_OK;
    }
    if (strcmp(t, "BertProcessing") == 0 || strcmp(t, "RobertaProcessing") == 0) {
        int32_t cls, sep;
        TFB_TRY(special_pair(c, o, "cls", &cls));
        TFB_TRY(special_pair(c, o, "sep", &sep));
        p->n_pre = p->n_post = 1;
        p->pre[0] = cls;
        p->post[0] = sep;
        return TFB_STATUS_OK;
    }
    if (strcmp(t, "TemplateProcessing") != 0)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: post_processor \"%.64s\" is not supported", c->path, t);
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(o, "single");
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(o, "special_tokens");
    if (!cJSON_IsArray(single) || cJSON_GetArraySize(single) > TT_MAX_PARTS || !cJSON_IsObject(sp))
        return FAIL(c, "post_processor TemplateProcessing: \"single\" or \"special_tokens\" malformed");
    bool seen_a = false;
    p->n_pre = p->n_post = 0;
    for (const cJSON *e = single->child; e; e = e->next) {
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(e, "SpecialToken");
        if (cJSON_GetObjectItemCaseSensitive(e, "Sequence")) {
            if (seen_a)
                return FAIL(c, "post_processor TemplateProcessing: \"single\" names the sequence twice");
            seen_a = true;
            continue;
        }
        const char *name = str(tok, "id");
        const cJSON *def = name ? cJSON_GetObjectItemCaseSensitive(sp, name) : NULL;
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(def, "ids");
        if (!cJSON_IsArray(ids))
            return FAIL(c, "post_processor TemplateProcessing: special token \"%.64s\" is not defined",
                        name ? name : "?");
        for (const cJSON *i = ids->child; i; i = i->next) {
            int64_t v;
            int *np = seen_a ? &p->n_post : &p->n_pre;
            if (!intval(i, TT_MAX_VOCAB - 1, &v) || *np >= TT_MAX_PARTS)
                return FAIL(c, "post_processor TemplateProcessing: bad ids of \"%.64s\"", name);
            (seen_a ? p->post : p->pre)[(*np)++] = (int32_t)v;
        }
    }
    if (!seen_a)
        return FAIL(c, "post_processor TemplateProcessing: \"single\" has no sequence");
    return TFB_STATUS_OK;
}

/* ---- the model */
static tfb_status vocab_object(const ctx *c, const cJSON *v, int32_t n_ids, tt_vocab *out) {
    TFB_TRY(tfb__tt_vocab_init(out, n_ids));
    for (const cJSON *e = v->child; e; e = e->next) {
        int64_t id;
        if (!intval(e, n_ids - 1, &id))
            return FAIL(c, "model vocab: \"%.64s\" has no valid id", e->string);
        tfb_status s = tfb__tt_vocab_set(out, (int32_t)id, e->string, strlen(e->string));
        if (s != TFB_STATUS_OK)
            return FAIL(c, "model vocab: %s", tfb_error_last());
    }
    return TFB_STATUS_OK;
}

static char *opt_dup(const char *s) {
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

static tfb_status bpe_merges(const ctx *c, const cJSON *merges, tt_model *m) {
    int32_t rank = 0;
    for (const cJSON *e = merges->child; e; e = e->next, rank++) {
        const char *a, *b;
        size_t an, bn;
        if (cJSON_IsString(e)) { /* "a b" */
            const char *sp = strchr(e->valuestring, ' ');
            if (!sp || strchr(sp + 1, ' '))
                return FAIL(c, "model merges[%d]: \"%.64s\" is not two tokens", rank, e->valuestring);
            a = e->valuestring;
            an = (size_t)(sp - a);
            b = sp + 1;
            bn = strlen(b);
        } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsString(e->child) &&
                   cJSON_IsString(e->child->next)) { /* ["a", "b"] (tokenizers >= 0.20) */
            a = e->child->valuestring;
            an = strlen(a);
            b = e->child->next->valuestring;
            bn = strlen(b);
        } else {
            return FAIL(c, "model merges[%d] is neither \"a b\" nor [\"a\", \"b\"]", rank);
        }
        if (an + bn > TT_MAX_TOKEN)
            return FAIL(c, "model merges[%d]: tokens too long", rank);
        /* tokenizers: the merged token is a + b without b's first len(continuing_subword_prefix)
         * bytes (b carries the prefix when it continues a word). */
        size_t pl = m->cont_prefix ? strlen(m->cont_prefix) : 0, cut = pl <= bn ? pl : bn;
        char joined[2 * TT_MAX_TOKEN + 1];
        memcpy(joined, a, an);
        memcpy(joined + an, b + cut, bn - cut);
        int32_t id = tfb__tt_vocab_find(&m->vocab, joined, an + bn - cut);
        if (tfb__tt_vocab_find(&m->vocab, a, an) < 0 || tfb__tt_vocab_find(&m->vocab, b, bn) < 0 || id < 0)
            return FAIL(c, "model merges[%d]: a token of \"%.*s %.*s\" is not in the vocabulary", rank,
                        (int)an, a, (int)bn, b);
        TFB_TRY(tfb__tt_merges_add(&m->merges, a, an, b, bn, rank, id));
    }
    return TFB_STATUS_OK;
}

static tfb_status model(const ctx *c, const cJSON *o, int32_t max_added, tt_model *m) {
    const char *t = type_of(o);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "vocab");
    m->unk = -1;
    if (strcmp(t, "BPE") == 0 || strcmp(t, "WordPiece") == 0 || strcmp(t, "WordLevel") == 0) {
        if (!cJSON_IsObject(v))
            return FAIL(c, "model %s: \"vocab\" is not an object", t);
        int64_t max = max_added, cnt = 0;
        for (const cJSON *e = v->child; e; e = e->next, cnt++) {
            int64_t id;
            if (cnt >= TT_MAX_VOCAB || !intval(e, TT_MAX_VOCAB - 1, &id))
                return FAIL(c, "model vocab: entry %lld is not an id below %d (or there are more than %d)",
                            (long long)cnt, TT_MAX_VOCAB, TT_MAX_VOCAB);
            if (id > max)
                max = id;
        }
        TFB_TRY(vocab_object(c, v, (int32_t)(max + 1), &m->vocab));
        const char *unk = str(o, "unk_token");
        if (unk && (m->unk = tfb__tt_vocab_find(&m->vocab, unk, strlen(unk))) < 0 && strcmp(t, "BPE") != 0)
            return FAIL(c, "model %s: unk_token \"%.64s\" is not in the vocabulary", t, unk);
        if (strcmp(t, "BPE") == 0) {
            const cJSON *drop = cJSON_GetObjectItemCaseSensitive(o, "dropout");
            if (drop && !cJSON_IsNull(drop) && !(cJSON_IsNumber(drop) && drop->valuedouble == 0))
                return tfb_error_set(TFB_STATUS_INPUT, "%s: model BPE \"dropout\" is not supported", c->path);
            m->kind = TT_BPE;
            m->cont_prefix = opt_dup(str(o, "continuing_subword_prefix"));
            m->eow_suffix = opt_dup(str(o, "end_of_word_suffix"));
            m->fuse_unk = flag(o, "fuse_unk", false);
            m->byte_fallback = flag(o, "byte_fallback", false);
            m->ignore_merges = flag(o, "ignore_merges", false);
            const cJSON *merges = cJSON_GetObjectItemCaseSensitive(o, "merges");
            if (!cJSON_IsArray(merges) || cJSON_GetArraySize(merges) > TT_MAX_VOCAB)
                return FAIL(c, "model BPE: \"merges\" is not an array of at most %d", TT_MAX_VOCAB);
            return bpe_merges(c, merges, m);
        }
        if (strcmp(t, "WordPiece") == 0) {
            int64_t mc = 100;
            const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "max_input_chars_per_word");
            if (x && !intval(x, 1 << 20, &mc))
                return FAIL(c, "model WordPiece: bad max_input_chars_per_word");
            m->kind = TT_WORDPIECE;
            for (int32_t i = 0; i < m->vocab.n; i++) /* bounds the longest-match search */
                if ((int)m->vocab.tlen[i] > m->max_piece)
                    m->max_piece = (int)m->vocab.tlen[i];
            m->max_chars = (int)mc;
            const char *p = str(o, "continuing_subword_prefix");
            m->cont_prefix = opt_dup(p ? p : "##");
            return TFB_STATUS_OK;
        }
        m->kind = TT_WORDLEVEL;
        return TFB_STATUS_OK;
    }
    if (strcmp(t, "Unigram") == 0) {
        int n = cJSON_GetArraySize(v);
        if (!cJSON_IsArray(v) || n > TT_MAX_VOCAB)
            return FAIL(c, "model Unigram: \"vocab\" is not an array of at most %d", TT_MAX_VOCAB);
        int32_t total = n > max_added + 1 ? n : max_added + 1;
        TFB_TRY(tfb__tt_vocab_init(&m->vocab, total));
        m->kind = TT_UNIGRAM;
        m->score = calloc((size_t)total + 1, sizeof *m->score);
        if (!m->score)
            return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", c->path);
        m->min_score = 1e300;
        int i = 0;
        for (const cJSON *e = v->child; e; e = e->next, i++) {
            if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsString(e->child) ||
                !cJSON_IsNumber(e->child->next))
                return FAIL(c, "model Unigram: vocab[%d] is not [piece, score]", i);
            const char *p = e->child->valuestring;
            if (tfb__tt_vocab_set(&m->vocab, i, p, strlen(p)) != TFB_STATUS_OK)
                return FAIL(c, "model Unigram: vocab[%d]: %s", i, tfb_error_last());
            m->score[i] = e->child->next->valuedouble;
            if (m->score[i] < m->min_score)
                m->min_score = m->score[i];
            if ((int)strlen(p) > m->max_piece)
                m->max_piece = (int)strlen(p);
        }
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "unk_id");
        int64_t uid;
        if (u && !cJSON_IsNull(u)) {
            if (!intval(u, n - 1, &uid))
                return FAIL(c, "model Unigram: unk_id is not an index into vocab");
            m->unk = (int32_t)uid;
        }
        m->byte_fallback = flag(o, "byte_fallback", false);
        return TFB_STATUS_OK;
    }
    return tfb_error_set(TFB_STATUS_INPUT, "%s: model \"%.64s\" is not supported", c->path, t);
}

static tfb_status added_tokens(const ctx *c, const cJSON *a, int32_t *max_id) {
    tfb_tokenizer *t = c->t;
    int n = cJSON_GetArraySize(a);
    if (a && !cJSON_IsNull(a) && (!cJSON_IsArray(a) || n > (1 << 16)))
        return FAIL(c, "\"added_tokens\" is not an array of at most %d", 1 << 16);
    *max_id = -1;
    if (n == 0)
        return TFB_STATUS_OK;
    t->added = calloc((size_t)n, sizeof *t->added);
    if (!t->added)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", c->path);
    for (const cJSON *e = a->child; e; e = e->next) {
        tt_added *x = &t->added[t->n_added];
        const char *s = str(e, "content");
        int64_t id;
        if (!s || !*s || strlen(s) > TT_MAX_TOKEN ||
            !intval(cJSON_GetObjectItemCaseSensitive(e, "id"), TT_MAX_VOCAB - 1, &id))
            return FAIL(c, "added_tokens[%d]: needs a content string (1 to %d bytes) and an id below %d",
                        t->n_added, TT_MAX_TOKEN, TT_MAX_VOCAB);
        if (!(x->s = opt_dup(s)))
            return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", c->path);
        t->n_added++;
        x->n = strlen(s);
        x->id = (int32_t)id;
        x->special = flag(e, "special", false);
        x->lstrip = flag(e, "lstrip", false);
        x->rstrip = flag(e, "rstrip", false);
        x->single_word = flag(e, "single_word", false);
        x->normalized = flag(e, "normalized", !x->special);
        if (id > *max_id)
            *max_id = (int32_t)id;
    }
    return TFB_STATUS_OK;
}

tfb_status tfb__tt_load_json(tfb_tokenizer *t, const char *path) {
    char *data;
    size_t n;
    TFB_TRY(tfb__tt_read_file(path, &data, &n));
    tfb_status s = tfb__tt_load_json_mem(t, path, data, n);
    free(data);
    return s;
}

tfb_status tfb__tt_load_json_mem(tfb_tokenizer *t, const char *path, const char *data, size_t n) {
    ctx c = {path, t};
    if (n > TT_MAX_FILE)
        return FAIL(&c, "larger than %u MiB", TT_MAX_FILE >> 20);
    if (!tfb__tt_utf8_valid(data, n))
        return FAIL(&c, "not valid UTF-8");
    cJSON *root = cJSON_ParseWithLength(data, n);
    if (!root)
        return FAIL(&c, "not valid JSON");
    tfb_status s = TFB_STATUS_OK;
    const cJSON *o;
    int32_t max_added = -1;
    if (!cJSON_IsObject(root)) {
        s = FAIL(&c, "not a JSON object");
        goto done;
    }
    if ((s = added_tokens(&c, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), &max_added)) !=
        TFB_STATUS_OK)
        goto done;
    o = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsObject(o)) {
        s = FAIL(&c, "\"model\" is not an object");
        goto done;
    }
    if ((s = model(&c, o, max_added, &t->model)) != TFB_STATUS_OK)
        goto done;
    snprintf(t->kind, sizeof t->kind, "tokenizer.json (%s)", type_of(o));
#define COMPONENT(key, fn, dst)                                                                              \
    o = cJSON_GetObjectItemCaseSensitive(root, key);                                                         \
    if (o && !cJSON_IsNull(o)) {                                                                             \
        if (!cJSON_IsObject(o)) {                                                                            \
            s = FAIL(&c, "\"%s\" is not an object", key);                                                    \
            goto done;                                                                                       \
        }                                                                                                    \
        if ((s = fn(&c, o, 0, dst)) != TFB_STATUS_OK)                                                        \
            goto done;                                                                                       \
    }
    COMPONENT("normalizer", normalizer, &t->norm)
    COMPONENT("pre_tokenizer", pretokenizer, &t->pretok)
    COMPONENT("decoder", decoder, &t->dec)
    COMPONENT("post_processor", post, &t->post)
#undef COMPONENT
    o = cJSON_GetObjectItemCaseSensitive(root, "truncation");
    if (o && !cJSON_IsNull(o)) {
        int64_t ml;
        const char *dir = str(o, "direction");
        if (!intval(cJSON_GetObjectItemCaseSensitive(o, "max_length"), INT32_MAX, &ml) || ml == 0) {
            s = FAIL(&c, "truncation: max_length is not a positive integer");
            goto done;
        }
        if (dir && strcmp(dir, "Right") != 0 && strcmp(dir, "Left") != 0) {
            s = tfb_error_set(TFB_STATUS_INPUT, "%s: truncation direction \"%.32s\" is not supported", path,
                              dir);
            goto done;
        }
        t->trunc_max = ml;
        t->trunc_left = dir && strcmp(dir, "Left") == 0;
    }
    for (int i = 0; i < t->n_added; i++) {
        const tt_added *x = &t->added[i];
        if (x->id >= t->model.vocab.n) {
            s = FAIL(&c, "added token %d beyond the vocabulary", x->id);
            goto done;
        }
        if (x->single_word) {
            s = tfb_error_set(TFB_STATUS_INPUT, "%s: added token \"%.64s\": single_word is not supported",
                              path, x->s);
            goto done;
        }
    }
    for (int i = 0; i < t->post.n_pre + t->post.n_post; i++) {
        int32_t id = i < t->post.n_pre ? t->post.pre[i] : t->post.post[i - t->post.n_pre];
        if (id >= t->model.vocab.n) {
            s = FAIL(&c, "post_processor: token id %d beyond the vocabulary of %d", id, t->model.vocab.n);
            goto done;
        }
    }
done:
    cJSON_Delete(root);
    return s;
}
