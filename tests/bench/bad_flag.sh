#!/bin/sh
# A bad flag exits 2 with exactly one `tfbench: ...` line on stderr and leaves no file behind.
# usage: bad_flag.sh TFBENCH WORKDIR [--existing] -- bench arguments (OUT stands for WORKDIR/out.json)
set -u
cli=$1 dir=$2
shift 2
rm -rf "$dir" && mkdir -p "$dir"
if [ "$1" = "--existing" ]; then
    echo '{"keep": true}' >"$dir/out.json"
    shift
fi
[ "$1" = "--" ] && shift
before=$(ls -A "$dir" | sort)
args=""
for a in "$@"; do
    [ "$a" = OUT ] && a="$dir/out.json"
    args="$args '$a'"
done
eval "\"$cli\" bench $args" >"$dir/../$(basename "$dir").stdout" 2>"$dir/../$(basename "$dir").stderr"
rc=$?
err="$dir/../$(basename "$dir").stderr"
[ "$rc" -eq 2 ] || { echo "exit $rc, expected 2"; cat "$err"; exit 1; }
[ "$(wc -l <"$err")" -eq 1 ] || { echo "expected one line on stderr:"; cat "$err"; exit 1; }
grep -q '^tfbench: ' "$err" || { echo "stderr does not start with 'tfbench: '"; cat "$err"; exit 1; }
after=$(ls -A "$dir" | sort)
[ "$before" = "$after" ] || { echo "files changed: [$before] -> [$after]"; exit 1; }
if [ -f "$dir/out.json" ] && ! grep -q keep "$dir/out.json"; then
    echo "existing file was overwritten"; exit 1
fi
cat "$err"
