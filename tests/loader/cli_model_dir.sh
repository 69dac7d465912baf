#!/bin/sh
# usage: cli_model_dir.sh TEST_LOADER TFBENCH DIR KIND
# Writes a model directory with `TEST_LOADER --make-bad DIR KIND` (or --make-good when KIND is
# "good") and runs `TFBENCH run` on it with the reference backend. A malformed directory must
# exit 2 with stderr starting "tfbench: " and naming the directory; a good one must exit 0.
set -u
gen=$1 cli=$2 dir=$3 kind=$4
rm -rf "$dir" "$dir.stderr"
if [ "$kind" = good ]; then
    "$gen" --make-good "$dir" || { echo "cannot make $dir"; exit 1; }
else
    "$gen" --make-bad "$dir" "$kind" || { echo "cannot make $dir"; exit 1; }
fi
"$cli" run --model "$dir" --backend reference --tokens 1,2 --n-gen 1 >/dev/null 2>"$dir.stderr"
rc=$?
echo "exit $rc, stderr:"
cat "$dir.stderr"
if [ "$kind" = good ]; then
    [ $rc -eq 0 ] || { echo "FAIL: expected exit 0 for a valid directory"; exit 1; }
    rm -rf "$dir" "$dir.stderr"
    exit 0
fi
[ $rc -eq 2 ] || { echo "FAIL: expected exit 2, got $rc"; exit 1; }
first=$(head -n 1 "$dir.stderr")
case "$first" in
    "tfbench: "*) ;;
    *) echo "FAIL: stderr does not start with 'tfbench: '"; exit 1 ;;
esac
case "$first" in
    *"$dir"*) ;;
    *) echo "FAIL: the message does not name the model directory $dir"; exit 1 ;;
esac
if grep -q "Sanitizer" "$dir.stderr"; then
    echo "FAIL: sanitizer report"
    exit 1
fi
rm -rf "$dir" "$dir.stderr"
exit 0
