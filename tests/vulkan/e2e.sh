#!/bin/sh
# e2e.sh CLI MODEL DTYPE [--plant]: greedy tokens of `tfbench run` on the Vulkan backend must equal
# the reference's. With --plant (CLI = tfbench-faults) the Vulkan side runs through the planted-fault
# wrapper with matmul dropping its bias, so the tokens must differ and this script fails with the
# "tokens differ" line (the test wraps it in expect_fail.sh, which requires that line).
set -u
cli=$1 model=$2 dtype=$3
plant=${4:-}
src=""
case $model in marian* | t5*) src="--source-tokens 3,17,99,240,5,61,7" ;; esac
toks=5,7,9,11,200,300,17,42,101,7,33,127
ref=$("$cli" run --model "$model" --dtype "$dtype" --tokens $toks --n-gen 16 $src) || exit 1
if [ "$plant" = "--plant" ]; then
  vk=$(TFB_FAULT=bias TFB_FAULT_BASE=vulkan "$cli" run --model "$model" --dtype "$dtype" --backend fault \
    --tokens $toks --n-gen 16 $src) || exit 1
else
  vk=$("$cli" run --model "$model" --dtype "$dtype" --backend vulkan --tokens $toks --n-gen 16 $src) || exit 1
fi
if [ "$ref" != "$vk" ]; then
  echo "FAIL $model $dtype: vulkan tokens differ from the reference"
  echo "reference: $ref"
  echo "vulkan:    $vk"
  exit 1
fi
echo "ok $model $dtype: $vk"
