/* Internal to models/text/: strings with lengths, the vocabulary, and the tokenizer pipeline
 * (normalizers -> pre-tokenizers -> model -> post-processor; decoders back). Functions carry the
 * internal prefix tfb__tt_, types the short tt_. */
#ifndef TFB_TEXT_IMPL_H
#define TFB_TEXT_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tfbench/text.h"

/* Limits on untrusted tokenizer files. */
#define TT_MAX_FILE  (64u << 20) /* bytes of one tokenizer file */
#define TT_MAX_VOCAB (1 << 22)   /* entries in a vocabulary or merges list */
#define TT_MAX_TOKEN 1024        /* bytes of one vocabulary entry */
#define TT_MAX_DEPTH 8           /* nesting of Sequence components */
#define TT_MAX_PARTS 64          /* components in one Sequence, template items */
#define TT_MAX_WORD  (1 << 20)   /* bytes of one pre-tokenized word given to a model */

/* A growable byte string (may hold U+0000: always with its length). */
typedef struct tt_buf {
    char *p;
    size_t n, cap;
} tt_buf;
bool tfb__tt_buf_add(tt_buf *b, const void *s, size_t n);
bool tfb__tt_buf_addc(tt_buf *b, uint32_t cp); /* one code point as UTF-8 */
void tfb__tt_buf_free(tt_buf *b);

/* A list of strings (pre-tokenized pieces, tokens). */
typedef struct tt_list {
    tt_buf *v;
    size_t n, cap;
} tt_list;
bool tfb__tt_list_push(tt_list *l, const char *s, size_t n);
void tfb__tt_list_free(tt_list *l);

/* Decode one UTF-8 code point of valid text at s (n bytes left); returns its length (>= 1). */
size_t tfb__tt_utf8_next(const char *s, size_t n, uint32_t *cp);
size_t tfb__tt_utf8_len(uint32_t cp);
/* Whether n bytes at s are valid UTF-8 (tokenizer files are read as text: serde_json and Python's
 * open() refuse anything else, so tfbench does too). */
bool tfb__tt_utf8_valid(const char *s, size_t n);

/* A vocabulary: id -> token, token -> id (open addressing). */
typedef struct tt_vocab {
    char **tok;     /* [n] NUL-terminated (NULL for an unused id) */
    uint32_t *tlen; /* [n] */
    int32_t n;
    int32_t *slot; /* [cap] ids, -1 empty */
    size_t cap;
} tt_vocab;
tfb_status tfb__tt_vocab_init(tt_vocab *v, int32_t n);
/* Set id -> token; a repeated token keeps the first id for lookups. */
tfb_status tfb__tt_vocab_set(tt_vocab *v, int32_t id, const char *s, size_t n);
int32_t tfb__tt_vocab_find(const tt_vocab *v, const char *s, size_t n); /* -1 when absent */
void tfb__tt_vocab_free(tt_vocab *v);

/* A string -> (rank, id) map for BPE merges, keyed by "left\x01right". */
typedef struct tt_merges {
    char **key;
    uint32_t *klen;
    int32_t *rank, *id;
    size_t cap, n;
} tt_merges;
tfb_status tfb__tt_merges_add(tt_merges *m, const char *a, size_t an, const char *b, size_t bn, int32_t rank,
                              int32_t id);
bool tfb__tt_merges_find(const tt_merges *m, const char *a, size_t an, const char *b, size_t bn,
                         int32_t *rank, int32_t *id);
void tfb__tt_merges_free(tt_merges *m);

/* ---- pipeline components */
typedef struct tt_norm tt_norm;
typedef struct tt_pretok tt_pretok;
typedef struct tt_decoder tt_decoder;

enum tt_model_kind { TT_BPE, TT_WORDPIECE, TT_UNIGRAM, TT_WORDLEVEL, TT_SPM };
typedef struct tt_model {
    enum tt_model_kind kind;
    tt_vocab vocab;
    int32_t unk; /* -1 none */
    /* BPE */
    tt_merges merges;
    char *cont_prefix, *eow_suffix; /* continuing_subword_prefix / end_of_word_suffix, or NULL */
    bool fuse_unk, byte_fallback, ignore_merges;
    /* WordPiece */
    int max_chars;
    /* Unigram */
    double *score; /* [vocab.n] */
    double min_score;
    int max_piece; /* Unigram, WordPiece: bytes of the longest vocabulary entry */
    /* SentencePiece (.model) through the C++ shim */
    void *spm;
} tt_model;

/* Post-processor: tokens added around the sequence. */
typedef struct tt_post {
    int32_t pre[TT_MAX_PARTS], post[TT_MAX_PARTS];
    int n_pre, n_post;
} tt_post;

/* Added tokens: normalized: false ones matched in the raw text, normalized: true ones after the
 * normalizer, in their normalized form (tokenizers' AddedVocabulary). */
typedef struct tt_added {
    char *s, *ns; /* the content; ns: what is matched (normalized when normalized, else s) */
    size_t n, nn;
    int32_t id;
    bool special, lstrip, rstrip, single_word, normalized;
} tt_added;

struct tfb_tokenizer {
    char kind[96];
    tt_norm *norm;
    tt_pretok *pretok;
    tt_model model;
    tt_decoder *dec;
    tt_post post;
    tt_added *added;
    int n_added;
    bool added_first[256]; /* first bytes of the matched forms: a quick reject */
    bool *is_special;      /* [vocab.n] */
    int64_t trunc_max;     /* 0 = none */
    bool trunc_left;       /* truncation direction Left: keep the last ids */
    bool legacy_cleanup;   /* transformers' clean_up_tokenization after decode (slow tokenizers) */
    /* Marian: pieces of the source .spm mapped through vocab.json; </s> appended */
    void *marian_src, *marian_tgt;
};

/* Normalizers (normalize.c). */
void tfb__tt_norm_free(tt_norm *n);
tfb_status tfb__tt_norm_apply(const tt_norm *n, const char *s, size_t len, tt_buf *out);
tt_norm *tfb__tt_norm_bert(bool clean, bool chinese, int strip_accents /* -1 follow lowercase */, bool lower);
tt_norm *tfb__tt_norm_simple(const char *type); /* NFC NFD NFKC NFKD Lowercase StripAccents */
tt_norm *tfb__tt_norm_replace(const char *pat, size_t pn, bool regex, const char *with, size_t wn,
                              const char *where);
tt_norm *tfb__tt_norm_prepend(const char *s, size_t n);
tt_norm *tfb__tt_norm_strip(bool left, bool right);
tt_norm *tfb__tt_norm_precompiled(const unsigned char *map, size_t n); /* NULL when malformed */
/* Whether libsentencepiece may be given charsmap map: it bounds-checks neither darts-clone's child
 * reads (unit base^c for every input byte c) nor the strings a trie value names. 1 when every node
 * reachable from the root has all 256 child slots inside the trie, every value indexes the
 * replacement strings and those end with a NUL (darts-clone's block layout gives real maps that);
 * 0 when not; -1 out of memory. */
int tfb__tt_charsmap_check(const unsigned char *map, size_t n);
/* A serialized SentencePiece ModelProto (a .model file) walked field by field: every
 * precompiled_charsmap of its normalizer_spec and denormalizer_spec passes tfb__tt_charsmap_check.
 * 1 when so; 0 when one does not, or the walk meets what it cannot skip exactly (groups, unknown
 * wire types, a length past the end), *where naming the part; -1 out of memory. */
int tfb__tt_spm_proto_check(const unsigned char *pb, size_t n, const char **where);
tt_norm *tfb__tt_norm_seq(tt_norm **parts, int n);

/* Pre-tokenizers (pretok.c): split one string into pieces, appended to out. */
void tfb__tt_pretok_free(tt_pretok *p);
tfb_status tfb__tt_pretok_apply(const tt_pretok *p, const char *s, size_t len, bool first, tt_list *out);
tt_pretok *tfb__tt_pretok_bytelevel(bool add_prefix_space, bool use_regex);
tt_pretok *tfb__tt_pretok_metaspace(uint32_t repl, int prepend /* 0 never, 1 always, 2 first */, bool split);
tt_pretok *tfb__tt_pretok_bert(void);
tt_pretok *tfb__tt_pretok_whitespace(bool split_only);
tt_pretok *tfb__tt_pretok_punct(int behavior);
tt_pretok *tfb__tt_pretok_digits(bool individual);
/* Split: behavior 0 removed, 1 isolated, 2 merged with previous, 3 merged with next, 4 contiguous.
 * err gets the PCRE2 message when the pattern does not compile (NULL returned). */
tt_pretok *tfb__tt_pretok_split(const char *pat, size_t pn, bool regex, int behavior, bool invert, char *err,
                                size_t errn);
tt_pretok *tfb__tt_pretok_seq(tt_pretok **parts, int n);
/* A tokenizer.json regex rewritten for PCRE2 as Oniguruma reads it (\\w, \\W); malloc'ed. */
char *tfb__tt_regex_onig(const char *pat, size_t n, size_t *out_n);
/* The GPT-2 byte <-> printable code point table. */
uint32_t tfb__tt_byte_to_cp(unsigned char b);
int tfb__tt_cp_to_byte(uint32_t cp); /* -1 when not in the table */

/* Models (bpe.c, wordpiece.c, unigram.c): one pre-tokenized word -> ids appended to out. */
tfb_status tfb__tt_model_word(const tt_model *m, const char *w, size_t n, int32_t **ids, int64_t *nids,
                              int64_t *cap);
void tfb__tt_model_free(tt_model *m);

/* Decoders (decode.c): tokens -> tokens, then concatenated. */
void tfb__tt_decoder_free(tt_decoder *d);
tfb_status tfb__tt_decoder_apply(const tt_decoder *d, tt_list *toks);
tt_decoder *tfb__tt_dec_bytelevel(void);
tt_decoder *tfb__tt_dec_metaspace(uint32_t repl, bool prepend);
tt_decoder *tfb__tt_dec_wordpiece(const char *prefix, bool cleanup);
tt_decoder *tfb__tt_dec_replace(const char *pat, size_t pn, const char *with, size_t wn);
tt_decoder *tfb__tt_dec_bytefallback(void);
tt_decoder *tfb__tt_dec_fuse(void);
tt_decoder *tfb__tt_dec_strip(const char *content, size_t cn, int start, int stop);
tt_decoder *tfb__tt_dec_bpe(const char *suffix);
tt_decoder *tfb__tt_dec_seq(tt_decoder **parts, int n);

/* tokenizer.json (tokjson.c) and the older files (legacy.c). */
tfb_status tfb__tt_load_json(tfb_tokenizer *t, const char *path);
/* tokenizer.json from memory (name is used in messages): the fuzz target's entry. */
tfb_status tfb__tt_load_json_mem(tfb_tokenizer *t, const char *name, const char *data, size_t n);
tfb_status tfb__tt_tokenizer_from_json(const char *name, const char *data, size_t n, tfb_tokenizer **out);
tfb_status tfb__tt_load_vocab_merges(tfb_tokenizer *t, const char *dir);
tfb_status tfb__tt_load_vocab_txt(tfb_tokenizer *t, const char *dir);
/* Add s (when in the vocabulary) as a special added token, matched in the text. */
tfb_status tfb__tt_add_special(tfb_tokenizer *t, const char *s);
tfb_status tfb__tt_load_vocab_json(tfb_tokenizer *t, const char *dir); /* into t->model.vocab */
bool tfb__tt_config_flag(const char *dir, const char *key, bool def);
tfb_status tfb__tt_read_file(const char *path, char **data, size_t *n);

/* After a loader filled t: the special-id table and the matched forms of the added tokens. */
tfb_status tfb__tt_finish(tfb_tokenizer *t);
/* GGUF tokenizer metadata (gguf_tok.c) from memory: the fuzz target's entry. */
tfb_status tfb__tt_load_gguf_mem(const char *label, const void *buf, size_t size, tfb_tokenizer **out);

/* SentencePiece through libsentencepiece (spm_shim.cpp). */
void *tfb__tt_spm_load(const char *path, char *err, size_t errn);
/* A serialized ModelProto from memory (a .model file's bytes, or the one gguf_tok.c builds), its charsmaps
 * checked first (tfb__tt_spm_proto_check); label starts the messages. */
void *tfb__tt_spm_load_proto(const char *data, size_t n, const char *label, char *err, size_t errn);
void tfb__tt_spm_free(void *spm);
int tfb__tt_spm_encode(void *spm, const char *s, size_t n, int32_t **ids); /* count, -1 on failure */
/* Pieces of the encoding, each as a NUL-separated list in *pieces: count, -1 on failure. */
int tfb__tt_spm_encode_pieces(void *spm, const char *s, size_t n, char **pieces, size_t *plen);
char *tfb__tt_spm_decode(void *spm, const int32_t *ids, int n, size_t *len);
char *tfb__tt_spm_decode_pieces(void *spm, const char *pieces, size_t plen, int n, size_t *len);
int tfb__tt_spm_size(void *spm);
const char *tfb__tt_spm_piece(void *spm, int id);
int tfb__tt_spm_special(void *spm, int *bos, int *eos, int *unk); /* ids, -1 when absent */
bool tfb__tt_spm_is_control(void *spm, int id);

#endif
