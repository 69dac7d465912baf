#!/bin/sh
# Cross-build the SIMD backend's tests (ops, act_q8 rounding, softmax, norm) for AArch64 (NEON kernels)
# and run them under qemu-user.
#
# The test needs only the core, the reference backend, the registry, the SIMD backend and the one op
# definition (harness/opdef.c: the op shapes and the tolerance table), none of which use cJSON, so it is compiled straight with the cross compiler (no CMake cross build, no
# arm64 cJSON package). Exit 77 (the ctest SKIP_RETURN_CODE) when the cross compiler or qemu is
# missing; any other failure is a failure.
# usage: ci/neon-test.sh [BUILD_DIR]
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-${TMPDIR:-/tmp}/tfbench-neon}
cc=${AARCH64_CC:-aarch64-linux-gnu-gcc}
qemu=${QEMU_AARCH64:-qemu-aarch64-static}
sysroot=${AARCH64_SYSROOT:-/usr/aarch64-linux-gnu}

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "SKIP: cross compiler $cc not found (Debian package gcc-aarch64-linux-gnu)"
    exit 77
fi
if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "SKIP: $qemu not found (Debian package qemu-user-static)"
    exit 77
fi
mkdir -p "$out" || exit 1
set -e
flags="-std=c11 -O2 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter -Wno-format-truncation -Werror
    -D_POSIX_C_SOURCE=200809L -DTFB_WITH_SIMD -I$src/include -I$src -I$src/harness"
lib="$src/core/status.c $src/core/tensor.c $src/core/graph.c
    $src/reference/reference.c $src/reference/ops.c
    $src/backends/registry.c $src/backends/backend.c
    $src/backends/simd/simd.c $src/backends/simd/pool.c $src/backends/simd/matmul.c $src/backends/simd/ops.c
    $src/kernels/simd/scalar.c $src/kernels/simd/neon.c $src/harness/opdef.c"
# shellcheck disable=SC2086 # $flags and $lib are word lists (paths without spaces)
for t in test_simd_ops test_simd_quant test_simd_softmax test_simd_norm; do
    "$cc" $flags $lib "$src/tests/simd/$t.c" -o "$out/$t" -lm -lpthread
done
set +e
echo "built $out/test_simd_ops ($(file -b "$out/test_simd_ops" 2>/dev/null | cut -d, -f1-2))"
"$qemu" -L "$sysroot" "$out/test_simd_quant" || exit 1
"$qemu" -L "$sysroot" "$out/test_simd_softmax" || exit 1
"$qemu" -L "$sysroot" "$out/test_simd_norm" || exit 1
"$qemu" -L "$sysroot" "$out/test_simd_ops"
