/* `tfbench gguf-info FILE.gguf`: the metadata (arrays abbreviated) and the tensor table of a GGUF
 * file, read through the public GGUF API (include/tfbench/gguf.h). A malformed file is one line and
 * exit 2. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tfbench/gguf.h"

/* Array elements shown before "...". */
#define GGUF_INFO_SHOWN 8
/* String bytes shown before "...". */
#define GGUF_INFO_STR 64

/* A string as a JSON-like quoted literal, cut at max bytes; control bytes and quotes escaped. */
static void put_str(FILE *o, const tfb_gguf_str *s, uint64_t max) {
    fputc('"', o);
    for (uint64_t i = 0; i < s->len && i < max; i++) {
        unsigned char c = (unsigned char)s->s[i];
        if (c == '"' || c == '\\')
            fprintf(o, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(o, "\\x%02x", c);
        else
            fputc(c, o);
    }
    fputc('"', o);
    if (s->len > max)
        fprintf(o, "...(%" PRIu64 " bytes)", s->len);
}

static void put_value(FILE *o, const tfb_gguf_value *v) {
    switch (v->type) {
    case TFB_GGUF_UINT8:
    case TFB_GGUF_UINT16:
    case TFB_GGUF_UINT32:
    case TFB_GGUF_UINT64:
        fprintf(o, "%" PRIu64, v->u);
        break;
    case TFB_GGUF_INT8:
    case TFB_GGUF_INT16:
    case TFB_GGUF_INT32:
    case TFB_GGUF_INT64:
        fprintf(o, "%" PRId64, v->i);
        break;
    case TFB_GGUF_FLOAT32:
    case TFB_GGUF_FLOAT64:
        fprintf(o, "%.9g", v->f);
        break;
    case TFB_GGUF_BOOL:
        fputs(v->u ? "true" : "false", o);
        break;
    case TFB_GGUF_STRING:
        put_str(o, &v->str, GGUF_INFO_STR);
        break;
    case TFB_GGUF_ARRAY:
        fputc('[', o);
        for (uint64_t i = 0; i < v->arr.n && i < GGUF_INFO_SHOWN; i++) {
            fputs(i ? ", " : "", o);
            put_value(o, &v->arr.v[i]);
        }
        if (v->arr.n > GGUF_INFO_SHOWN)
            fprintf(o, ", ... %" PRIu64 " in all", v->arr.n);
        fputc(']', o);
        break;
    default:
        fputs("?", o);
        break;
    }
}

static void put_type(FILE *o, const tfb_gguf_value *v) {
    if (v->type != TFB_GGUF_ARRAY) {
        fputs(tfb_gguf_type_name(v->type), o);
        return;
    }
    fprintf(o, "ARRAY[%" PRIu64 "] of ", v->arr.n);
    /* The element type of an empty nested array is its own; show the outer element type only. */
    fputs(tfb_gguf_type_name(v->arr.type), o);
}

int tfb_cmd_gguf_info(int argc, char **argv) {
    if (argc != 2 || argv[1][0] == '-')
        return tfb_cli_usage("gguf-info", "usage: tfbench gguf-info FILE.gguf");
    tfb_gguf_t *g = NULL;
    tfb_status s = tfb_gguf_open(argv[1], &g);
    if (s != TFB_STATUS_OK) {
        /* The reader's message already starts with the file name. */
        fprintf(stderr, "tfbench: %s\n", tfb_error_last());
        return tfb_cli_exit_code(s);
    }
    tfb_gguf_header h;
    tfb_gguf_get_header(g, &h);
    FILE *o = stdout;
    fprintf(o,
            "%s: GGUF version %u, alignment %u, %" PRId64 " metadata keys, %" PRId64
            " tensors, data section at byte %" PRIu64 " (%" PRIu64 " bytes)\n",
            argv[1], h.version, h.alignment, h.n_kv, h.n_tensors, h.data_start, h.data_size);
    fprintf(o, "\nmetadata:\n");
    for (int64_t i = 0; i < h.n_kv; i++) {
        fputs("  ", o);
        put_str(o, tfb_gguf_key(g, i), 256);
        fputs(" ", o);
        put_type(o, tfb_gguf_value_of(g, i));
        fputs(" = ", o);
        put_value(o, tfb_gguf_value_of(g, i));
        fputc('\n', o);
    }
    fprintf(o, "\ntensors:\n  %-40s %-8s %-28s %12s %12s  %s\n", "name", "type", "dims", "offset", "bytes",
            "as stored");
    for (int64_t i = 0; i < h.n_tensors; i++) {
        tfb_gguf_tensor_info t;
        tfb_gguf_tensor(g, i, &t);
        char dims[96];
        int k = 0;
        for (int d = 0; d < t.n_dims; d++)
            k += snprintf(dims + k, sizeof dims - (size_t)k, "%s%" PRId64, d ? " x " : "", t.ne[d]);
        tfb_dtype dt;
        bool ok = tfb_gguf_ggml_dtype(t.ggml_type, &dt);
        fputs("  ", o);
        put_str(o, t.name, 64);
        fprintf(o, "%*s %-8s %-28s %12" PRIu64 " %12" PRIu64 "  %s\n",
                t.name->len < 38 ? (int)(38 - t.name->len) : 0, "", tfb_gguf_ggml_name(t.ggml_type), dims,
                t.offset, t.nbytes, ok ? tfb_dtype_name(dt) : "(needs conversion)");
    }
    tfb_gguf_close(g);
    return TFB_EXIT_OK;
}
