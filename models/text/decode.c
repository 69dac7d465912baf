/* Decoders of tokenizer.json: a chain of token-list rewrites, then the tokens are concatenated
 * (tokenizers' decode_chain), each as tokenizers 0.19 does it. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <stdlib.h>
#include <string.h>

#include "text_impl.h"

enum dkind {
    D_BYTELEVEL,
    D_METASPACE,
    D_WORDPIECE,
    D_REPLACE,
    D_BYTEFALLBACK,
    D_FUSE,
    D_STRIP,
    D_BPE,
    D_SEQ
};

struct tt_decoder {
    enum dkind kind;
    uint32_t repl;
    bool prepend, cleanup;
    char *s, *with;
    size_t sn, wn;
    int start, stop;
    tt_decoder **parts;
    int n_parts;
};

static tt_decoder *make(enum dkind k, const char *s, size_t sn, const char *w, size_t wn) {
    tt_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->kind = k;
    d->s = malloc(sn + 1);
    d->with = malloc(wn + 1);
    if (!d->s || !d->with) {
        tfb__tt_decoder_free(d);
        return NULL;
    }
    if (sn)
        memcpy(d->s, s, sn);
    if (wn)
        memcpy(d->with, w, wn);
    d->s[sn] = d->with[wn] = 0;
    d->sn = sn;
    d->wn = wn;
    return d;
}

void tfb__tt_decoder_free(tt_decoder *d) {
    if (!d)
        return;
    for (int i = 0; i < d->n_parts; i++)
        tfb__tt_decoder_free(d->parts[i]);
    free(d->parts);
    free(d->s);
    free(d->with);
    free(d);
}

tt_decoder *tfb__tt_dec_bytelevel(void) {
    return make(D_BYTELEVEL, "", 0, "", 0);
}
tt_decoder *tfb__tt_dec_bytefallback(void) {
    return make(D_BYTEFALLBACK, "", 0, "", 0);
}
tt_decoder *tfb__tt_dec_fuse(void) {
    return make(D_FUSE, "", 0, "", 0);
}
tt_decoder *tfb__tt_dec_bpe(const char *suffix) {
    return make(D_BPE, suffix, strlen(suffix), "", 0);
}

tt_decoder *tfb__tt_dec_metaspace(uint32_t repl, bool prepend) {
    tt_decoder *d = make(D_METASPACE, "", 0, "", 0);
    if (d) {
        d->repl = repl;
        d->prepend = prepend;
    }
    return d;
}

tt_decoder *tfb__tt_dec_wordpiece(const char *prefix, bool cleanup) {
    tt_decoder *d = make(D_WORDPIECE, prefix, strlen(prefix), "", 0);
    if (d)
        d->cleanup = cleanup;
    return d;
}

tt_decoder *tfb__tt_dec_replace(const char *pat, size_t pn, const char *with, size_t wn) {
    return pn ? make(D_REPLACE, pat, pn, with, wn) : NULL;
}

tt_decoder *tfb__tt_dec_strip(const char *content, size_t cn, int start, int stop) {
    tt_decoder *d = make(D_STRIP, content, cn, "", 0);
    if (d) {
        d->start = start;
        d->stop = stop;
    }
    return d;
}

tt_decoder *tfb__tt_dec_seq(tt_decoder **parts, int n) {
    tt_decoder *d = make(D_SEQ, "", 0, "", 0);
    if (!d || !(d->parts = malloc((size_t)(n ? n : 1) * sizeof *parts))) {
        tfb__tt_decoder_free(d);
        return NULL;
    }
    memcpy(d->parts, parts, (size_t)n * sizeof *parts);
    d->n_parts = n;
    return d;
}

/* Replace every occurrence of pat in s (n bytes) by with, into out. */
static bool replace_all(const char *s, size_t n, const char *pat, size_t pn, const char *with, size_t wn,
                        tt_buf *out) {
    if (!tfb__tt_buf_add(out, "", 0))
        return false;
    for (size_t i = 0; i < n;) {
        if (pn && n - i >= pn && memcmp(s + i, pat, pn) == 0) {
            if (!tfb__tt_buf_add(out, with, wn))
                return false;
            i += pn;
        } else if (!tfb__tt_buf_add(out, s + i++, 1)) {
            return false;
        }
    }
    return true;
}

static bool set_token(tt_buf *t, tt_buf *nb) {
    tfb__tt_buf_free(t);
    *t = *nb;
    return true;
}

static bool wordpiece_cleanup(tt_buf *t) {
    static const char *const rules[][2] = {
        {" .", "."},   {" ?", "?"},           {" !", "!"},   {" ,", ","},     {" ' ", "'"},   {" n't", "n't"},
        {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        tt_buf nb = {0};
        if (!replace_all(t->p, t->n, rules[r][0], strlen(rules[r][0]), rules[r][1], strlen(rules[r][1]), &nb))
            return false;
        set_token(t, &nb);
    }
    return true;
}

static int hexval(char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

static bool flush_bytes(tt_list *out, tt_buf *bytes) {
    if (!bytes->n)
        return true;
    char *fixed;
    size_t fn;
    bool ok;
    if (tfb_text_utf8_replace(bytes->p, bytes->n, &fixed, &fn) != TFB_STATUS_OK)
        return false;
    /* Valid UTF-8 stays one token; otherwise one U+FFFD per byte, as tokenizers does. */
    bool valid = fn == bytes->n && memcmp(fixed, bytes->p, fn) == 0;
    free(fixed);
    if (valid) {
        ok = tfb__tt_list_push(out, bytes->p, bytes->n);
    } else {
        ok = true;
        for (size_t i = 0; ok && i < bytes->n; i++)
            ok = tfb__tt_list_push(out, "\xef\xbf\xbd", 3);
    }
    bytes->n = 0;
    return ok;
}

static bool apply(const tt_decoder *d, tt_list *toks) {
    switch (d->kind) {
    case D_BYTELEVEL: {
        tt_buf raw = {0};
        bool ok = tfb__tt_buf_add(&raw, "", 0);
        for (size_t i = 0; ok && i < toks->n; i++) {
            const tt_buf *t = &toks->v[i];
            size_t mark = raw.n;
            bool all = true;
            for (size_t j = 0; ok && j < t->n;) {
                uint32_t c;
                j += tfb__tt_utf8_next(t->p + j, t->n - j, &c);
                int b = tfb__tt_cp_to_byte(c);
                if (b < 0) {
                    all = false;
                    break;
                }
                unsigned char ub = (unsigned char)b;
                ok = tfb__tt_buf_add(&raw, &ub, 1);
            }
            if (ok && !all) { /* a character outside the table: the token's own bytes */
                raw.n = mark;
                ok = tfb__tt_buf_add(&raw, t->p, t->n);
            }
        }
        char *s = NULL;
        size_t n = 0;
        ok = ok && tfb_text_utf8_replace(raw.p, raw.n, &s, &n) == TFB_STATUS_OK;
        tfb__tt_buf_free(&raw);
        if (!ok)
            return false;
        tfb__tt_list_free(toks);
        ok = tfb__tt_list_push(toks, s, n);
        free(s);
        return ok;
    }
    case D_METASPACE:
        for (size_t i = 0; i < toks->n; i++) {
            tt_buf nb = {0};
            bool ok = tfb__tt_buf_add(&nb, "", 0);
            const tt_buf *t = &toks->v[i];
            for (size_t j = 0; ok && j < t->n;) {
                uint32_t c;
                size_t k = tfb__tt_utf8_next(t->p + j, t->n - j, &c);
                if (c != d->repl)
                    ok = tfb__tt_buf_add(&nb, t->p + j, k);
                else if (!(i == 0 && d->prepend))
                    ok = tfb__tt_buf_add(&nb, " ", 1);
                j += k;
            }
            if (!ok) {
                tfb__tt_buf_free(&nb);
                return false;
            }
            set_token(&toks->v[i], &nb);
        }
        return true;
    case D_WORDPIECE:
        for (size_t i = 0; i < toks->n; i++) {
            tt_buf *t = &toks->v[i];
            tt_buf nb = {0};
            bool ok = tfb__tt_buf_add(&nb, "", 0);
            if (i != 0 && t->n >= d->sn && memcmp(t->p, d->s, d->sn) == 0)
                ok = ok && tfb__tt_buf_add(&nb, t->p + d->sn, t->n - d->sn);
            else
                ok = ok && (i == 0 || tfb__tt_buf_add(&nb, " ", 1)) && tfb__tt_buf_add(&nb, t->p, t->n);
            if (!ok) {
                tfb__tt_buf_free(&nb);
                return false;
            }
            set_token(t, &nb);
            if (d->cleanup && !wordpiece_cleanup(t))
                return false;
        }
        return true;
    case D_REPLACE:
    case D_BPE:
        for (size_t i = 0; i < toks->n; i++) {
            tt_buf nb = {0};
            const char *with = d->kind == D_BPE ? (i + 1 == toks->n ? "" : " ") : d->with;
            size_t wn = d->kind == D_BPE ? strlen(with) : d->wn;
            if (!replace_all(toks->v[i].p, toks->v[i].n, d->s, d->sn, with, wn, &nb)) {
                tfb__tt_buf_free(&nb);
                return false;
            }
            set_token(&toks->v[i], &nb);
        }
        return true;
    case D_BYTEFALLBACK: {
        tt_list out = {0};
        tt_buf bytes = {0};
        bool ok = true;
        for (size_t i = 0; ok && i < toks->n; i++) {
            const tt_buf *t = &toks->v[i];
            int hi, lo;
            if (t->n == 6 && memcmp(t->p, "<0x", 3) == 0 && t->p[5] == '>' && (hi = hexval(t->p[3])) >= 0 &&
                (lo = hexval(t->p[4])) >= 0) {
                unsigned char b = (unsigned char)(hi * 16 + lo);
                ok = tfb__tt_buf_add(&bytes, &b, 1);
            } else {
                ok = flush_bytes(&out, &bytes) && tfb__tt_list_push(&out, t->p, t->n);
            }
        }
        ok = ok && flush_bytes(&out, &bytes);
        tfb__tt_buf_free(&bytes);
        tfb__tt_list_free(toks);
        *toks = out;
        return ok;
    }
    case D_FUSE: {
        tt_buf all = {0};
        bool ok = tfb__tt_buf_add(&all, "", 0);
        for (size_t i = 0; ok && i < toks->n; i++)
            ok = tfb__tt_buf_add(&all, toks->v[i].p, toks->v[i].n);
        tfb__tt_list_free(toks);
        ok = ok && tfb__tt_list_push(toks, all.p, all.n);
        tfb__tt_buf_free(&all);
        return ok;
    }
    case D_STRIP:
        for (size_t i = 0; i < toks->n; i++) {
            tt_buf *t = &toks->v[i];
            size_t a = 0, e = t->n;
            for (int k = 0; k < d->start && e - a >= d->sn && d->sn && memcmp(t->p + a, d->s, d->sn) == 0;
                 k++)
                a += d->sn;
            for (int k = 0;
                 k < d->stop && e - a >= d->sn && d->sn && memcmp(t->p + e - d->sn, d->s, d->sn) == 0; k++)
                e -= d->sn;
            memmove(t->p, t->p + a, e - a);
            t->n = e - a;
            t->p[t->n] = 0;
        }
        return true;
    case D_SEQ:
        for (int i = 0; i < d->n_parts; i++)
            if (!apply(d->parts[i], toks))
                return false;
        return true;
    }
    return false;
}

tfb_status tfb__tt_decoder_apply(const tt_decoder *d, tt_list *toks) {
    return apply(d, toks) ? TFB_STATUS_OK : tfb_error_set(TFB_STATUS_NOMEM, "decoder: out of memory");
}
