/* The tokenizer.json models: one pre-tokenized word -> ids. BPE (merges by rank, byte fallback),
 * WordPiece (greedy longest match with the continuation prefix), Unigram (Viterbi over the piece
 * scores), WordLevel (lookup). Each follows tokenizers 0.19's rules, tie-breaks included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_impl.h"

static bool push(int32_t **ids, int64_t *n, int64_t *cap, int32_t id) {
    if (*n == *cap) {
        int64_t c = *cap ? 2 * *cap : 64;
        int32_t *p = realloc(*ids, (size_t)c * sizeof *p);
        if (!p)
            return false;
        *ids = p;
        *cap = c;
    }
    (*ids)[(*n)++] = id;
    return true;
}

#define NOMEM() tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory")

/* Byte fallback: the <0xXX> tokens of s, all of them or none. */
static bool byte_tokens(const tt_model *m, const char *s, size_t n, int32_t *out) {
    for (size_t i = 0; i < n; i++) {
        char t[8];
        snprintf(t, sizeof t, "<0x%02X>", (unsigned char)s[i]);
        if ((out[i] = tfb__tt_vocab_find(&m->vocab, t, 6)) < 0)
            return false;
    }
    return true;
}

/* ---- BPE merges: a min-heap of candidate pairs by (rank, position) over a linked list of symbols,
 * as tokenizers' Word::merge_all: a popped pair that no longer exists as it was is skipped. */
typedef struct mcand {
    int32_t rank, id;
    size_t pos;
} mcand;

static bool cand_less(const mcand *a, const mcand *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static bool heap_push(mcand **h, size_t *n, size_t *cap, mcand c) {
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        mcand *p = realloc(*h, nc * sizeof *p);
        if (!p)
            return false;
        *h = p;
        *cap = nc;
    }
    size_t i = (*n)++;
    while (i > 0 && cand_less(&c, &(*h)[(i - 1) / 2])) {
        (*h)[i] = (*h)[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    (*h)[i] = c;
    return true;
}

static mcand heap_pop(mcand *h, size_t *n) {
    mcand top = h[0], last = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && cand_less(&h[c + 1], &h[c]))
            c++;
        if (!cand_less(&h[c], &last))
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n)
        h[i] = last;
    return top;
}

/* The merge of symbols a and b: its rank and id, false when there is none. */
static bool pair(const tt_model *m, int32_t a, int32_t b, int32_t *rank, int32_t *id) {
    const tt_vocab *v = &m->vocab;
    return tfb__tt_merges_find(&m->merges, v->tok[a], v->tlen[a], v->tok[b], v->tlen[b], rank, id);
}

static bool merge_all(const tt_model *m, int32_t *sym, size_t *ns) {
    size_t n = *ns, hn = 0, hcap = 0;
    int64_t *prev = malloc(n * sizeof *prev), *next = malloc(n * sizeof *next);
    bool *gone = calloc(n, sizeof *gone);
    mcand *heap = NULL;
    bool ok = prev && next && gone;
    for (size_t i = 0; ok && i < n; i++) {
        prev[i] = (int64_t)i - 1;
        next[i] = i + 1 < n ? (int64_t)i + 1 : -1;
        int32_t r, id;
        if (i + 1 < n && pair(m, sym[i], sym[i + 1], &r, &id))
            ok = heap_push(&heap, &hn, &hcap, (mcand){r, id, i});
    }
    while (ok && hn > 0) {
        mcand c = heap_pop(heap, &hn);
        int32_t r, id;
        if (gone[c.pos] || next[c.pos] < 0 || !pair(m, sym[c.pos], sym[next[c.pos]], &r, &id) || id != c.id)
            continue; /* stale: one side was merged away since */
        size_t right = (size_t)next[c.pos];
        sym[c.pos] = c.id;
        gone[right] = true;
        next[c.pos] = next[right];
        if (next[right] >= 0)
            prev[next[right]] = (int64_t)c.pos;
        if (prev[c.pos] >= 0 && pair(m, sym[prev[c.pos]], sym[c.pos], &r, &id))
            ok = heap_push(&heap, &hn, &hcap, (mcand){r, id, (size_t)prev[c.pos]});
        if (ok && next[c.pos] >= 0 && pair(m, sym[c.pos], sym[next[c.pos]], &r, &id))
            ok = heap_push(&heap, &hn, &hcap, (mcand){r, id, c.pos});
    }
    size_t k = 0;
    for (size_t i = 0; ok && i < n; i++)
        if (!gone[i])
            sym[k++] = sym[i];
    if (ok)
        *ns = k;
    free(prev);
    free(next);
    free(gone);
    free(heap);
    return ok;
}

/* ---- BPE */
static tfb_status bpe(const tt_model *m, const char *w, size_t n, int32_t **ids, int64_t *nids,
                      int64_t *cap) {
    if (m->ignore_merges) {
        int32_t id = tfb__tt_vocab_find(&m->vocab, w, n);
        if (id >= 0)
            return push(ids, nids, cap, id) ? TFB_STATUS_OK : NOMEM();
    }
    size_t pl = m->cont_prefix ? strlen(m->cont_prefix) : 0, sl = m->eow_suffix ? strlen(m->eow_suffix) : 0;
    /* A character of k bytes gives at most k + pl + sl symbols (its byte tokens with the prefix and
     * suffix), plus one pending unknown at the end. */
    int32_t *sym = malloc((n * (1 + pl + sl) + 2) * sizeof *sym);
    tt_buf s = {0};
    if (!sym)
        return NOMEM();
    size_t ns = 0;
    int32_t unk = -1; /* pending unknown run (fused) */
    bool ok = true;
    for (size_t i = 0; ok && i < n;) {
        uint32_t c;
        size_t k = tfb__tt_utf8_next(w + i, n - i, &c);
        s.n = 0;
        ok = tfb__tt_buf_add(&s, "", 0);
        if (ok && i > 0 && pl)
            ok = tfb__tt_buf_add(&s, m->cont_prefix, pl);
        ok = ok && tfb__tt_buf_add(&s, w + i, k);
        if (ok && i + k == n && sl)
            ok = tfb__tt_buf_add(&s, m->eow_suffix, sl);
        i += k;
        if (!ok)
            break;
        int32_t id = tfb__tt_vocab_find(&m->vocab, s.p, s.n);
        if (id >= 0) {
            if (unk >= 0)
                sym[ns++] = unk;
            unk = -1;
            sym[ns++] = id;
            continue;
        }
        if (m->byte_fallback && s.n <= 4 + pl + sl && byte_tokens(m, s.p, s.n, sym + ns)) {
            ns += s.n;
            continue;
        }
        if (m->unk >= 0) {
            if (unk >= 0 && !m->fuse_unk)
                sym[ns++] = unk;
            unk = m->unk;
        }
    }
    if (unk >= 0)
        sym[ns++] = unk;
    /* Merge the lowest-ranked adjacent pair, leftmost first, until none applies. */
    if (ok && ns > 1)
        ok = merge_all(m, sym, &ns);
    for (size_t i = 0; ok && i < ns; i++)
        ok = push(ids, nids, cap, sym[i]);
    free(sym);
    tfb__tt_buf_free(&s);
    return ok ? TFB_STATUS_OK : NOMEM();
}

/* ---- WordPiece */
static tfb_status wordpiece(const tt_model *m, const char *w, size_t n, int32_t **ids, int64_t *nids,
                            int64_t *cap) {
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        chars += ((unsigned char)w[i] & 0xC0) != 0x80;
    int64_t mark = *nids;
    if ((int64_t)chars > m->max_chars)
        goto unk;
    size_t pl = m->cont_prefix ? strlen(m->cont_prefix) : 0;
    tt_buf s = {0};
    for (size_t a = 0; a < n;) {
        /* No entry is longer than max_piece bytes: start there (on a character boundary), so a long
         * word costs O(n * max_piece) lookups, not O(n^2). */
        size_t e = n - a > (size_t)m->max_piece ? a + (size_t)m->max_piece : n;
        while (e < n && e > a && ((unsigned char)w[e] & 0xC0) == 0x80)
            e--;
        int32_t id = -1;
        while (a < e) {
            s.n = 0;
            if ((a > 0 && pl && !tfb__tt_buf_add(&s, m->cont_prefix, pl)) ||
                !tfb__tt_buf_add(&s, w + a, e - a)) {
                tfb__tt_buf_free(&s);
                return NOMEM();
            }
            if ((id = tfb__tt_vocab_find(&m->vocab, s.p, s.n)) >= 0)
                break;
            do /* drop the last character */
                e--;
            while (e > a && ((unsigned char)w[e] & 0xC0) == 0x80);
        }
        if (id < 0) {
            tfb__tt_buf_free(&s);
            *nids = mark;
            goto unk;
        }
        if (!push(ids, nids, cap, id)) {
            tfb__tt_buf_free(&s);
            return NOMEM();
        }
        a = e;
    }
    tfb__tt_buf_free(&s);
    return TFB_STATUS_OK;
unk:
    if (m->unk < 0)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "WordPiece: a word is not in the vocabulary and there is no unk_token");
    return push(ids, nids, cap, m->unk) ? TFB_STATUS_OK : NOMEM();
}

/* ---- Unigram */
typedef struct node {
    double score;
    int64_t start; /* -1: not reached */
    int32_t id;
} node;

static tfb_status unigram(const tt_model *m, const char *w, size_t n, int32_t **ids, int64_t *nids,
                          int64_t *cap) {
    if (m->unk < 0)
        return tfb_error_set(TFB_STATUS_INPUT, "Unigram: no unk_id");
    node *best = malloc((n + 1) * sizeof *best);
    if (!best)
        return NOMEM();
    for (size_t i = 0; i <= n; i++)
        best[i] = (node){0.0, -1, -1};
    double unk_score = m->min_score - 10.0;
    for (size_t a = 0; a < n;) {
        uint32_t c;
        size_t ml = tfb__tt_utf8_next(w + a, n - a, &c);
        double here = best[a].score;
        bool single = false;
        for (size_t len = 1; len <= (size_t)m->max_piece && a + len <= n; len++) {
            int32_t id = tfb__tt_vocab_find(&m->vocab, w + a, len);
            if (id < 0)
                continue;
            double cand = m->score[id] + here;
            node *t = &best[a + len];
            if (t->start < 0 || cand > t->score)
                *t = (node){cand, (int64_t)a, id};
            if (len == ml)
                single = true;
        }
        if (!single) {
            node *t = &best[a + ml];
            double cand = unk_score + here;
            if (t->start < 0 || cand > t->score)
                *t = (node){cand, (int64_t)a, m->unk};
        }
        a += ml;
    }
    /* Back from the end; runs of unknown pieces become one token (fuse_unk). */
    int64_t cnt = 0;
    size_t *cut = malloc((n + 1) * sizeof *cut);
    int32_t *tid = malloc((n + 1) * sizeof *tid);
    bool ok = cut && tid, nopath = false;
    for (size_t e = n; ok && e > 0;) {
        node *x = &best[e];
        if (x->start < 0) { /* cannot happen: every character is a piece or an unknown */
            ok = false;
            nopath = true;
            break;
        }
        if (x->id == m->unk && cnt > 0 && tid[cnt - 1] == m->unk)
            cut[cnt - 1] = (size_t)x->start; /* extend the fused run */
        else {
            cut[cnt] = (size_t)x->start;
            tid[cnt++] = x->id;
        }
        e = (size_t)x->start;
    }
    /* cut[i] is where token i (counted from the end) starts. */
    for (int64_t i = cnt - 1; ok && i >= 0; i--) {
        if (tid[i] == m->unk && m->byte_fallback) {
            size_t e = i > 0 ? cut[i - 1] : n;
            int32_t *bt = malloc((e - cut[i]) * sizeof *bt);
            if (bt && byte_tokens(m, w + cut[i], e - cut[i], bt)) {
                for (size_t k = 0; ok && k < e - cut[i]; k++)
                    ok = push(ids, nids, cap, bt[k]);
                free(bt);
                continue;
            }
            free(bt);
        }
        ok = push(ids, nids, cap, tid[i]);
    }
    free(best);
    free(cut);
    free(tid);
    if (!ok)
        return nopath ? tfb_error_set(TFB_STATUS_INTERNAL, "Unigram: no path") : NOMEM();
    return TFB_STATUS_OK;
}

tfb_status tfb__tt_model_word(const tt_model *m, const char *w, size_t n, int32_t **ids, int64_t *nids,
                              int64_t *cap) {
    if (n == 0)
        return TFB_STATUS_OK;
    if (n > TT_MAX_WORD) /* bounded work per word */
        return tfb_error_set(TFB_STATUS_INPUT, "a pre-tokenized word of %zu bytes (at most %d)", n,
                             TT_MAX_WORD);
    switch (m->kind) {
    case TT_BPE:
        return bpe(m, w, n, ids, nids, cap);
    case TT_WORDPIECE:
        return wordpiece(m, w, n, ids, nids, cap);
    case TT_UNIGRAM:
        return unigram(m, w, n, ids, nids, cap);
    case TT_WORDLEVEL: {
        int32_t id = tfb__tt_vocab_find(&m->vocab, w, n);
        if (id < 0)
            id = m->unk;
        if (id < 0)
            return tfb_error_set(TFB_STATUS_INPUT,
                                 "WordLevel: a word is not in the vocabulary and there is no unk_token");
        return push(ids, nids, cap, id) ? TFB_STATUS_OK : NOMEM();
    }
    case TT_SPM:
        break;
    }
    return tfb_error_set(TFB_STATUS_INTERNAL, "model kind %d has no word encoder", (int)m->kind);
}

void tfb__tt_model_free(tt_model *m) {
    tfb__tt_vocab_free(&m->vocab);
    tfb__tt_merges_free(&m->merges);
    free(m->cont_prefix);
    free(m->eow_suffix);
    free(m->score);
    if (m->spm)
        tfb__tt_spm_free(m->spm);
    *m = (tt_model){0};
}
