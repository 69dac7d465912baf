/* The GGUF reader (models/formats/gguf.c): the fixtures written by the `gguf` package read back
 * exactly as expected.json says (every metadata value, tensor dims, offsets and the sha256 of each
 * tensor's bytes), from a file and from memory; the same file as GGUF version 2 reads the same;
 * and every kind of malformed file, made here from a valid one, is refused with TFB_STATUS_INPUT
 * and one line naming the file and what is wrong.
 *
 *   test_gguf FIXTURES_DIR            run every case
 *   test_gguf --make-bad FILE KIND    write a malformed file (for the CLI tests)
 *   test_gguf --make-good FILE        write the valid file the malformed ones are made from */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "models/formats/gguf.h"
#include "tests/gguf/test_util.h"

/* A value against its JSON form; nested arrays recurse. */
static void check_value(const char *key, const tfb__gguf_value *v, const cJSON *j) {
    switch (v->type) {
    case TFB_GGUF_UINT8:
    case TFB_GGUF_UINT16:
    case TFB_GGUF_UINT32:
    case TFB_GGUF_UINT64:
        CHECK(cJSON_IsNumber(j) && (double)v->u == j->valuedouble, "%s: %" PRIu64, key, v->u);
        break;
    case TFB_GGUF_INT8:
    case TFB_GGUF_INT16:
    case TFB_GGUF_INT32:
    case TFB_GGUF_INT64:
        CHECK(cJSON_IsNumber(j) && (double)v->i == j->valuedouble, "%s: %" PRId64, key, v->i);
        break;
    case TFB_GGUF_FLOAT32:
    case TFB_GGUF_FLOAT64:
        CHECK(cJSON_IsNumber(j) && v->f == j->valuedouble, "%s: %.17g", key, v->f);
        break;
    case TFB_GGUF_BOOL:
        CHECK(cJSON_IsBool(j) && (v->u != 0) == cJSON_IsTrue(j), "%s", key);
        break;
    case TFB_GGUF_STRING:
        CHECK(cJSON_IsString(j) && strlen(j->valuestring) == v->str.len &&
                  strcmp(j->valuestring, v->str.s) == 0,
              "%s: '%s'", key, v->str.s);
        break;
    case TFB_GGUF_ARRAY:
        CHECK(cJSON_IsArray(j) && (uint64_t)cJSON_GetArraySize(j) == v->arr.n, "%s: %" PRIu64 " elements",
              key, v->arr.n);
        if (cJSON_IsArray(j) && (uint64_t)cJSON_GetArraySize(j) == v->arr.n)
            for (uint64_t i = 0; i < v->arr.n; i++) {
                CHECK(v->arr.v[i].type == v->arr.type, "%s[%" PRIu64 "] type", key, i);
                check_value(key, &v->arr.v[i], cJSON_GetArrayItem(j, (int)i));
            }
        break;
    default:
        CHECK(0, "%s: type %d", key, (int)v->type);
    }
}

static void check_fixture(tfb__gguf_file *f, const cJSON *e) {
    CHECK(f->version == 3, "version %u", f->version);
    CHECK(f->alignment == (uint32_t)cJSON_GetObjectItem(e, "alignment")->valuedouble, "alignment %u",
          f->alignment);
    CHECK(f->data_start == (uint64_t)cJSON_GetObjectItem(e, "data_start")->valuedouble, "data_start %" PRIu64,
          f->data_start);
    const cJSON *kvs = cJSON_GetObjectItem(e, "kv"), *ts = cJSON_GetObjectItem(e, "tensors");
    CHECK(f->n_kv == cJSON_GetArraySize(kvs), "%" PRId64 " keys", f->n_kv);
    for (int64_t i = 0; i < f->n_kv && i < cJSON_GetArraySize(kvs); i++) {
        const cJSON *j = cJSON_GetArrayItem(kvs, (int)i);
        const char *key = cJSON_GetObjectItem(j, "key")->valuestring;
        const tfb__gguf_kv *kv = &f->kv[i]; /* iteration is in file order */
        CHECK(strcmp(kv->key.s, key) == 0, "key %" PRId64 " '%s' vs '%s'", i, kv->key.s, key);
        CHECK(tfb__gguf_find_key(f, key) == kv, "find_key '%s'", key);
        CHECK(strcmp(tfb__gguf_type_name(kv->val.type), cJSON_GetObjectItem(j, "type")->valuestring) == 0,
              "%s type", key);
        if (kv->val.type == TFB_GGUF_ARRAY)
            CHECK(strcmp(tfb__gguf_type_name(kv->val.arr.type),
                         cJSON_GetObjectItem(j, "elem")->valuestring) == 0,
                  "%s elem", key);
        check_value(key, &kv->val, cJSON_GetObjectItem(j, "value"));
    }
    /* Past 2^53 the JSON doubles are not exact: the 64-bit ones once more, exactly, and the typed reads. */
    uint64_t u;
    int64_t i64;
    double d;
    bool b;
    const tfb__gguf_str *s;
    CHECK(tfb__gguf_get_u64(f, "test.u64", &u) == TFB_STATUS_OK && u == 18000000000000000000u, "u64");
    CHECK(tfb__gguf_get_i64(f, "test.i64", &i64) == TFB_STATUS_OK && i64 == -9000000000000000000, "i64");
    CHECK(tfb__gguf_get_u64(f, "test.u8", &u) == TFB_STATUS_OK && u == 200, "u8");
    CHECK(tfb__gguf_get_i64(f, "test.u32", &i64) == TFB_STATUS_OK && i64 == 4000000000, "u32 as i64");
    CHECK(tfb__gguf_get_u64(f, "test.i8", &u) == TFB_STATUS_INPUT, "negative as u64");
    CHECK(tfb__gguf_get_f64(f, "test.f32", &d) == TFB_STATUS_OK && d == (double)0.1f, "f32");
    CHECK(tfb__gguf_get_bool(f, "test.bool_t", &b) == TFB_STATUS_OK && b, "bool");
    CHECK(tfb__gguf_get_str(f, "test.str", &s) == TFB_STATUS_OK && strcmp(s->s, "h\xc3\xa9llo \"gguf\"") == 0,
          "str");
    CHECK(tfb__gguf_get_str(f, "test.u8", &s) == TFB_STATUS_INPUT &&
              strstr(tfb_error_last(), "'test.u8' is UINT8"),
          "mismatch: %s", tfb_error_last());
    CHECK(tfb__gguf_get_u64(f, "no.such", &u) == TFB_STATUS_INPUT &&
              strstr(tfb_error_last(), "'no.such' is missing"),
          "missing: %s", tfb_error_last());
    uint64_t n;
    const tfb__gguf_value *v;
    CHECK(tfb__gguf_get_arr(f, "test.arr_str", TFB_GGUF_STRING, &n, &v) == TFB_STATUS_OK && n == 4 &&
              strcmp(v[3].str.s, "\xe2\x96\x81x") == 0,
          "arr_str");
    CHECK(tfb__gguf_get_arr(f, "test.arr_str", TFB_GGUF_INT32, &n, &v) == TFB_STATUS_INPUT,
          "arr elem mismatch");

    CHECK(f->n_t == cJSON_GetArraySize(ts), "%" PRId64 " tensors", f->n_t);
    for (int64_t i = 0; i < f->n_t && i < cJSON_GetArraySize(ts); i++) {
        const cJSON *j = cJSON_GetArrayItem(ts, (int)i);
        const char *name = cJSON_GetObjectItem(j, "name")->valuestring;
        const tfb__gguf_tensor *t = tfb__gguf_find_tensor(f, name);
        CHECK(t == &f->t[i], "find_tensor '%s'", name);
        if (!t)
            continue;
        CHECK(t->ggml_type == (uint32_t)cJSON_GetObjectItem(j, "ggml_type")->valuedouble, "%s type", name);
        CHECK(strcmp(tfb__gguf_ggml_name(t->ggml_type), cJSON_GetObjectItem(j, "type")->valuestring) == 0,
              "%s name", name);
        const cJSON *dims = cJSON_GetObjectItem(j, "dims");
        CHECK(t->n_dims == cJSON_GetArraySize(dims), "%s n_dims %d", name, t->n_dims);
        for (int k = 0; k < t->n_dims && k < cJSON_GetArraySize(dims); k++)
            CHECK(t->ne[k] == (int64_t)cJSON_GetArrayItem(dims, k)->valuedouble, "%s dim %d", name, k);
        CHECK(t->offset == (uint64_t)cJSON_GetObjectItem(j, "offset")->valuedouble, "%s offset", name);
        CHECK(t->nbytes == (uint64_t)cJSON_GetObjectItem(j, "nbytes")->valuedouble, "%s nbytes %" PRIu64,
              name, t->nbytes);
        uint8_t *buf = malloc((size_t)t->nbytes + 1);
        CHECK(tfb__gguf_read(f, t, buf, (size_t)t->nbytes) == TFB_STATUS_OK, "%s read: %s", name,
              tfb_error_last());
        char hex[65];
        sha256_hex(buf, (size_t)t->nbytes, hex);
        CHECK(strcmp(hex, cJSON_GetObjectItem(j, "sha256")->valuestring) == 0, "%s sha256 %s", name, hex);
        free(buf);
        tfb_dtype dt;
        bool plain = tfb__gguf_ggml_dtype(t->ggml_type, &dt);
        CHECK(plain == (strcmp(name, "t.q6_k") != 0), "%s as stored", name);
        if (plain && dt != TFB_DTYPE_F32 && dt != TFB_DTYPE_F16 && dt != TFB_DTYPE_BF16) /* blocks kept */
            CHECK(t->nbytes == tfb_dtype_row_bytes(dt, t->ne[0]) * (uint64_t)(t->ne[1] * t->ne[2] * t->ne[3]),
                  "%s: the tfbench block layout", name);
    }
}

/* ---- malformed files, each one change to a valid one ---------------------------------------------- */

typedef struct buf {
    uint8_t b[4096];
    size_t n;
} buf;

static void put(buf *o, const void *p, size_t n) {
    TFB_ASSERT(o->n + n <= sizeof o->b);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}
static void put32(buf *o, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(o, b, 4);
}
static void put64(buf *o, uint64_t v) {
    put32(o, (uint32_t)v);
    put32(o, (uint32_t)(v >> 32));
}
static void putstr(buf *o, const char *s) {
    put64(o, strlen(s));
    put(o, s, strlen(s));
}

/* Every kind, the substring its message must contain, and what --make-bad writes for it. */
static const struct {
    const char *kind, *msg;
} bad_kinds[] = {
    {"truncated", "truncated"},
    {"bad-magic", "bad magic 'GGUX'"},
    {"version-1", "GGUF version 1 is not supported"},
    {"big-endian", "big-endian GGUF file"},
    {"string-past-end", "string length 1099511627776 past the end of the file"},
    {"array-count-overflow", "array of 2305843009213693952 UINT64"},
    {"tensor-past-data", "past the end of the"},
    {"misaligned-offset", "offset 36 is not a multiple of the alignment 32"},
    {"duplicate-tensor", "tensor 'w' appears twice"},
    {"duplicate-key", "key 'a.u32' appears twice"},
    {"unknown-value-type", "key 'a.u32' at byte"},
    {"unknown-ggml-type", "unknown ggml type 4"},
    {"n-dims-5", "5 dims (1 to 4)"},
    {"dims-overflow", "hold more bytes than the"},
    {"bad-alignment", "'general.alignment' is 48, not a power of two"},
    {"tensor-count", "tensor infos cannot fit"},
};
#define N_BAD (int)(sizeof bad_kinds / sizeof bad_kinds[0])

/* The valid file (kind NULL) or one malformed kind of it: 4 keys, tensors w (F32 4x2) and v (Q8_0 32). */
static void make(buf *o, const char *kind) {
#define IS(k) (kind && strcmp(kind, k) == 0)
    o->n = 0;
    put(o, IS("bad-magic") ? "GGUX" : "GGUF", 4);
    if (IS("big-endian"))
        put32(o, 0x03000000u);
    else
        put32(o, IS("version-1") ? 1 : 3);
    put64(o, IS("tensor-count") ? 1000000 : 2);
    put64(o, 4);
    putstr(o, "general.alignment");
    put32(o, TFB_GGUF_UINT32);
    put32(o, IS("bad-alignment") ? 48 : 32);
    putstr(o, "general.architecture");
    put32(o, TFB_GGUF_STRING);
    if (IS("string-past-end")) {
        put64(o, 1ull << 40);
        put(o, "x", 1);
    } else {
        putstr(o, "x");
    }
    if (IS("duplicate-key")) { /* the array's place taken by a second a.u32 */
        putstr(o, "a.u32");
        put32(o, TFB_GGUF_UINT32);
        put32(o, 8);
    } else {
        putstr(o, "a.arr");
        put32(o, TFB_GGUF_ARRAY);
        put32(o, TFB_GGUF_UINT64);
        put64(o, IS("array-count-overflow") ? UINT64_MAX / 8 + 1 : 2); /* n*8 wraps to 8 */
        put64(o, 5);
        put64(o, 6);
    }
    putstr(o, "a.u32");
    put32(o, IS("unknown-value-type") ? 13 : TFB_GGUF_UINT32);
    put32(o, 7);
    /* tensor infos */
    putstr(o, "w");
    put32(o, IS("n-dims-5") ? 5 : 2);
    if (IS("dims-overflow")) {
        put64(o, 1ull << 32);
        put64(o, 1ull << 32);
    } else {
        put64(o, 4);
        put64(o, 2);
    }
    if (IS("n-dims-5")) {
        put64(o, 1), put64(o, 1), put64(o, 1);
    }
    put32(o, 0); /* F32 */
    put64(o, 0);
    putstr(o, IS("duplicate-tensor") ? "w" : "v");
    put32(o, 1);
    put64(o, 32);
    put32(o, IS("unknown-ggml-type") ? 4 : 8); /* Q8_0 */
    put64(o, IS("misaligned-offset") ? 36 : IS("tensor-past-data") ? 64 : 32);
    while (o->n % 32)
        put(o, "", 1);
    for (int i = 0; i < 32 + 34; i++)
        put(o, "\x01", 1);
    if (IS("truncated"))
        o->n = o->n / 2;
#undef IS
}

static int write_file(const char *path, const buf *o) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return 1;
    int bad = fwrite(o->b, 1, o->n, f) != o->n;
    return fclose(f) != 0 || bad;
}

/* One malformed kind through the reader, from memory and from a file: INPUT, one line, the file
 * named first, the expected words in it, nothing left open. */
static void check_bad(const char *dir, int k) {
    static buf o;
    make(&o, bad_kinds[k].kind);
    char path[4200];
    snprintf(path, sizeof path, "%s/bad-%s.gguf", dir, bad_kinds[k].kind);
    TFB_ASSERT(write_file(path, &o) == 0);
    for (int from_file = 0; from_file < 2; from_file++) {
        tfb__gguf_file f;
        /* from memory, a copy of exactly the file's bytes so that ASan sees any overread */
        uint8_t *m = malloc(o.n ? o.n : 1);
        memcpy(m, o.b, o.n);
        tfb_status s = from_file ? tfb__gguf_open(path, &f) : tfb__gguf_open_mem(path, m, o.n, &f);
        free(m);
        const char *e = tfb_error_last();
        CHECK(s == TFB_STATUS_INPUT, "%s (%s): status %d: %s", bad_kinds[k].kind, from_file ? "file" : "mem",
              (int)s, e);
        CHECK(strncmp(e, path, strlen(path)) == 0 && e[strlen(path)] == ':', "%s: not naming the file: %s",
              bad_kinds[k].kind, e);
        CHECK(strstr(e, bad_kinds[k].msg) != NULL, "%s: '%s' not in: %s", bad_kinds[k].kind, bad_kinds[k].msg,
              e);
        CHECK(strchr(e, '\n') == NULL, "%s: more than one line", bad_kinds[k].kind);
        CHECK(f.kv == NULL && f.t == NULL && f.label == NULL && f.fp == NULL, "%s: left open",
              bad_kinds[k].kind);
    }
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--make-bad") == 0) {
        static buf o;
        for (int k = 0; k < N_BAD; k++)
            if (strcmp(argv[3], bad_kinds[k].kind) == 0) {
                make(&o, argv[3]);
                return write_file(argv[2], &o);
            }
        fprintf(stderr, "unknown kind %s\n", argv[3]);
        return 2;
    }
    if (argc == 3 && strcmp(argv[1], "--make-good") == 0) {
        static buf o;
        make(&o, NULL);
        return write_file(argv[2], &o);
    }
    if (argc != 2) {
        fprintf(stderr, "usage: test_gguf FIXTURES_DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    char path[4200];
    snprintf(path, sizeof path, "%s/expected.json", dir);
    char *js = slurp(path, NULL);
    cJSON *exp = js ? cJSON_Parse(js) : NULL;
    TFB_ASSERT(exp);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(exp, "files")) {
        snprintf(path, sizeof path, "%s/%s", dir, cJSON_GetObjectItem(e, "file")->valuestring);
        tfb__gguf_file f;
        tfb_status s = tfb__gguf_open(path, &f);
        CHECK(s == TFB_STATUS_OK, "%s", tfb_error_last());
        if (s == TFB_STATUS_OK) {
            check_fixture(&f, e);
            tfb__gguf_close(&f);
        }
        size_t n;
        char *m = slurp(path, &n);
        s = tfb__gguf_open_mem(path, m, n, &f);
        CHECK(s == TFB_STATUS_OK, "%s", tfb_error_last());
        if (s == TFB_STATUS_OK) {
            check_fixture(&f, e);
            tfb__gguf_close(&f);
        }
        /* Version 2 has the same layout (64-bit counts): the same bytes labelled 2 read the same. */
        m[4] = 2;
        s = tfb__gguf_open_mem(path, m, n, &f);
        CHECK(s == TFB_STATUS_OK && f.version == 2, "v2: %s", tfb_error_last());
        if (s == TFB_STATUS_OK)
            tfb__gguf_close(&f);
        /* Every prefix of the file that cuts a tensor or the header is refused, never read past
         * (the writer pads after the last tensor; cutting only that padding leaves a valid file). */
        size_t end = 0;
        if (tfb__gguf_open_mem(path, m, n, &f) == TFB_STATUS_OK) {
            for (int64_t i = 0; i < f.n_t; i++)
                if (f.data_start + f.t[i].offset + f.t[i].nbytes > end)
                    end = (size_t)(f.data_start + f.t[i].offset + f.t[i].nbytes);
            tfb__gguf_close(&f);
        }
        CHECK(end > 0 && end <= n, "end %zu", end);
        for (size_t cut = 0; cut < end; cut++) {
            char *c = malloc(cut ? cut : 1);
            memcpy(c, m, cut);
            s = tfb__gguf_open_mem(path, c, cut, &f);
            CHECK(s == TFB_STATUS_INPUT, "prefix of %zu bytes: %d", cut, (int)s);
            if (s == TFB_STATUS_OK)
                tfb__gguf_close(&f);
            free(c);
        }
        free(m);
    }
    cJSON_Delete(exp);
    free(js);

    /* The valid file the malformed ones are made from, then each kind. */
    static buf o;
    make(&o, NULL);
    tfb__gguf_file f;
    CHECK(tfb__gguf_open_mem("good", o.b, o.n, &f) == TFB_STATUS_OK, "good: %s", tfb_error_last());
    tfb__gguf_close(&f);
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    for (int k = 0; k < N_BAD; k++)
        check_bad(tmp, k);
    if (failures)
        fprintf(stderr, "%d failures\n", failures);
    else
        printf("test_gguf: ok (%d malformed kinds)\n", N_BAD);
    return failures ? 1 : 0;
}
