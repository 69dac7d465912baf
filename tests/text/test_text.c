/* Tokenizer fixtures (tests/text/fixtures, from gen_fixtures.py): for every line of texts.bin, the
 * ids of tfb_tokenizer_encode must equal the reference library's, and the decode of those ids its
 * decode. usage: test_text FIXTURE_DIR [--plant] [--gguf FILE [--expected FILE]]; --plant changes one
 * expected id and one expected decode, and passes only if both are caught (the checker can fail);
 * --gguf tokenizes with the tokenizer of a GGUF file's metadata instead of the directory's files
 * (tests/gguf/fixtures/tok), against --expected when the GGUF means other settings than the source.
 * Exit 0 pass, 1 fail, 2 error. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfbench/text.h"

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = malloc((size_t)len + 1);
    if (d && fread(d, 1, (size_t)len, f) != (size_t)len) {
        free(d);
        d = NULL;
    }
    fclose(f);
    if (d) {
        d[len] = 0;
        *n = (size_t)len;
    }
    return d;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_text FIXTURE_DIR [--plant] [--gguf FILE [--expected FILE]]\n");
        return 2;
    }
    const char *dir = argv[1], *gguf = NULL, *expected = NULL;
    bool plant = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--plant") == 0)
            plant = true;
        else if (strcmp(argv[i], "--gguf") == 0 && i + 1 < argc)
            gguf = argv[++i];
        else if (strcmp(argv[i], "--expected") == 0 && i + 1 < argc)
            expected = argv[++i];
        else {
            fprintf(stderr, "test_text: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    char path[4200];
    size_t tn, en;
    snprintf(path, sizeof path, "%s/../texts.bin", dir);
    char *texts = slurp(path, &tn);
    if (expected)
        snprintf(path, sizeof path, "%s", expected);
    else
        snprintf(path, sizeof path, "%s/expected.json", dir);
    char *exp = slurp(path, &en);
    cJSON *root = exp ? cJSON_Parse(exp) : NULL;
    const cJSON *lines = cJSON_GetObjectItem(root, "lines");
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(root, "kind"));
    if (!texts || !cJSON_IsArray(lines) || !kind) {
        fprintf(stderr, "test_text: %s: cannot read texts.bin or expected.json\n", dir);
        return 2;
    }
    tfb_tokenizer *t;
    if ((gguf ? tfb_tokenizer_load_gguf(gguf, &t) : tfb_tokenizer_load(dir, &t)) != TFB_STATUS_OK) {
        fprintf(stderr, "test_text: %s\n", tfb_error_last());
        return 2;
    }
    /* The .model fixtures hold SentencePiece's raw ids; the tokenizer adds what T5Tokenizer
     * (</s> = 2 after) and LlamaTokenizer (<s> = 1 before) add. */
    int pre = strcmp(kind, "spm_bpe") == 0 ? 1 : -1, post = strcmp(kind, "spm_unigram") == 0 ? 2 : -1;
    int n_lines = 0, ok_ids = 0, ok_dec = 0, planted_id = 0, planted_dec = 0;
    const char *line = texts;
    const cJSON *e = lines->child;
    for (; e && line < texts + tn; e = e->next, n_lines++) {
        const char *eol = memchr(line, '\n', (size_t)(texts + tn - line));
        size_t len = (size_t)(eol - line);
        const cJSON *ids = cJSON_GetObjectItem(e, "ids");
        /* decode_hex: the expected decode's bytes (a JSON string read by cJSON stops at U+0000) */
        const char *hex = cJSON_GetStringValue(cJSON_GetObjectItem(e, "decode_hex"));
        size_t dl = hex ? strlen(hex) / 2 : 0;
        char *want_dec = malloc(dl + 2);
        for (size_t i = 0; i < dl; i++)
            want_dec[i] = (char)strtol((char[3]){hex[2 * i], hex[2 * i + 1], 0}, NULL, 16);
        want_dec[dl] = 0;
        int ne = cJSON_GetArraySize(ids) + (pre >= 0) + (post >= 0);
        int32_t *want = malloc((size_t)(ne + 1) * sizeof *want);
        int k = 0;
        if (pre >= 0)
            want[k++] = pre;
        for (const cJSON *i = ids->child; i; i = i->next)
            want[k++] = (int32_t)i->valuedouble;
        if (post >= 0)
            want[k++] = post;
        if (plant && n_lines == 3 && ne > 1) { /* the planted faults */
            want[ne / 2] += 1;
            planted_id = 1;
        }
        int32_t *got = NULL;
        int64_t ng = 0;
        char *text = NULL;
        size_t tl = 0;
        if (tfb_tokenizer_encode(t, line, len, true, &got, &ng) != TFB_STATUS_OK) {
            printf("line %d: encode failed: %s\n", n_lines + 1, tfb_error_last());
        } else if (ng != ne || memcmp(got, want, (size_t)ne * sizeof *got) != 0) {
            printf("line %d: ids differ\n  want", n_lines + 1);
            for (int i = 0; i < ne; i++)
                printf(" %d", want[i]);
            printf("\n  got ");
            for (int64_t i = 0; i < ng; i++)
                printf(" %d", got[i]);
            printf("\n");
        } else {
            ok_ids++;
        }
        if (got && tfb_tokenizer_decode(t, got, ng, true, &text, &tl) != TFB_STATUS_OK) {
            printf("line %d: decode failed: %s\n", n_lines + 1, tfb_error_last());
        } else if (got) {
            if (plant && n_lines == 4) {
                want_dec[dl++] = '?';
                want_dec[dl] = 0;
                planted_dec = 1;
            }
            if (tl != dl || memcmp(text, want_dec, dl) != 0)
                printf("line %d: decode differs\n  want \"%s\"\n  got  \"%s\"\n", n_lines + 1, want_dec,
                       text);
            else
                ok_dec++;
        }
        free(want_dec);
        free(text);
        free(got);
        free(want);
        line = eol + 1;
    }
    printf("%s: ids match on %d/%d lines, decode(encode(x)) on %d/%d (%s)\n", gguf ? gguf : dir, ok_ids,
           n_lines, ok_dec, n_lines, tfb_tokenizer_kind(t));
    tfb_tokenizer_free(t);
    cJSON_Delete(root);
    free(texts);
    free(exp);
    if (plant) {
        bool caught =
            ok_ids == n_lines - planted_id && ok_dec == n_lines - planted_dec && planted_id && planted_dec;
        printf("planted: one changed id and one changed decode %s\n", caught ? "caught" : "NOT caught");
        return caught ? 0 : 1;
    }
    return ok_ids == n_lines && ok_dec == n_lines && n_lines > 0 ? 0 : 1;
}
