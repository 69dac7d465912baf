/* Text in, text out: the tokenizer a model directory carries (models/text/).
 *
 * A directory is read as transformers' AutoTokenizer would: tokenizer.json when present (Hugging Face
 * fast tokenizers: BPE, WordPiece, Unigram, WordLevel with their normalizers, pre-tokenizers,
 * decoders and post-processors), else vocab.json + merges.txt (GPT-2), vocab.txt (BERT),
 * source.spm + vocab.json (Marian), spiece.model / tokenizer.model (SentencePiece, through Debian's
 * libsentencepiece). A component the code does not implement is refused, naming it.
 * Text that is not valid UTF-8 is decoded first as Python's bytes.decode("utf-8", errors="replace")
 * does: each maximal ill-formed subsequence becomes U+FFFD. */
#ifndef TFBENCH_TEXT_H
#define TFBENCH_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tfbench/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tfb_tokenizer tfb_tokenizer;

/* Load the tokenizer of model directory dir; *out is freed with tfb_tokenizer_free. Errors (INPUT,
 * IO, UNSUPPORTED) carry a message starting with the file's path. */
tfb_status tfb_tokenizer_load(const char *dir, tfb_tokenizer **out);
/* Load the tokenizer a GGUF file's metadata describes (tokenizer.ggml.*: gpt2 = byte-level BPE,
 * bert = WordPiece, llama = SentencePiece BPE, t5 = SentencePiece Unigram); *out as above. Errors
 * read "<path>: tokenizer: <what>" (INPUT, also for a kind or pre-tokenizer that is not modelled:
 * the file cannot be read as text, which is not a backend's limitation). */
tfb_status tfb_tokenizer_load_gguf(const char *path, tfb_tokenizer **out);
void tfb_tokenizer_free(tfb_tokenizer *t);
/* What was loaded, e.g. "tokenizer.json (BPE)"; owned by t. */
const char *tfb_tokenizer_kind(const tfb_tokenizer *t);

/* Encode len bytes of text into *ids (malloc'ed, the caller frees), with the post-processor's
 * special tokens when add_special, truncated as the tokenizer file says. */
tfb_status tfb_tokenizer_encode(const tfb_tokenizer *t, const char *text, size_t len, bool add_special,
                                int32_t **ids, int64_t *n);
/* Truncate later encodes to max ids in all, special tokens included (0: no truncation), in place of
 * what the tokenizer file says (sentence-transformers' max_seq_length does this). */
void tfb_tokenizer_set_max_length(tfb_tokenizer *t, int64_t max);
/* Decode ids into UTF-8 *text (malloc'ed, NUL-terminated, the caller frees) of *len bytes (len may
 * be NULL; the text may hold U+0000, so *len is the length); special tokens are skipped when
 * skip_special. An id outside the vocabulary is INPUT. */
tfb_status tfb_tokenizer_decode(const tfb_tokenizer *t, const int32_t *ids, int64_t n, bool skip_special,
                                char **text, size_t *len);
/* The token string of id (owned by t, NUL-terminated), NULL when id is out of range. */
const char *tfb_tokenizer_token(const tfb_tokenizer *t, int32_t id);

/* Python's bytes.decode("utf-8", errors="replace"): *out (malloc'ed, NUL-terminated, *out_n bytes). */
tfb_status tfb_text_utf8_replace(const char *in, size_t n, char **out, size_t *out_n);

#ifdef __cplusplus
}
#endif
#endif
