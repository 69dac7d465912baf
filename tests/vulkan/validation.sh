#!/bin/sh
# validation.sh CLI MODEL DTYPE [PLANT]: `tfbench run` on the Vulkan backend with the Khronos
# validation layer (and synchronization validation) enabled through TFB_VK_VALIDATION=1. The backend
# counts every warning/error message of its debug-utils messenger and fails the run; this script
# also fails on any validation text on stderr. PLANT (CLI = tfbench-faults) plants a fault inside the
# backend through TFB_PLANT (vk-bad-barrier: a barrier with an access mask its stage cannot perform,
# vk-no-barriers: no barriers between nodes) that must make it fail with the layer's message for that
# fault (expect_fail.sh tests).
set -u
cli=$1 model=$2 dtype=$3
plant=${4:-}
src=""
case $model in marian* | t5*) src="--source-tokens 3,17,99,240,5,61,7" ;; esac
err=$(mktemp)
TFB_VK_VALIDATION=1 TFB_PLANT=$plant "$cli" run --model "$model" --dtype "$dtype" --backend vulkan \
  --tokens 5,7,9,11,200,300,17,42 --n-gen 8 $src 2>"$err"
rc=$?
cat "$err" >&2
if [ $rc -ne 0 ] || grep -qi "validation" "$err"; then
  rm -f "$err"
  echo "FAIL: validation messages or exit $rc"
  exit 1
fi
rm -f "$err"
echo "ok: validation layer clean on $model $dtype"
