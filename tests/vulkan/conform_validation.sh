#!/bin/sh
# conform_validation.sh CLI [PLANT]: `tfbench conform --backend vulkan --model all --dtype all` with the
# Khronos validation layer on (TFB_VK_VALIDATION=1): must pass with no validation message on stderr.
# PLANT (CLI = tfbench-faults): a fault planted inside the backend (TFB_PLANT, backends/planted.h).
set -u
cli=$1
plant=${2:-}
err=$(mktemp)
TFB_VK_VALIDATION=1 TFB_PLANT=$plant "$cli" conform --backend vulkan --model all --dtype all --quiet 2>"$err"
rc=$?
grep -i "validation" "$err" | head -5 >&2
if [ $rc -ne 0 ] || grep -qi "validation" "$err"; then
  rm -f "$err"
  echo "FAIL: conform exit $rc or validation messages"
  exit 1
fi
rm -f "$err"
echo "ok: conform passes with the validation layer clean"
