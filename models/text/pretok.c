/* Pre-tokenizers of tokenizer.json: split a normalized string into words. Regexes go through PCRE2
 * with UTF and UCP (Unicode \p{..}, \s, \w), as tokenizers' Oniguruma patterns expect. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "text_impl.h"

/* GPT-2's split pattern, as tokenizers' ByteLevel pre-tokenizer uses it. */
static const char gpt2_re[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

enum pkind { P_BYTELEVEL, P_METASPACE, P_BERT, P_WHITESPACE, P_WSSPLIT, P_PUNCT, P_DIGITS, P_SPLIT, P_SEQ };
enum { B_REMOVED, B_ISOLATED, B_PREV, B_NEXT, B_CONTIGUOUS };

struct tt_pretok {
    enum pkind kind;
    bool add_prefix_space, use_regex, split, invert, individual;
    int prepend, behavior;
    uint32_t repl;
    pcre2_code *re;
    char *lit;
    size_t litn;
    tt_pretok **parts;
    int n_parts;
};

static tt_pretok *make(enum pkind k) {
    tt_pretok *p = calloc(1, sizeof *p);
    if (p)
        p->kind = k;
    return p;
}

void tfb__tt_pretok_free(tt_pretok *p) {
    if (!p)
        return;
    for (int i = 0; i < p->n_parts; i++)
        tfb__tt_pretok_free(p->parts[i]);
    free(p->parts);
    pcre2_code_free(p->re);
    free(p->lit);
    free(p);
}

/* tokenizers compiles its patterns with Oniguruma, whose Unicode \w is Letter | Mark | Number |
 * Connector_Punctuation; PCRE2 10.42's (UCP) is Letter | Number | '_'. \w is rewritten to the
 * Oniguruma class (inside a bracket class too), \W outside one to its complement; other text is
 * copied. NULL when out of memory. */
char *tfb__tt_regex_onig(const char *pat, size_t n, size_t *out_n) {
    static const char word[] = "\\p{L}\\p{M}\\p{N}\\p{Pc}";
    tt_buf b = {0};
    bool ok = tfb__tt_buf_add(&b, "", 0), in_class = false;
    for (size_t i = 0; ok && i < n; i++) {
        if (pat[i] == '\\' && i + 1 < n) {
            char e = pat[i + 1];
            if (e == 'w')
                ok = (in_class || tfb__tt_buf_add(&b, "[", 1)) &&
                     tfb__tt_buf_add(&b, word, sizeof word - 1) && (in_class || tfb__tt_buf_add(&b, "]", 1));
            else if (e == 'W' && !in_class)
                ok = tfb__tt_buf_add(&b, "[^", 2) && tfb__tt_buf_add(&b, word, sizeof word - 1) &&
                     tfb__tt_buf_add(&b, "]", 1);
            else
                ok = tfb__tt_buf_add(&b, pat + i, 2);
            i++;
            continue;
        }
        if (!in_class && pat[i] == '[') { /* a leading ']' or '^]' is a literal inside the class */
            in_class = true;
            ok = tfb__tt_buf_add(&b, pat + i, 1);
            if (ok && i + 1 < n && pat[i + 1] == '^')
                ok = tfb__tt_buf_add(&b, pat + ++i, 1);
            if (ok && i + 1 < n && pat[i + 1] == ']')
                ok = tfb__tt_buf_add(&b, pat + ++i, 1);
            continue;
        }
        if (in_class && pat[i] == ']')
            in_class = false;
        ok = tfb__tt_buf_add(&b, pat + i, 1);
    }
    if (!ok) {
        tfb__tt_buf_free(&b);
        return NULL;
    }
    *out_n = b.n;
    return b.p;
}

static pcre2_code *compile(const char *pat0, size_t n0, char *err, size_t errn) {
    int code;
    PCRE2_SIZE off;
    size_t n;
    char *pat = tfb__tt_regex_onig(pat0, n0, &n);
    if (!pat) {
        if (err)
            snprintf(err, errn, "out of memory");
        return NULL;
    }
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, n, PCRE2_UTF | PCRE2_UCP, &code, &off, NULL);
    free(pat);
    if (!re && err) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        snprintf(err, errn, "%s at offset %zu", (const char *)msg, (size_t)off);
    }
    return re;
}

tt_pretok *tfb__tt_pretok_bytelevel(bool add_prefix_space, bool use_regex) {
    tt_pretok *p = make(P_BYTELEVEL);
    if (!p)
        return NULL;
    p->add_prefix_space = add_prefix_space;
    p->use_regex = use_regex;
    if (use_regex && !(p->re = compile(gpt2_re, sizeof gpt2_re - 1, NULL, 0))) {
        free(p);
        return NULL;
    }
    return p;
}

tt_pretok *tfb__tt_pretok_metaspace(uint32_t repl, int prepend, bool split) {
    tt_pretok *p = make(P_METASPACE);
    if (p) {
        p->repl = repl;
        p->prepend = prepend;
        p->split = split;
    }
    return p;
}

tt_pretok *tfb__tt_pretok_bert(void) {
    return make(P_BERT);
}

tt_pretok *tfb__tt_pretok_whitespace(bool split_only) {
    tt_pretok *p = make(split_only ? P_WSSPLIT : P_WHITESPACE);
    if (p && !split_only && !(p->re = compile("\\w+|[^\\w\\s]+", 12, NULL, 0))) {
        free(p);
        return NULL;
    }
    return p;
}

tt_pretok *tfb__tt_pretok_punct(int behavior) {
    tt_pretok *p = make(P_PUNCT);
    if (p)
        p->behavior = behavior;
    return p;
}

tt_pretok *tfb__tt_pretok_digits(bool individual) {
    tt_pretok *p = make(P_DIGITS);
    if (p)
        p->individual = individual;
    return p;
}

tt_pretok *tfb__tt_pretok_split(const char *pat, size_t pn, bool regex, int behavior, bool invert, char *err,
                                size_t errn) {
    tt_pretok *p = make(P_SPLIT);
    if (!p)
        return NULL;
    p->behavior = behavior;
    p->invert = invert;
    if (regex) {
        p->re = compile(pat, pn, err, errn);
    } else if (pn > 0 && (p->lit = malloc(pn))) {
        memcpy(p->lit, pat, pn);
        p->litn = pn;
    }
    if (!p->re && !p->lit) {
        if (err && !regex)
            snprintf(err, errn, "empty pattern");
        free(p);
        return NULL;
    }
    return p;
}

tt_pretok *tfb__tt_pretok_seq(tt_pretok **parts, int n) {
    tt_pretok *p = make(P_SEQ);
    if (!p || !(p->parts = malloc((size_t)(n ? n : 1) * sizeof *parts))) {
        free(p);
        return NULL;
    }
    memcpy(p->parts, parts, (size_t)n * sizeof *parts);
    p->n_parts = n;
    return p;
}

/* ---- GPT-2's bytes <-> code points: printable bytes map to themselves, the others to 256 + k. */
uint32_t tfb__tt_byte_to_cp(unsigned char b) {
    if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE))
        return b;
    int k = 0;
    for (int c = 0; c < b; c++)
        if (!((c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE)))
            k++;
    return 256u + (uint32_t)k;
}

int tfb__tt_cp_to_byte(uint32_t cp) {
    if (cp < 256)
        return tfb__tt_byte_to_cp((unsigned char)cp) == cp ? (int)cp : -1;
    for (int b = 0; b < 256; b++)
        if (tfb__tt_byte_to_cp((unsigned char)b) == cp)
            return b;
    return -1;
}

/* ---- splitting by matches: (start, end, is_match) spans, then combined by behavior */
typedef struct span {
    size_t a, e;
    bool match;
} span;
typedef struct spans {
    span *v;
    size_t n, cap;
} spans;

static bool span_push(spans *s, size_t a, size_t e, bool match) {
    if (a == e)
        return true;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        span *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return false;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (span){a, e, match};
    return true;
}

/* Matches of re (or of the literal) in s as spans covering all of s. */
static bool find_spans(const tt_pretok *p, pcre2_code *re, const char *s, size_t len, spans *out) {
    size_t i = 0, last = 0;
    if (!re) {
        while (i + p->litn <= len) {
            if (memcmp(s + i, p->lit, p->litn) == 0) {
                if (!span_push(out, last, i, false) || !span_push(out, i, i + p->litn, true))
                    return false;
                i += p->litn;
                last = i;
            } else {
                i++;
            }
        }
        return span_push(out, last, len, false);
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md)
        return false;
    bool ok = true;
    while (ok && i < len) {
        int rc = pcre2_match(re, (PCRE2_SPTR)s, len, i, 0, md, NULL);
        if (rc < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (ov[1] == ov[0]) { /* empty match: step over one character */
            uint32_t c;
            i = ov[0] + (ov[0] < len ? tfb__tt_utf8_next(s + ov[0], len - ov[0], &c) : 1);
            continue;
        }
        ok = span_push(out, last, ov[0], false) && span_push(out, ov[0], ov[1], true);
        i = last = ov[1];
    }
    ok = ok && span_push(out, last, len, false);
    pcre2_match_data_free(md);
    return ok;
}

static bool combine(const spans *sp, int behavior, bool invert, const char *s, tt_list *out) {
    size_t pend_a = 0, pend_e = 0; /* a pending piece (merged with next) */
    bool pend = false;
    for (size_t i = 0; i < sp->n; i++) {
        span x = sp->v[i];
        bool m = x.match != invert;
        switch (behavior) {
        case B_REMOVED:
            if (!m && !tfb__tt_list_push(out, s + x.a, x.e - x.a))
                return false;
            break;
        case B_ISOLATED:
            if (!tfb__tt_list_push(out, s + x.a, x.e - x.a))
                return false;
            break;
        case B_PREV: /* a match joins the piece before it, when that one is not a match */
            if (m && i > 0 && sp->v[i - 1].match == invert) {
                if (!tfb__tt_buf_add(&out->v[out->n - 1], s + x.a, x.e - x.a))
                    return false;
            } else if (!tfb__tt_list_push(out, s + x.a, x.e - x.a)) {
                return false;
            }
            break;
        case B_NEXT: /* a match starts a piece that the following non-match joins */
            if (m) {
                if (pend && !tfb__tt_list_push(out, s + pend_a, pend_e - pend_a))
                    return false;
                pend = true;
                pend_a = x.a;
                pend_e = x.e;
            } else if (pend) {
                if (!tfb__tt_list_push(out, s + pend_a, x.e - pend_a))
                    return false;
                pend = false;
            } else if (!tfb__tt_list_push(out, s + x.a, x.e - x.a)) {
                return false;
            }
            break;
        case B_CONTIGUOUS: /* a span joins the one before it when both match or both do not */
            if (i > 0 && m == (sp->v[i - 1].match != invert)) {
                if (!tfb__tt_buf_add(&out->v[out->n - 1], s + x.a, x.e - x.a))
                    return false;
            } else if (!tfb__tt_list_push(out, s + x.a, x.e - x.a)) {
                return false;
            }
            break;
        }
    }
    return !pend || tfb__tt_list_push(out, s + pend_a, pend_e - pend_a);
}

/* Character-class splits (BERT's punctuation, digits, whitespace) as spans. */
static bool is_punct(uint32_t c) {
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126))
        return true;
    int cat = utf8proc_category((utf8proc_int32_t)c);
    return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

static bool is_ws(uint32_t c) {
    int cat = utf8proc_category((utf8proc_int32_t)c);
    return (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == ' ' || cat == UTF8PROC_CATEGORY_ZS ||
           cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

/* Each character matching pred is its own span (contiguous when merge). */
static bool class_spans(const char *s, size_t len, bool (*pred)(uint32_t), bool merge, spans *out) {
    size_t last = 0;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t k = tfb__tt_utf8_next(s + i, len - i, &c);
        if (pred(c)) {
            if (!span_push(out, last, i, false))
                return false;
            if (merge && out->n && out->v[out->n - 1].match && out->v[out->n - 1].e == i)
                out->v[out->n - 1].e = i + k;
            else if (!span_push(out, i, i + k, true))
                return false;
            last = i + k;
        }
        i += k;
    }
    return span_push(out, last, len, false);
}

static bool is_digit(uint32_t c) {
    return utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_ND;
}

static tfb_status apply(const tt_pretok *p, const char *s, size_t len, bool first, tt_list *out) {
    spans sp = {0};
    bool ok = true;
    switch (p->kind) {
    case P_BYTELEVEL: {
        tt_buf pre = {0};
        ok = tfb__tt_buf_add(&pre, "", 0);
        if (ok && p->add_prefix_space && (len == 0 || s[0] != ' '))
            ok = tfb__tt_buf_add(&pre, " ", 1);
        ok = ok && tfb__tt_buf_add(&pre, s, len);
        tt_list words = {0};
        if (ok && p->use_regex) {
            ok = find_spans(p, p->re, pre.p, pre.n, &sp) && combine(&sp, B_ISOLATED, false, pre.p, &words);
        } else if (ok && pre.n) {
            ok = tfb__tt_list_push(&words, pre.p, pre.n);
        }
        for (size_t w = 0; ok && w < words.n; w++) {
            tt_buf b = {0};
            ok = tfb__tt_buf_add(&b, "", 0);
            for (size_t i = 0; ok && i < words.v[w].n; i++)
                ok = tfb__tt_buf_addc(&b, tfb__tt_byte_to_cp((unsigned char)words.v[w].p[i]));
            ok = ok && tfb__tt_list_push(out, b.p, b.n);
            tfb__tt_buf_free(&b);
        }
        tfb__tt_list_free(&words);
        tfb__tt_buf_free(&pre);
        break;
    }
    case P_METASPACE: {
        tt_buf b = {0};
        ok = tfb__tt_buf_add(&b, "", 0);
        uint32_t c0 = 0;
        if (len)
            tfb__tt_utf8_next(s, len, &c0);
        if (ok && (p->prepend == 1 || (p->prepend == 2 && first)) && c0 != p->repl && c0 != ' ')
            ok = tfb__tt_buf_addc(&b, p->repl);
        for (size_t i = 0; ok && i < len;) {
            uint32_t c;
            size_t k = tfb__tt_utf8_next(s + i, len - i, &c);
            ok = c == ' ' ? tfb__tt_buf_addc(&b, p->repl) : tfb__tt_buf_add(&b, s + i, k);
            i += k;
        }
        if (ok && p->split) { /* each replacement character starts a word */
            size_t last = 0, rl = tfb__tt_utf8_len(p->repl);
            char r[4];
            tt_buf rb = {.p = r, .cap = 0};
            (void)rb;
            tt_buf tmp = {0};
            ok = tfb__tt_buf_addc(&tmp, p->repl);
            if (ok)
                memcpy(r, tmp.p, rl);
            tfb__tt_buf_free(&tmp);
            for (size_t i = 0; ok && i + rl <= b.n; i++) {
                if (i > last && memcmp(b.p + i, r, rl) == 0) {
                    ok = tfb__tt_list_push(out, b.p + last, i - last);
                    last = i;
                }
            }
            if (ok && b.n > last)
                ok = tfb__tt_list_push(out, b.p + last, b.n - last);
        } else if (ok && b.n) {
            ok = tfb__tt_list_push(out, b.p, b.n);
        }
        tfb__tt_buf_free(&b);
        break;
    }
    case P_BERT: { /* whitespace removed, then each punctuation character isolated */
        tt_list words = {0};
        ok = class_spans(s, len, is_ws, true, &sp) && combine(&sp, B_REMOVED, false, s, &words);
        for (size_t w = 0; ok && w < words.n; w++) {
            spans ps = {0};
            ok = class_spans(words.v[w].p, words.v[w].n, is_punct, false, &ps) &&
                 combine(&ps, B_ISOLATED, false, words.v[w].p, out);
            free(ps.v);
        }
        tfb__tt_list_free(&words);
        break;
    }
    case P_WSSPLIT:
        ok = class_spans(s, len, is_ws, true, &sp) && combine(&sp, B_REMOVED, false, s, out);
        break;
    case P_WHITESPACE:
        ok = find_spans(p, p->re, s, len, &sp) && combine(&sp, B_REMOVED, true, s, out);
        break;
    case P_PUNCT:
        ok = class_spans(s, len, is_punct, false, &sp) && combine(&sp, p->behavior, false, s, out);
        break;
    case P_DIGITS:
        ok = class_spans(s, len, is_digit, !p->individual, &sp) && combine(&sp, B_ISOLATED, false, s, out);
        break;
    case P_SPLIT:
        ok = find_spans(p, p->re, s, len, &sp) && combine(&sp, p->behavior, p->invert, s, out);
        break;
    case P_SEQ: {
        tt_list cur = {0};
        ok = tfb__tt_list_push(&cur, s, len);
        for (int i = 0; ok && i < p->n_parts; i++) {
            tt_list next = {0};
            for (size_t w = 0; ok && w < cur.n; w++)
                ok = apply(p->parts[i], cur.v[w].p, cur.v[w].n, first && w == 0, &next) == TFB_STATUS_OK;
            tfb__tt_list_free(&cur);
            cur = next;
        }
        for (size_t w = 0; ok && w < cur.n; w++)
            ok = tfb__tt_list_push(out, cur.v[w].p, cur.v[w].n);
        tfb__tt_list_free(&cur);
        break;
    }
    }
    free(sp.v);
    return ok ? TFB_STATUS_OK : tfb_error_set(TFB_STATUS_NOMEM, "pre-tokenizer: out of memory");
}

tfb_status tfb__tt_pretok_apply(const tt_pretok *p, const char *s, size_t len, bool first, tt_list *out) {
    return apply(p, s, len, first, out);
}
