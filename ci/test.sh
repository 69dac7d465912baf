#!/usr/bin/env bash
# The whole test suite: release build with warnings as errors, the conformance matrix, a short
# fuzz run of every parser of untrusted files, then the same suite under AddressSanitizer +
# UndefinedBehaviorSanitizer (tests labelled slow are skipped there).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

echo "== release build (warnings as errors)"
cmake --preset default
cmake --build --preset default -j "$jobs"
ctest --preset default

echo "== conformance matrix (PoCL and lavapipe required: a lost driver fails the job; the reference and"
echo "   simd must take part in the --act q8 pass: a lost int8 path fails it too)"
bash ci/conform-matrix.sh --tfbench build/tfbench --out build/conform-matrix --require reference,simd,opencl,vulkan \
  --require-act reference,simd

echo "== fuzz smoke (libFuzzer, clang, ASan+UBSan): every parser of untrusted files, 30 s each"
bash ci/fuzz-smoke.sh 30

echo "== ASan + UBSan build"
cmake --preset asan
cmake --build --preset asan -j "$jobs"
ctest --preset asan
