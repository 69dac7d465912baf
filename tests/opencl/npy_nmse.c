/* npy_nmse A.npy B.npy MAX: NMSE of float32 .npy A against reference B (same element count).
 * Exit 0 if NMSE <= MAX, 1 if above, on a NaN/inf, or on a size mismatch; 2 on unreadable input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The float32 payload of a version 1.0 .npy file; *n gets its element count. */
static float *load(const char *path, long *n) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "npy_nmse: %s: cannot open\n", path);
        return NULL;
    }
    unsigned char head[10];
    float *data = NULL;
    if (fread(head, 1, 10, f) == 10 && memcmp(head, "\x93NUMPY", 6) == 0 && head[6] == 1 &&
        fseek(f, 0, SEEK_END) == 0) {
        long hlen = 10 + head[8] + 256L * head[9];
        long size = ftell(f);
        *n = (size - hlen) / 4;
        if (*n >= 0 && fseek(f, hlen, SEEK_SET) == 0 && (data = malloc((size_t)*n * 4 + 4)) != NULL &&
            fread(data, 4, (size_t)*n, f) != (size_t)*n) {
            free(data);
            data = NULL;
        }
    }
    if (!data)
        fprintf(stderr, "npy_nmse: %s: not a readable float32 .npy file\n", path);
    fclose(f);
    return data;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: npy_nmse A.npy REF.npy MAX\n");
        return 2;
    }
    long na, nb;
    float *a = load(argv[1], &na), *b = load(argv[2], &nb);
    if (!a || !b)
        return 2;
    if (na != nb || na == 0) {
        printf("npy_nmse: %ld elements vs %ld\n", na, nb);
        return 1;
    }
    double num = 0, den = 0;
    for (long i = 0; i < na; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i])) {
            printf("npy_nmse: element %ld not finite (%g vs %g)\n", i, a[i], b[i]);
            return 1;
        }
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    double nmse = den > 0 ? num / den : INFINITY;
    double max = atof(argv[3]);
    printf("nmse %.3g (max %.0e) over %ld logits\n", nmse, max, na);
    free(a);
    free(b);
    return nmse <= max ? 0 : 1;
}
