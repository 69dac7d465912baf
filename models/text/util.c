/* Strings with lengths, UTF-8, the vocabulary and merge maps of models/text/. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_impl.h"

bool tfb__tt_buf_add(tt_buf *b, const void *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return false;
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return true;
}

size_t tfb__tt_utf8_len(uint32_t cp) {
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

bool tfb__tt_buf_addc(tt_buf *b, uint32_t cp) {
    unsigned char u[4];
    size_t n = tfb__tt_utf8_len(cp);
    if (n == 1) {
        u[0] = (unsigned char)cp;
    } else if (n == 2) {
        u[0] = (unsigned char)(0xC0 | (cp >> 6));
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (n == 3) {
        u[0] = (unsigned char)(0xE0 | (cp >> 12));
        u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        u[0] = (unsigned char)(0xF0 | (cp >> 18));
        u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (unsigned char)(0x80 | (cp & 0x3F));
    }
    return tfb__tt_buf_add(b, u, n);
}

void tfb__tt_buf_free(tt_buf *b) {
    free(b->p);
    *b = (tt_buf){0};
}

bool tfb__tt_list_push(tt_list *l, const char *s, size_t n) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        tt_buf *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return false;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = (tt_buf){0};
    if (!tfb__tt_buf_add(&l->v[l->n], s, n))
        return false;
    l->n++;
    return true;
}

void tfb__tt_list_free(tt_list *l) {
    for (size_t i = 0; i < l->n; i++)
        tfb__tt_buf_free(&l->v[i]);
    free(l->v);
    *l = (tt_list){0};
}

size_t tfb__tt_utf8_next(const char *s, size_t n, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    size_t len = u[0] < 0x80 ? 1 : u[0] < 0xE0 ? 2 : u[0] < 0xF0 ? 3 : 4;
    if (len > n) /* cannot happen on validated text; be safe anyway */
        len = 1;
    uint32_t c = len == 1 ? u[0] : len == 2 ? u[0] & 0x1Fu : len == 3 ? u[0] & 0x0Fu : u[0] & 0x07u;
    for (size_t i = 1; i < len; i++)
        c = (c << 6) | (u[i] & 0x3Fu);
    *cp = c;
    return len;
}

/* The WHATWG / Python rule: a lead byte and the continuation bytes that may follow it so far form
 * one maximal subpart; when the next byte cannot continue it, the subpart becomes one U+FFFD and the
 * byte is looked at again as a lead. */
tfb_status tfb_text_utf8_replace(const char *in, size_t n, char **out, size_t *out_n) {
    const unsigned char *u = (const unsigned char *)in;
    tt_buf b = {0};
    bool ok = tfb__tt_buf_add(&b, "", 0);
    size_t i = 0;
    while (ok && i < n) {
        unsigned char c = u[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            ok = tfb__tt_buf_add(&b, &u[i++], 1);
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            ok = tfb__tt_buf_addc(&b, 0xFFFD);
            i++;
            continue;
        }
        size_t j = 1;
        for (; j <= need && i + j < n; j++) {
            unsigned char d = u[i + j];
            if (d < (j == 1 ? lo : 0x80) || d > (j == 1 ? hi : 0xBF))
                break;
        }
        if (j == need + 1) {
            ok = tfb__tt_buf_add(&b, &u[i], need + 1);
        } else {
            ok = tfb__tt_buf_addc(&b, 0xFFFD);
        }
        i += j;
    }
    if (!ok) {
        tfb__tt_buf_free(&b);
        return tfb_error_set(TFB_STATUS_NOMEM, "out of memory for %zu bytes of text", n);
    }
    *out = b.p;
    *out_n = b.n;
    return TFB_STATUS_OK;
}

bool tfb__tt_utf8_valid(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            return false;
        }
        if (n - i <= need)
            return false;
        for (size_t j = 1; j <= need; j++)
            if (u[i + j] < (j == 1 ? lo : 0x80) || u[i + j] > (j == 1 ? hi : 0xBF))
                return false;
        i += need + 1;
    }
    return true;
}

/* ---- vocabulary */
static uint64_t hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

tfb_status tfb__tt_vocab_init(tt_vocab *v, int32_t n) {
    *v = (tt_vocab){0};
    if (n < 0 || n > TT_MAX_VOCAB)
        return tfb_error_set(TFB_STATUS_INPUT, "vocabulary of %d entries (at most %d)", n, TT_MAX_VOCAB);
    v->n = n;
    v->cap = 16;
    while (v->cap < 2 * (size_t)n + 2)
        v->cap *= 2;
    v->tok = calloc((size_t)n + 1, sizeof *v->tok);
    v->tlen = calloc((size_t)n + 1, sizeof *v->tlen);
    v->slot = malloc(v->cap * sizeof *v->slot);
    if (!v->tok || !v->tlen || !v->slot) {
        tfb__tt_vocab_free(v);
        return tfb_error_set(TFB_STATUS_NOMEM, "out of memory for a vocabulary of %d", n);
    }
    memset(v->slot, 0xff, v->cap * sizeof *v->slot);
    return TFB_STATUS_OK;
}

tfb_status tfb__tt_vocab_set(tt_vocab *v, int32_t id, const char *s, size_t n) {
    if (id < 0 || id >= v->n)
        return tfb_error_set(TFB_STATUS_INPUT, "token id %d outside the vocabulary of %d", id, v->n);
    if (n > TT_MAX_TOKEN)
        return tfb_error_set(TFB_STATUS_INPUT, "token %d is %zu bytes long (at most %d)", id, n,
                             TT_MAX_TOKEN);
    if (v->tok[id])
        return tfb_error_set(TFB_STATUS_INPUT, "token id %d given twice", id);
    v->tok[id] = malloc(n + 1);
    if (!v->tok[id])
        return tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    memcpy(v->tok[id], s, n);
    v->tok[id][n] = 0;
    v->tlen[id] = (uint32_t)n;
    size_t i = hash(s, n) & (v->cap - 1);
    while (v->slot[i] >= 0) {
        int32_t o = v->slot[i];
        if (v->tlen[o] == n && memcmp(v->tok[o], s, n) == 0)
            return TFB_STATUS_OK; /* the first id keeps the token */
        i = (i + 1) & (v->cap - 1);
    }
    v->slot[i] = id;
    return TFB_STATUS_OK;
}

int32_t tfb__tt_vocab_find(const tt_vocab *v, const char *s, size_t n) {
    if (!v->cap)
        return -1;
    size_t i = hash(s, n) & (v->cap - 1);
    while (v->slot[i] >= 0) {
        int32_t o = v->slot[i];
        if (v->tlen[o] == n && memcmp(v->tok[o], s, n) == 0)
            return o;
        i = (i + 1) & (v->cap - 1);
    }
    return -1;
}

void tfb__tt_vocab_free(tt_vocab *v) {
    if (v->tok)
        for (int32_t i = 0; i < v->n; i++)
            free(v->tok[i]);
    free(v->tok);
    free(v->tlen);
    free(v->slot);
    *v = (tt_vocab){0};
}

/* ---- merges */
static size_t merge_slot(const tt_merges *m, const char *a, size_t an, const char *b, size_t bn) {
    uint64_t h = hash(a, an) * 31 + hash(b, bn);
    size_t i = h & (m->cap - 1);
    while (m->key[i]) {
        const char *k = m->key[i];
        if (m->klen[i] == an + bn + 1 && memcmp(k, a, an) == 0 && k[an] == '\x01' &&
            memcmp(k + an + 1, b, bn) == 0)
            return i;
        i = (i + 1) & (m->cap - 1);
    }
    return i;
}

tfb_status tfb__tt_merges_add(tt_merges *m, const char *a, size_t an, const char *b, size_t bn, int32_t rank,
                              int32_t id) {
    if (an > TT_MAX_TOKEN || bn > TT_MAX_TOKEN)
        return tfb_error_set(TFB_STATUS_INPUT, "merge %d: token too long", rank);
    if (2 * (m->n + 1) > m->cap) {
        tt_merges g = {.cap = m->cap ? 2 * m->cap : 1024};
        g.key = calloc(g.cap, sizeof *g.key);
        g.klen = calloc(g.cap, sizeof *g.klen);
        g.rank = calloc(g.cap, sizeof *g.rank);
        g.id = calloc(g.cap, sizeof *g.id);
        if (!g.key || !g.klen || !g.rank || !g.id) {
            tfb__tt_merges_free(&g);
            return tfb_error_set(TFB_STATUS_NOMEM, "out of memory for merges");
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->key[i])
                continue;
            uint32_t k = m->klen[i];
            const char *sep = memchr(m->key[i], '\x01', k);
            size_t s = merge_slot(&g, m->key[i], (size_t)(sep - m->key[i]), sep + 1,
                                  k - (size_t)(sep - m->key[i]) - 1);
            g.key[s] = m->key[i];
            g.klen[s] = k;
            g.rank[s] = m->rank[i];
            g.id[s] = m->id[i];
        }
        g.n = m->n;
        free(m->key);
        free(m->klen);
        free(m->rank);
        free(m->id);
        *m = g;
    }
    if (memchr(a, '\x01', an))
        return tfb_error_set(TFB_STATUS_INPUT, "merge %d: token holds U+0001", rank);
    size_t s = merge_slot(m, a, an, b, bn);
    if (m->key[s])
        return TFB_STATUS_OK; /* a repeated merge keeps its first rank, as tokenizers does */
    m->key[s] = malloc(an + bn + 2);
    if (!m->key[s])
        return tfb_error_set(TFB_STATUS_NOMEM, "out of memory for merges");
    memcpy(m->key[s], a, an);
    m->key[s][an] = '\x01';
    memcpy(m->key[s] + an + 1, b, bn);
    m->klen[s] = (uint32_t)(an + bn + 1);
    m->rank[s] = rank;
    m->id[s] = id;
    m->n++;
    return TFB_STATUS_OK;
}

bool tfb__tt_merges_find(const tt_merges *m, const char *a, size_t an, const char *b, size_t bn,
                         int32_t *rank, int32_t *id) {
    if (!m->cap)
        return false;
    size_t s = merge_slot(m, a, an, b, bn);
    if (!m->key[s])
        return false;
    *rank = m->rank[s];
    *id = m->id[s];
    return true;
}

void tfb__tt_merges_free(tt_merges *m) {
    for (size_t i = 0; m->key && i < m->cap; i++)
        free(m->key[i]);
    free(m->key);
    free(m->klen);
    free(m->rank);
    free(m->id);
    *m = (tt_merges){0};
}

tfb_status tfb__tt_read_file(const char *path, char **data, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return tfb_error_set(TFB_STATUS_IO, "%s: %s", path, strerror(errno));
    tt_buf b = {0};
    char chunk[65536];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.n + r > TT_MAX_FILE) {
            fclose(f);
            tfb__tt_buf_free(&b);
            return tfb_error_set(TFB_STATUS_INPUT, "%s: larger than %u MiB", path, TT_MAX_FILE >> 20);
        }
        if (!tfb__tt_buf_add(&b, chunk, r)) {
            fclose(f);
            tfb__tt_buf_free(&b);
            return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", path);
        }
    }
    bool err = ferror(f);
    fclose(f);
    if (err || !tfb__tt_buf_add(&b, "", 0)) {
        tfb__tt_buf_free(&b);
        return tfb_error_set(TFB_STATUS_IO, "%s: read error", path);
    }
    *data = b.p;
    *n = b.n;
    return TFB_STATUS_OK;
}
