#!/bin/sh
# usage: cli_gguf.sh TEST_GGUF TFBENCH FILE KIND
# Writes a GGUF file with `TEST_GGUF --make-bad FILE KIND` (--make-good when KIND is "good") and
# runs `TFBENCH gguf-info` on it. A malformed file must exit 2 with exactly one line on stderr,
# "tfbench: FILE: ...", and no sanitizer report; a good one must exit 0.
set -u
gen=$1 cli=$2 file=$3 kind=$4
rm -f "$file" "$file.stderr"
if [ "$kind" = good ]; then
    "$gen" --make-good "$file" || { echo "cannot make $file"; exit 1; }
else
    "$gen" --make-bad "$file" "$kind" || { echo "cannot make $file"; exit 1; }
fi
"$cli" gguf-info "$file" >/dev/null 2>"$file.stderr"
rc=$?
echo "exit $rc, stderr:"
cat "$file.stderr"
if [ "$kind" = good ]; then
    [ $rc -eq 0 ] || { echo "FAIL: expected exit 0 for a valid file"; exit 1; }
    [ -s "$file.stderr" ] && { echo "FAIL: stderr not empty"; exit 1; }
    rm -f "$file" "$file.stderr"
    exit 0
fi
[ $rc -eq 2 ] || { echo "FAIL: expected exit 2, got $rc"; exit 1; }
[ "$(wc -l <"$file.stderr")" -eq 1 ] || { echo "FAIL: expected exactly one line on stderr"; exit 1; }
case "$(cat "$file.stderr")" in
    "tfbench: $file: "*) ;;
    *) echo "FAIL: stderr is not 'tfbench: $file: ...'"; exit 1 ;;
esac
rm -f "$file" "$file.stderr"
exit 0
