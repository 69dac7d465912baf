#!/bin/sh
# tfbench compare on two fixtures: pp16 20% faster (significant), tg4@d0 noise (not), tg4@d16 10% faster in
# the median but overlapping samples (rank test p = 0.68: not), ttft 3% slower with
# separated samples (rank test significant, under the 5% threshold: not), tpot 20% slower (significant).
# usage: compare_fixtures.sh TFBENCH FIXTURES_DIR
set -eu
cli=$1 fx=$2
out=$("$cli" compare "$fx/base.json" "$fx/new.json")
echo "$out"
expect() { echo "$out" | grep -q -- "$1" || { echo "missing: $1"; exit 1; }; }
expect '| pp16 | tokens_per_s | 100 | 120 | 1.200x | 0.0122 | better |'
expect '| tg4@d0 | tokens_per_s | 50 | 50 | 1.000x | 1 | ~ |'
expect '| tg4@d16 | tokens_per_s | 50 | 55 | 1.100x | 0.676 | ~ |'
expect '| pp16+tg4 | ttft_s | 0.01 | 0.0103 | 0.971x | 0.0122 | ~ |'
expect '| pp16+tg4 | tpot_s | 0.001 | 0.0012 | 0.833x | 0.0122 | WORSE |'
expect '5 rows matched (6 in base, 6 in new); 1 significantly better, 1 significantly worse'
# A lower threshold turns the 3% ttft change into a significant one.
out=$("$cli" compare "$fx/base.json" "$fx/new.json" --threshold 2)
expect '| pp16+tg4 | ttft_s | 0.01 | 0.0103 | 0.971x | 0.0122 | WORSE |'
# Not a results file: exit 2.
set +e
"$cli" compare "$fx/base.json" "$0" 2>/dev/null
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "compare of a non-results file exited $rc, expected 2"; exit 1; }
echo ok
