/* NumPy .npy writer: format version 1.0, '<f4', C order, header padded to a multiple of 64. */
#include <string.h>

#include "cli.h"

tfb_status tfb_npy_write(const char *path, const float *data, int64_t rows, int64_t cols, bool force) {
    char dict[128];
    int dlen = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %lld), }",
                        (long long)rows, (long long)cols);
    /* magic(6) + version(2) + header length(2) + dict + padding + '\n' = multiple of 64 */
    int total = 10 + dlen + 1;
    int pad = (64 - total % 64) % 64;
    int hlen = dlen + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    tfb_atomic_file af;
    TFB_TRY(tfb_atomic_open(&af, path, force));
    fwrite(pre, 1, sizeof pre, af.f);
    fwrite(dict, 1, (size_t)dlen, af.f);
    for (int i = 0; i < pad; i++)
        fputc(' ', af.f);
    fputc('\n', af.f);
    /* The host is little-endian on every platform tfbench builds for (x86-64, aarch64). */
    fwrite(data, sizeof *data, (size_t)(rows * cols), af.f);
    return tfb_atomic_commit(&af);
}
