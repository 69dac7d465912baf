#!/bin/sh
# `tfbench conform --backend B --model all --dtype all` must pass for every backend built here.
# Exits 77 (skipped) when B is not compiled in or cannot run on this machine.
#   backend.sh TFBENCH BACKEND WORKDIR [extra conform args...]
set -u
tfbench=$1 backend=$2 dir=$3
shift 3
rm -rf "$dir" && mkdir -p "$dir"
"$tfbench" conform --backend "$backend" --model all --dtype all --junit "$dir/conform.xml" "$@" >"$dir/out.txt" 2>"$dir/err.txt"
rc=$?
if [ $rc = 2 ] && grep -q "not compiled in" "$dir/err.txt"; then
    echo "$backend is not compiled in: skipped"
    exit 77
fi
if [ $rc = 3 ]; then
    echo "$backend is unavailable here: skipped"; grep unavailable "$dir/out.txt"
    exit 77
fi
tail -1 "$dir/out.txt"
if [ $rc != 0 ]; then
    sed -n '/^failed:/,$p' "$dir/out.txt"; cat "$dir/err.txt"
fi
exit $rc
