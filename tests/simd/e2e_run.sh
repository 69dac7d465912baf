#!/bin/sh
# End to end: greedy generation of gpt2-tiny, bert-tiny and marian-tiny with every weight dtype on
# every SIMD path this build and CPU have must give exactly the reference's tokens.
# usage: e2e_run.sh TFBENCH
cli=$1
fail=0
ran=0
for model in gpt2-tiny bert-tiny marian-tiny; do
    case $model in
    marian-tiny) input="--source-tokens 5,6,7,8,9,10,11" ;;
    *) input="--tokens 1,2,3,4,5,6,7" ;;
    esac
    for dt in f32 f16 bf16 q8_0 q4_0; do
        # shellcheck disable=SC2086
        want=$("$cli" run --model $model --backend reference --dtype $dt $input --n-gen 24) || {
            echo "FAIL reference $model $dt: exit $?"
            fail=1
            continue
        }
        for path in avx512 avx2 neon scalar; do
            # shellcheck disable=SC2086
            got=$("$cli" run --model $model --backend simd --isa $path --threads 2 --dtype $dt $input --n-gen 24 2>/tmp/e2e_err.$$)
            rc=$?
            if [ $rc -eq 3 ] || { [ $rc -eq 2 ] && grep -q "unknown path" /tmp/e2e_err.$$; }; then
                continue # path not built here or not supported by this CPU
            fi
            if [ $rc -ne 0 ]; then
                echo "FAIL $path $model $dt: exit $rc: $(cat /tmp/e2e_err.$$)"
                fail=1
            elif [ "$got" != "$want" ]; then
                echo "FAIL $path $model $dt: tokens differ"
                echo "  reference: $want"
                echo "  simd:      $got"
                fail=1
            else
                echo "ok   $path $model $dt: $got"
                ran=$((ran + 1))
            fi
        done
    done
done
rm -f /tmp/e2e_err.$$
# The environment variable forces a path too, and `tfbench list` says which one is in use.
if ! TFB_SIMD_ISA=scalar "$cli" list | grep -q "path scalar"; then
    echo "FAIL: TFB_SIMD_ISA=scalar is not reflected in tfbench list"
    fail=1
fi
if [ $ran -eq 0 ]; then
    echo "FAIL: no simd path ran"
    exit 1
fi
exit $fail
