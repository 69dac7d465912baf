#!/bin/sh
# Bad inputs to tfbench report: exit 2, one `tfbench: <file>: <what>` line, and no report at all.
# Without gnuplot: exit 2 with the render command, data and scripts written.
# usage: report_bad.sh TFBENCH FIXTURES WORKDIR
set -eu
cli=$1 fx=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }

printf '{"schema": "tfbench-results/1", "results": [' >"$dir/truncated.json"
printf '{"schema": "something-else/2", "results": []}' >"$dir/schema.json"
printf '{"hello": 1}' >"$dir/neither.json"
printf '{"schema": "tfbench-results/1", "results": [{"backend": "x"}]}' >"$dir/row.json"
printf '{"context": {}, "benchmarks": [{"name": "x"}]}' >"$dir/gbench.json"

check() { # check NAME EXPECTED-SUBSTRING FILES...
    name=$1 want=$2
    shift 2
    rc=0
    "$cli" report "$@" -o "$dir/out_$name" >"$dir/$name.out" 2>"$dir/$name.err" || rc=$?
    [ "$rc" -eq 2 ] || fail "$name: exit $rc, expected 2"
    [ "$(wc -l <"$dir/$name.err")" -eq 1 ] || { cat "$dir/$name.err"; fail "$name: not one line on stderr"; }
    grep -q "^tfbench: $want" "$dir/$name.err" || { cat "$dir/$name.err"; fail "$name: message"; }
    [ ! -e "$dir/out_$name" ] || fail "$name: left a partial report"
}
# A bad file after a good one still writes nothing.
check missing "$dir/nope.json: cannot open" "$fx/results.json" "$dir/nope.json"
check invalid "$dir/truncated.json: not valid JSON" "$fx/results.json" "$dir/truncated.json"
check schema "$dir/schema.json: unknown schema" "$dir/schema.json"
check neither "$dir/neither.json: neither a tfbench results file" "$dir/neither.json"
check row "$dir/row.json: results\[0\]: missing or mistyped field" "$dir/row.json"
check gbench "$dir/gbench.json: benchmarks\[0\]: no name or real_time" "$dir/gbench.json"
check dir "$fx: cannot open\|$fx: read failed" "$fx"
check format "--format: 'gif' is not one of" "$fx/results.json" --format gif
rc=0
"$cli" report "$fx/results.json" 2>"$dir/noout.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q '^tfbench: report: -o DIR is required' "$dir/noout.err" || fail "no -o: exit $rc"

# gnuplot missing: data, scripts and report.md are written, the error says how to render, exit 2.
rc=0
TFBENCH_GNUPLOT=/nonexistent/gnuplot "$cli" report "$fx/results.json" -o "$dir/nognuplot" 2>"$dir/nognuplot.err" || rc=$?
[ "$rc" -eq 2 ] || fail "no gnuplot: exit $rc, expected 2"
grep -q "^tfbench: report: gnuplot not found; render with: cd $dir/nognuplot && for f in \*.gp; do gnuplot \"\$f\"; done$" \
    "$dir/nognuplot.err" || { cat "$dir/nognuplot.err"; fail "no gnuplot: message"; }
[ -s "$dir/nognuplot/throughput.gp" ] && [ -s "$dir/nognuplot/throughput_prefill_0.dat" ] &&
    [ -s "$dir/nognuplot/report.md" ] || fail "no gnuplot: data and scripts not written"
[ ! -e "$dir/nognuplot/throughput.png" ] || fail "no gnuplot: a PNG appeared"

# A figure without data is skipped with a note, not drawn empty: the kernel file alone has no
# throughput rows, the results file alone has no roofline.
"$cli" report "$fx/kernels.json" -o "$dir/kernels_only" 2>/dev/null || fail "kernels only: failed"
grep -q '^\*Skipped: no prefill' "$dir/kernels_only/report.md" || fail "kernels only: throughput not skipped"
[ ! -e "$dir/kernels_only/throughput.gp" ] || fail "kernels only: empty throughput figure written"
[ -s "$dir/kernels_only/roofline.png" ] || fail "kernels only: no roofline"
"$cli" report "$fx/results.json" -o "$dir/results_only" 2>/dev/null || fail "results only: failed"
grep -q '^\*Skipped: no kernel microbenchmarks' "$dir/results_only/report.md" || fail "results only: roofline not skipped"
echo ok
