/* Normalizers of tokenizer.json: Unicode forms and categories through utf8proc, Replace with PCRE2,
 * and Precompiled (SentencePiece's charsmap: a darts-clone double array over UTF-8 keys plus the
 * replacement strings, read as the Rust spm_precompiled crate reads it). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "text_impl.h"

enum nkind {
    N_NFC,
    N_NFD,
    N_NFKC,
    N_NFKD,
    N_LOWER,
    N_STRIP_ACCENTS,
    N_BERT,
    N_REPLACE,
    N_PREPEND,
    N_STRIP,
    N_PRECOMPILED,
    N_SEQ
};

struct tt_norm {
    enum nkind kind;
    bool clean, chinese, lower, left, right;
    int strip_accents;
    char *s, *with; /* Replace: pattern (string) and content; Prepend: s */
    size_t sn, wn;
    pcre2_code *re;
    const uint32_t *trie; /* Precompiled: [trie_n] units */
    size_t trie_n;
    const char *normalized; /* [norm_n] NUL-separated replacement strings */
    size_t norm_n;
    unsigned char *blob;
    tt_norm **parts;
    int n_parts;
};

static tt_norm *make(enum nkind k) {
    tt_norm *n = calloc(1, sizeof *n);
    if (n)
        n->kind = k;
    return n;
}

void tfb__tt_norm_free(tt_norm *n) {
    if (!n)
        return;
    for (int i = 0; i < n->n_parts; i++)
        tfb__tt_norm_free(n->parts[i]);
    free(n->parts);
    free(n->s);
    free(n->with);
    free(n->blob);
    pcre2_code_free(n->re);
    free(n);
}

tt_norm *tfb__tt_norm_simple(const char *type) {
    static const struct {
        const char *name;
        enum nkind k;
    } t[] = {{"NFC", N_NFC},   {"NFD", N_NFD},         {"NFKC", N_NFKC},
             {"NFKD", N_NFKD}, {"Lowercase", N_LOWER}, {"StripAccents", N_STRIP_ACCENTS}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(type, t[i].name) == 0)
            return make(t[i].k);
    return NULL;
}

tt_norm *tfb__tt_norm_bert(bool clean, bool chinese, int strip_accents, bool lower) {
    tt_norm *n = make(N_BERT);
    if (n) {
        n->clean = clean;
        n->chinese = chinese;
        n->strip_accents = strip_accents;
        n->lower = lower;
    }
    return n;
}

static char *dup(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

tt_norm *tfb__tt_norm_replace(const char *pat, size_t pn, bool regex, const char *with, size_t wn,
                              const char *where) {
    tt_norm *n = make(N_REPLACE);
    if (!n)
        return NULL;
    n->s = dup(pat, pn);
    n->sn = pn;
    n->with = dup(with, wn);
    n->wn = wn;
    if (regex) {
        int code;
        PCRE2_SIZE off;
        size_t on;
        char *onig = tfb__tt_regex_onig(pat, pn, &on); /* \\w as Oniguruma means it */
        if (onig)
            n->re = pcre2_compile((PCRE2_SPTR)onig, on, PCRE2_UTF | PCRE2_UCP, &code, &off, NULL);
        free(onig);
    }
    if (!n->s || !n->with || (regex && !n->re) || (!regex && pn == 0)) {
        tfb__tt_norm_free(n);
        return NULL;
    }
    return n;
}

tt_norm *tfb__tt_norm_prepend(const char *s, size_t sn) {
    tt_norm *n = make(N_PREPEND);
    if (n && !(n->s = dup(s, sn))) {
        free(n);
        return NULL;
    }
    if (n)
        n->sn = sn;
    return n;
}

tt_norm *tfb__tt_norm_strip(bool left, bool right) {
    tt_norm *n = make(N_STRIP);
    if (n) {
        n->left = left;
        n->right = right;
    }
    return n;
}

tt_norm *tfb__tt_norm_seq(tt_norm **parts, int np) {
    tt_norm *n = make(N_SEQ);
    if (!n)
        return NULL;
    n->parts = malloc((size_t)(np ? np : 1) * sizeof *n->parts);
    if (!n->parts) {
        free(n);
        return NULL;
    }
    memcpy(n->parts, parts, (size_t)np * sizeof *parts);
    n->n_parts = np;
    return n;
}

/* The charsmap: u32 trie size in bytes, the trie units (darts-clone, little-endian u32), then the
 * replacement strings. */
static uint32_t le32(const unsigned char *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* The trie's size in bytes, 0 when the header does not describe one inside the map. */
static uint32_t charsmap_trie_bytes(const unsigned char *map, size_t len) {
    if (len < 4)
        return 0;
    uint32_t tsize = le32(map);
    return tsize % 4 || tsize > len - 4 ? 0 : tsize;
}

/* darts-clone unit fields: the XOR offset to a node's children, whether a key ends here (its value
 * then sits at the children's base), the label a child must carry, a value. */
static size_t unit_offset(uint32_t u) {
    return (size_t)((u >> 10) << ((u & (1u << 9)) >> 6));
}
static bool unit_has_leaf(uint32_t u) {
    return (u >> 8) & 1;
}
static uint32_t unit_label(uint32_t u) {
    return u & ((1u << 31) | 0xFFu);
}
static uint32_t unit_value(uint32_t u) {
    return u & 0x7FFFFFFFu;
}

int tfb__tt_charsmap_check(const unsigned char *map, size_t len) {
    uint32_t tsize = charsmap_trie_bytes(map, len);
    if (tsize == 0)
        return 0;
    size_t nu = tsize / 4, nn = len - 4 - tsize;
    const unsigned char *units = map + 4, *norm = units + tsize;
    if (nn == 0 || norm[nn - 1] != 0)
        return 0;
    unsigned char *seen = calloc(nu, 1);
    size_t *stack = malloc(nu * sizeof *stack), sp = 0;
    int ok = seen && stack ? 1 : -1;
    if (ok == 1) {
        stack[sp++] = 0;
        seen[0] = 1;
    }
    while (ok == 1 && sp > 0) { /* every node reachable from the root, each once */
        size_t pos = stack[--sp];
        uint32_t u = le32(units + 4 * pos);
        size_t base = pos ^ unit_offset(u);
        if ((base | 0xFF) >= nu || (pos != 0 && unit_has_leaf(u) && unit_value(le32(units + 4 * base)) >= nn)) {
            ok = 0;
            break;
        }
        for (size_t c = 1; c < 256; c++) {
            size_t q = base ^ c;
            if (!seen[q] && unit_label(le32(units + 4 * q)) == c) {
                seen[q] = 1;
                stack[sp++] = q;
            }
        }
    }
    free(seen);
    free(stack);
    return ok;
}

/* ---- SentencePiece ModelProto: its charsmaps checked before libsentencepiece reads them ---- */

/* A protobuf varint at *p (below end) into v; 0 when it runs past end or past 10 bytes. */
static int pb_varint(const unsigned char **p, const unsigned char *end, uint64_t *v) {
    *v = 0;
    for (int sh = 0; sh < 70 && *p < end; sh += 7) {
        unsigned char b = *(*p)++;
        *v |= (uint64_t)(b & 0x7F) << sh;
        if (!(b & 0x80))
            return 1;
    }
    return 0;
}

/* One field of a message: its number, wire type and (length-delimited only) bytes. */
typedef struct pb_field {
    uint64_t num;
    int wt;
    const unsigned char *p;
    size_t n;
} pb_field;

/* The field at *p of a message level ending at end into f, *p moved past it. Returns 0 at a field
 * this walk cannot skip exactly: a group (wire types 3 and 4, which no SentencePiece model has), an
 * unknown wire type, a length past end. */
static int pb_next(const unsigned char **p, const unsigned char *end, pb_field *f) {
    uint64_t key, v;
    if (!pb_varint(p, end, &key))
        return 0;
    f->num = key >> 3, f->wt = (int)(key & 7), f->p = NULL, f->n = 0;
    switch (f->wt) {
    case 0: return pb_varint(p, end, &v);
    case 1:
    case 5: {
        size_t w = f->wt == 1 ? 8 : 4;
        if ((size_t)(end - *p) < w)
            return 0;
        *p += w;
        return 1;
    }
    case 2:
        if (!pb_varint(p, end, &v) || v > (uint64_t)(end - *p))
            return 0;
        f->p = *p, f->n = (size_t)v;
        *p += v;
        return 1;
    default: return 0;
    }
}

int tfb__tt_spm_proto_check(const unsigned char *pb, size_t n, const char **where) {
    const unsigned char *p = pb, *end = pb + n;
    while (p < end) {
        pb_field f, g;
        *where = "the model proto";
        if (!pb_next(&p, end, &f))
            return 0;
        if ((f.num != 3 && f.num != 5) || f.wt != 2) // normalizer_spec = 3, denormalizer_spec = 5
            continue;
        *where = f.num == 3 ? "normalizer_spec" : "denormalizer_spec";
        const unsigned char *q = f.p, *qend = f.p + f.n;
        while (q < qend) {
            if (!pb_next(&q, qend, &g))
                return 0;
            if (g.num == 2 && g.wt == 2 && g.n > 0) { // precompiled_charsmap = 2 (empty: no map)
                int r = tfb__tt_charsmap_check(g.p, g.n);
                if (r != 1)
                    return r;
            }
        }
    }
    return 1;
}

tt_norm *tfb__tt_norm_precompiled(const unsigned char *map, size_t len) {
    uint32_t tsize = charsmap_trie_bytes(map, len);
    if (tsize == 0)
        return NULL;
    tt_norm *n = make(N_PRECOMPILED);
    if (!n || !(n->blob = malloc(len + 1))) {
        free(n);
        return NULL;
    }
    /* Units are little-endian; copy them into aligned storage. */
    uint32_t *units = malloc(tsize);
    if (!units) {
        tfb__tt_norm_free(n);
        return NULL;
    }
    for (uint32_t i = 0; i < tsize / 4; i++)
        units[i] = le32(map + 4 + 4 * i);
    memcpy(n->blob, map, len);
    n->blob[len] = 0;
    free(n->blob);
    n->blob = (unsigned char *)units;
    n->trie = units;
    n->trie_n = tsize / 4;
    char *norm = malloc(len - 4 - tsize + 1);
    if (!norm) {
        tfb__tt_norm_free(n);
        return NULL;
    }
    memcpy(norm, map + 4 + tsize, len - 4 - tsize);
    norm[len - 4 - tsize] = 0;
    n->s = norm; /* freed with the normalizer */
    n->normalized = norm;
    n->norm_n = len - 4 - tsize;
    return n;
}

/* darts-clone common prefix search: the value of the shortest key that is a prefix of s, -1 none. */
static int64_t trie_first(const tt_norm *n, const unsigned char *s, size_t len) {
    const uint32_t *a = n->trie;
    size_t pos = 0;
    uint32_t unit = a[0];
    pos ^= unit_offset(unit);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == 0)
            return -1;
        pos ^= s[i];
        if (pos >= n->trie_n)
            return -1;
        unit = a[pos];
        if (unit_label(unit) != s[i])
            return -1;
        pos ^= unit_offset(unit);
        if (pos >= n->trie_n)
            return -1;
        if (unit_has_leaf(unit))
            return (int64_t)unit_value(a[pos]);
    }
    return -1;
}

static bool precompiled_transform(const tt_norm *n, const char *s, size_t len, tt_buf *out, bool *hit) {
    int64_t v = trie_first(n, (const unsigned char *)s, len);
    *hit = v >= 0 && (size_t)v < n->norm_n;
    if (!*hit)
        return true;
    size_t e = (size_t)v;
    while (e < n->norm_n && n->normalized[e])
        e++;
    return tfb__tt_buf_add(out, n->normalized + v, e - (size_t)v);
}

/* As tokenizers does: each extended grapheme cluster shorter than 6 bytes is looked up whole; when
 * that misses (or it is longer), each of its characters. */
static bool precompiled(const tt_norm *n, const char *s, size_t len, tt_buf *out) {
    size_t i = 0;
    while (i < len) {
        uint32_t c;
        size_t e = i + tfb__tt_utf8_next(s + i, len - i, &c);
        utf8proc_int32_t state = 0;
        while (e < len) {
            uint32_t d;
            size_t k = tfb__tt_utf8_next(s + e, len - e, &d);
            if (utf8proc_grapheme_break_stateful((utf8proc_int32_t)c, (utf8proc_int32_t)d, &state))
                break;
            c = d;
            e += k;
        }
        bool hit = false;
        if (e - i < 6 && !precompiled_transform(n, s + i, e - i, out, &hit))
            return false;
        if (!hit) {
            for (size_t j = i; j < e;) {
                uint32_t d;
                size_t k = tfb__tt_utf8_next(s + j, e - j, &d);
                if (!precompiled_transform(n, s + j, k, out, &hit) ||
                    (!hit && !tfb__tt_buf_add(out, s + j, k)))
                    return false;
                j += k;
            }
        }
        i = e;
    }
    return true;
}

static bool unicode_form(enum nkind k, const char *s, size_t len, tt_buf *out) {
    utf8proc_option_t opt = UTF8PROC_STABLE;
    opt |= k == N_NFC    ? UTF8PROC_COMPOSE
           : k == N_NFD  ? UTF8PROC_DECOMPOSE
           : k == N_NFKC ? UTF8PROC_COMPOSE | UTF8PROC_COMPAT
                         : UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
    utf8proc_uint8_t *r = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &r, opt);
    if (n < 0)
        return false;
    bool ok = tfb__tt_buf_add(out, r, (size_t)n);
    free(r);
    return ok;
}

static bool is_bert_whitespace(uint32_t c) {
    if (c == '\t' || c == '\n' || c == '\r' || c == ' ')
        return true;
    int cat = utf8proc_category((utf8proc_int32_t)c);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP ||
           (c >= 0x09 && c <= 0x0D) || c == 0x85;
}

static bool is_bert_control(uint32_t c) {
    if (c == '\t' || c == '\n' || c == '\r')
        return false;
    int cat = utf8proc_category((utf8proc_int32_t)c);
    return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_CN ||
           cat == UTF8PROC_CATEGORY_CO;
}

static bool is_chinese(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) ||
           (c >= 0x2B920 && c <= 0x2CEAF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* Per-character rewrites: lowercase (full mapping where utf8proc has one), drop Mn, BERT's cleaning. */
static bool map_chars(const tt_norm *n, const char *s, size_t len, tt_buf *out) {
    bool lower = n->kind == N_LOWER || (n->kind == N_BERT && n->lower);
    bool strip = n->kind == N_STRIP_ACCENTS;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t k = tfb__tt_utf8_next(s + i, len - i, &c);
        i += k;
        if (n->kind == N_BERT) {
            if (n->clean && (c == 0 || c == 0xFFFD || is_bert_control(c)))
                continue;
            if (n->clean && is_bert_whitespace(c))
                c = ' ';
            if (n->chinese && is_chinese(c)) {
                if (!tfb__tt_buf_add(out, " ", 1) || !tfb__tt_buf_addc(out, c) ||
                    !tfb__tt_buf_add(out, " ", 1))
                    return false;
                continue;
            }
        }
        if (strip && utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_MN)
            continue;
        if (lower) {
            /* Rust's char::to_lowercase: the full mapping; utf8proc's is the simple one except for
             * U+0130 (the only code point whose full lowercase is two characters). */
            if (c == 0x130) {
                if (!tfb__tt_buf_add(out, "i\xcc\x87", 3))
                    return false;
                continue;
            }
            c = (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
        }
        if (!tfb__tt_buf_addc(out, c))
            return false;
    }
    return true;
}

static bool replace(const tt_norm *n, const char *s, size_t len, tt_buf *out) {
    if (!n->re) {
        size_t i = 0;
        while (i < len) {
            if (len - i >= n->sn && memcmp(s + i, n->s, n->sn) == 0) {
                if (!tfb__tt_buf_add(out, n->with, n->wn))
                    return false;
                i += n->sn;
            } else if (!tfb__tt_buf_add(out, s + i++, 1)) {
                return false;
            }
        }
        return true;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(n->re, NULL);
    if (!md)
        return false;
    size_t i = 0;
    bool ok = true;
    while (ok && i <= len) {
        int rc = pcre2_match(n->re, (PCRE2_SPTR)s, len, i, 0, md, NULL);
        if (rc < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        ok = tfb__tt_buf_add(out, s + i, ov[0] - i) && tfb__tt_buf_add(out, n->with, n->wn);
        if (ov[1] == ov[0]) { /* empty match: keep one character and move on */
            if (ov[0] >= len)
                break;
            uint32_t c;
            size_t k = tfb__tt_utf8_next(s + ov[0], len - ov[0], &c);
            ok = ok && tfb__tt_buf_add(out, s + ov[0], k);
            i = ov[0] + k;
        } else {
            i = ov[1];
        }
    }
    if (ok && i < len)
        ok = tfb__tt_buf_add(out, s + i, len - i);
    pcre2_match_data_free(md);
    return ok;
}

static bool apply(const tt_norm *n, const char *s, size_t len, tt_buf *out) {
    switch (n->kind) {
    case N_NFC:
    case N_NFD:
    case N_NFKC:
    case N_NFKD:
        return unicode_form(n->kind, s, len, out);
    case N_LOWER:
        return map_chars(n, s, len, out);
    case N_STRIP_ACCENTS:
        return map_chars(n, s, len, out);
    case N_BERT: {
        tt_buf a = {0}, b = {0};
        bool strip = n->strip_accents < 0 ? n->lower : n->strip_accents;
        tt_norm clean = *n;
        clean.lower = false;
        bool ok = map_chars(&clean, s, len, &a) && tfb__tt_buf_add(&a, "", 0);
        if (ok && strip) { /* NFD, then drop the nonspacing marks */
            tt_norm sa = {.kind = N_STRIP_ACCENTS};
            ok = unicode_form(N_NFD, a.p, a.n, &b) && tfb__tt_buf_add(&b, "", 0);
            tfb__tt_buf_free(&a);
            ok = ok && map_chars(&sa, b.p, b.n, &a) && tfb__tt_buf_add(&a, "", 0);
            tfb__tt_buf_free(&b);
        }
        if (ok && n->lower) {
            tt_norm lo = {.kind = N_LOWER};
            ok = map_chars(&lo, a.p, a.n, out);
        } else if (ok) {
            ok = tfb__tt_buf_add(out, a.p, a.n);
        }
        tfb__tt_buf_free(&a);
        return ok;
    }
    case N_REPLACE:
        return replace(n, s, len, out);
    case N_PREPEND: /* tokenizers prepends to non-empty strings only */
        return (len == 0 || tfb__tt_buf_add(out, n->s, n->sn)) && tfb__tt_buf_add(out, s, len);
    case N_STRIP: {
        size_t a = 0, e = len;
        while (n->left && a < e) {
            uint32_t c;
            size_t k = tfb__tt_utf8_next(s + a, e - a, &c);
            if (!is_bert_whitespace(c))
                break;
            a += k;
        }
        while (n->right && e > a) {
            size_t k = 1;
            while (k < e - a && ((unsigned char)s[e - k] & 0xC0) == 0x80)
                k++;
            uint32_t c;
            tfb__tt_utf8_next(s + e - k, k, &c);
            if (!is_bert_whitespace(c))
                break;
            e -= k;
        }
        return tfb__tt_buf_add(out, s + a, e - a);
    }
    case N_PRECOMPILED:
        return precompiled(n, s, len, out);
    case N_SEQ: {
        tt_buf cur = {0};
        bool ok = tfb__tt_buf_add(&cur, s, len);
        for (int i = 0; ok && i < n->n_parts; i++) {
            tt_buf next = {0};
            ok = tfb__tt_buf_add(&next, "", 0) && apply(n->parts[i], cur.p, cur.n, &next);
            tfb__tt_buf_free(&cur);
            cur = next;
        }
        ok = ok && tfb__tt_buf_add(out, cur.p, cur.n);
        tfb__tt_buf_free(&cur);
        return ok;
    }
    }
    return false;
}

tfb_status tfb__tt_norm_apply(const tt_norm *n, const char *s, size_t len, tt_buf *out) {
    if (!tfb__tt_buf_add(out, "", 0) || !apply(n, s, len, out))
        return tfb_error_set(TFB_STATUS_NOMEM, "normalizer: out of memory");
    return TFB_STATUS_OK;
}
