#!/usr/bin/env bash
# End to end on the OpenCL backend: `tfbench run` greedy tokens identical to the reference's, and the
# logits of every position within NMSE 1e-6 of the reference's (both sides dequantize the same weight
# bits; only float vs double accumulation differs, ~1e-11 measured).
#   e2e.sh TFBENCH NPY_NMSE MODEL DTYPE [--plant]
# --plant runs the OpenCL side with another weight seed: the comparison must then fail, which is
# the proof that it can (the script exits 0 only if it did).
set -u
tfb=$1 nmse=$2 model=$3 dtype=$4 plant=${5:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case $model in
  gpt2-*) args=(--tokens 1,2,3,4,5,6,7 --n-gen 16) ;;
  bert-*) args=(--tokens 1,2,3,4,5,6,7,8,9,10,11,12,13) ;;
  marian-*) args=(--source-tokens 5,6,7,8,9,10,11 --n-gen 12) ;;
  llama-*) args=(--tokens 5,7,9,11,200,300,17,42,101,7,33,127 --n-gen 16) ;;
  t5-*) args=(--source-tokens 3,17,99,240,5,61,7 --tokens 5,7,9 --n-gen 12) ;;
  *) echo "e2e.sh: unknown model $model"; exit 2 ;;
esac
dump=(--dump-logits)
ref_args=("${args[@]}")
ocl_args=("${args[@]}")
[ "$plant" = --plant ] && ocl_args+=(--seed 12345)

fails=0
ref=$("$tfb" run --model "$model" --dtype "$dtype" --backend reference "${ref_args[@]}" \
      ${dump[@]:+"${dump[@]}" "$tmp/ref.npy"}) || { echo "FAIL: reference run"; exit 1; }
ocl=$("$tfb" run --model "$model" --dtype "$dtype" --backend opencl "${ocl_args[@]}" \
      ${dump[@]:+"${dump[@]}" "$tmp/ocl.npy"}) || { echo "FAIL: opencl run"; exit 1; }
echo "reference: $ref"
echo "opencl:    $ocl"
[ "$ref" = "$ocl" ] || { echo "FAIL: tokens differ"; fails=$((fails + 1)); }
if [ ${#dump[@]} -gt 0 ]; then
  "$nmse" "$tmp/ocl.npy" "$tmp/ref.npy" 1e-6 || { echo "FAIL: logits differ"; fails=$((fails + 1)); }
fi
if [ "$plant" = --plant ]; then
  [ $fails -gt 0 ] && { echo "planted difference caught"; exit 0; }
  echo "FAIL: planted difference NOT caught"; exit 1
fi
exit $((fails > 0))
