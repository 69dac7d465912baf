#!/usr/bin/env bash
# The whole test suite: release build with warnings as errors, then the same suite under
# AddressSanitizer + UndefinedBehaviorSanitizer (tests labelled slow are skipped there).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

echo "== release build (warnings as errors)"
cmake --preset default
cmake --build --preset default -j "$jobs"
ctest --preset default

echo "== ASan + UBSan build"
cmake --preset asan
cmake --build --preset asan -j "$jobs"
ctest --preset asan
