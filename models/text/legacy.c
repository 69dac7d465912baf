/* The files older checkpoints carry, read as transformers' slow tokenizers read them, onto the
 * same pipeline: vocab.json + merges.txt (GPT2Tokenizer: byte-level BPE), vocab.txt (BertTokenizer:
 * basic tokenizer + WordPiece), and vocab.json alone for Marian. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_impl.h"

static tfb_status nomem(void) {
    return tfb_error_set(TFB_STATUS_NOMEM, "tokenizer: out of memory");
}

/* A text file: bounded, and valid UTF-8 as Python's open() requires. */
static tfb_status read_text(const char *path, char **data, size_t *n) {
    TFB_TRY(tfb__tt_read_file(path, data, n));
    if (!tfb__tt_utf8_valid(*data, *n)) {
        free(*data);
        return tfb_error_set(TFB_STATUS_INPUT, "%s: not valid UTF-8", path);
    }
    return TFB_STATUS_OK;
}

tfb_status tfb__tt_add_special(tfb_tokenizer *t, const char *s) {
    int32_t id = tfb__tt_vocab_find(&t->model.vocab, s, strlen(s));
    if (id < 0)
        return TFB_STATUS_OK;
    tt_added *a = realloc(t->added, (size_t)(t->n_added + 1) * sizeof *a);
    if (!a)
        return nomem();
    t->added = a;
    size_t n = strlen(s);
    tt_added *x = &a[t->n_added];
    *x = (tt_added){.s = malloc(n + 1), .n = n, .id = id, .special = true};
    if (!x->s)
        return nomem();
    memcpy(x->s, s, n + 1);
    t->n_added++;
    return TFB_STATUS_OK;
}

tfb_status tfb__tt_load_vocab_json(tfb_tokenizer *t, const char *dir) {
    char path[4200], *data;
    size_t n;
    snprintf(path, sizeof path, "%s/vocab.json", dir);
    TFB_TRY(read_text(path, &data, &n));
    cJSON *root = cJSON_ParseWithLength(data, n);
    free(data);
    tfb_status s = TFB_STATUS_OK;
    if (!cJSON_IsObject(root)) {
        s = tfb_error_set(TFB_STATUS_INPUT, "%s: not a JSON object", path);
        goto done;
    }
    int64_t max = -1, cnt = 0;
    for (const cJSON *e = root->child; e; e = e->next, cnt++) {
        if (cnt >= TT_MAX_VOCAB || !cJSON_IsNumber(e) || e->valuedouble < 0 ||
            e->valuedouble >= TT_MAX_VOCAB || e->valuedouble != (double)(int64_t)e->valuedouble) {
            s = tfb_error_set(TFB_STATUS_INPUT, "%s: entry %lld is not an id below %d", path, (long long)cnt,
                              TT_MAX_VOCAB);
            goto done;
        }
        if ((int64_t)e->valuedouble > max)
            max = (int64_t)e->valuedouble;
    }
    if ((s = tfb__tt_vocab_init(&t->model.vocab, (int32_t)(max + 1))) != TFB_STATUS_OK)
        goto done;
    for (const cJSON *e = root->child; e && s == TFB_STATUS_OK; e = e->next)
        if ((s = tfb__tt_vocab_set(&t->model.vocab, (int32_t)e->valuedouble, e->string, strlen(e->string))) !=
            TFB_STATUS_OK)
            s = tfb_error_set(TFB_STATUS_INPUT, "%s: %s", path, tfb_error_last());
done:
    cJSON_Delete(root);
    return s;
}

tfb_status tfb__tt_load_vocab_merges(tfb_tokenizer *t, const char *dir) {
    TFB_TRY(tfb__tt_load_vocab_json(t, dir));
    char path[4200], *data;
    size_t n;
    snprintf(path, sizeof path, "%s/merges.txt", dir);
    TFB_TRY(read_text(path, &data, &n));
    tt_model *m = &t->model;
    m->kind = TT_BPE;
    m->unk = -1;
    tfb_status s = TFB_STATUS_OK;
    int32_t rank = 0;
    for (char *line = data; s == TFB_STATUS_OK && line < data + n;) {
        char *eol = memchr(line, '\n', (size_t)(data + n - line));
        size_t len = eol ? (size_t)(eol - line) : (size_t)(data + n - line);
        if (len && line[len - 1] == '\r')
            len--;
        /* GPT2Tokenizer skips the first line ("#version: ...") and empty lines. */
        if (len && !(line == data && strncmp(line, "#version", 8) == 0)) {
            char *sp = memchr(line, ' ', len);
            if (!sp || memchr(sp + 1, ' ', len - (size_t)(sp + 1 - line)) || rank >= TT_MAX_VOCAB) {
                s = tfb_error_set(TFB_STATUS_INPUT, "%s: line %d is not two tokens", path, rank + 2);
                break;
            }
            size_t an = (size_t)(sp - line), bn = len - an - 1;
            char joined[2 * TT_MAX_TOKEN + 2];
            int32_t id = -1;
            if (an + bn <= 2 * TT_MAX_TOKEN) {
                memcpy(joined, line, an);
                memcpy(joined + an, sp + 1, bn);
                id = tfb__tt_vocab_find(&m->vocab, joined, an + bn);
            }
            if (id < 0) {
                s = tfb_error_set(TFB_STATUS_INPUT, "%s: merge \"%.*s\" makes a token not in vocab.json",
                                  path, (int)(len > 80 ? 80 : len), line);
                break;
            }
            s = tfb__tt_merges_add(&m->merges, line, an, sp + 1, bn, rank++, id);
        }
        line += (eol ? (size_t)(eol - line) + 1 : len);
        if (!eol)
            break;
    }
    free(data);
    TFB_TRY(s);
    if (!(t->pretok = tfb__tt_pretok_bytelevel(false, true)) || !(t->dec = tfb__tt_dec_bytelevel()))
        return nomem();
    TFB_TRY(tfb__tt_add_special(t, "<|endoftext|>"));
    t->legacy_cleanup = true;
    snprintf(t->kind, sizeof t->kind, "vocab.json + merges.txt (byte-level BPE)");
    return TFB_STATUS_OK;
}

/* A boolean of tokenizer_config.json (def when the file or the key is absent). */
bool tfb__tt_config_flag(const char *dir, const char *key, bool def) {
    char path[4200], *data;
    size_t n;
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    if (tfb__tt_read_file(path, &data, &n) != TFB_STATUS_OK)
        return def;
    cJSON *root = cJSON_ParseWithLength(data, n);
    free(data);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    bool r = cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
    cJSON_Delete(root);
    return r;
}

tfb_status tfb__tt_load_vocab_txt(tfb_tokenizer *t, const char *dir) {
    char path[4200], *data;
    size_t n;
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    TFB_TRY(read_text(path, &data, &n));
    int32_t lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += data[i] == '\n';
    if (n && data[n - 1] != '\n')
        lines++;
    tfb_status s = lines > TT_MAX_VOCAB
                       ? tfb_error_set(TFB_STATUS_INPUT, "%s: more than %d lines", path, TT_MAX_VOCAB)
                       : tfb__tt_vocab_init(&t->model.vocab, lines);
    int32_t id = 0;
    for (char *line = data; s == TFB_STATUS_OK && line < data + n; id++) {
        char *eol = memchr(line, '\n', (size_t)(data + n - line));
        size_t len = eol ? (size_t)(eol - line) : (size_t)(data + n - line);
        /* BertTokenizer: token.rstrip("\n"), the file read with universal newlines */
        s = tfb__tt_vocab_set(&t->model.vocab, id, line, len && line[len - 1] == '\r' ? len - 1 : len);
        if (s != TFB_STATUS_OK)
            s = tfb_error_set(TFB_STATUS_INPUT, "%s: line %d: %s", path, id + 1, tfb_error_last());
        line += len + 1;
    }
    free(data);
    TFB_TRY(s);
    tt_model *m = &t->model;
    m->kind = TT_WORDPIECE;
    for (int32_t i = 0; i < m->vocab.n; i++) /* bounds the longest-match search */
        if ((int)m->vocab.tlen[i] > m->max_piece)
            m->max_piece = (int)m->vocab.tlen[i];
    m->max_chars = 100;
    m->cont_prefix = malloc(3);
    if (!m->cont_prefix)
        return nomem();
    memcpy(m->cont_prefix, "##", 3);
    m->unk = tfb__tt_vocab_find(&m->vocab, "[UNK]", 5);
    int32_t cls = tfb__tt_vocab_find(&m->vocab, "[CLS]", 5), sep = tfb__tt_vocab_find(&m->vocab, "[SEP]", 5);
    if (m->unk < 0 || cls < 0 || sep < 0)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: no [UNK], [CLS] or [SEP]", path);
    t->post.pre[t->post.n_pre++] = cls;
    t->post.post[t->post.n_post++] = sep;
    static const char *const specials[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (size_t i = 0; i < 5; i++)
        TFB_TRY(tfb__tt_add_special(t, specials[i]));
    /* BasicTokenizer: clean the text, space out CJK, NFC; lower-case and strip accents (when
     * do_lower_case), then split on whitespace and punctuation. */
    bool lower = tfb__tt_config_flag(dir, "do_lower_case", true);
    tt_norm *parts[3] = {tfb__tt_norm_bert(true, true, 0, false), tfb__tt_norm_simple("NFC"),
                         tfb__tt_norm_bert(false, false, lower, lower)};
    if (!parts[0] || !parts[1] || !parts[2] || !(t->norm = tfb__tt_norm_seq(parts, 3))) {
        for (int i = 0; i < 3; i++)
            tfb__tt_norm_free(parts[i]);
        return nomem();
    }
    if (!(t->pretok = tfb__tt_pretok_bert()) || !(t->dec = tfb__tt_dec_wordpiece("##", false)))
        return nomem();
    t->legacy_cleanup = true;
    snprintf(t->kind, sizeof t->kind, "vocab.txt (WordPiece)");
    return TFB_STATUS_OK;
}
