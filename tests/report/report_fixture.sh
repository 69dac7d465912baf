#!/bin/sh
# tfbench report on the committed fixture: every figure, data file and table is there, the PNGs are
# PNGs, the data files hold the fixture's numbers, report.md links every figure, tables.tex is booktabs;
# an existing report is not overwritten without --force.
# usage: report_fixture.sh TFBENCH FIXTURES WORKDIR
set -eu
cli=$1 fx=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir"
out=$dir/out
fail() { echo "FAIL: $*"; exit 1; }

"$cli" report "$fx/results.json" "$fx/kernels.json" -o "$out" --format png,svg >"$dir/stdout" 2>"$dir/stderr" ||
    { cat "$dir/stderr"; fail "report exited $?"; }
[ ! -s "$dir/stderr" ] || { cat "$dir/stderr"; fail "unexpected stderr"; }

for fig in throughput context kv_reuse prefix_reuse quant_tradeoff threads roofline; do
    [ -s "$out/$fig.gp" ] || fail "$fig.gp missing"
    for fmt in png svg; do
        [ -s "$out/$fig.$fmt" ] || fail "$fig.$fmt missing"
    done
    # PNG magic: 89 50 4E 47 0D 0A 1A 0A
    [ "$(head -c 8 "$out/$fig.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "$fig.png is not a PNG"
    grep -q '<svg' "$out/$fig.svg" || fail "$fig.svg is not SVG"
    grep -q "($fig.png)" "$out/report.md" || fail "report.md does not show $fig.png"
done
for f in report.md tables.tex throughput_prefill_0.dat throughput_decode_0.dat context_decode_0.dat context_prefill_0.dat \
         kv_reuse_0.dat prefix_reuse_0.dat quant_tradeoff.dat threads.dat roofline.dat \
         context_decode_share_0.dat context_prefill_share_0.dat; do
    [ -s "$out/$f" ] || fail "$f missing"
done
grep -q 'Skipped' "$out/report.md" && fail "a figure was skipped on the full fixture"

# The fixture's numbers, in the data files (values as the fixture writes them).
has() { grep -q -- "$2" "$out/$1" || fail "$1 lacks $2"; }
# throughput: one panel per model and phase, a line per test, a (median, ci) pair per series
has throughput_prefill_0.dat '^# gpt2-tiny tokens/s'
has throughput_prefill_0.dat '^# test "reference f32 1t" ci95 .* "simd q8_0 2t" ci95$'
has throughput_prefill_0.dat '^"pp16" 1000.25 20 .* 21000.2 420$'    # 8000*1.5*1.75 + 0.25, ci 2%
has throughput_decode_0.dat '^"tg4@d0" 250.5 10 438 17.5 375.5 15 '   # reference q8_0 1t third: depth 0
has throughput_decode_0.dat '^"tg4@d16" 234.5 10 422 17.5 359.5 15 '  # and depth 16
has throughput.gp 'set multiplot layout 2,2'                        # gpt2-tiny and bert-tiny, prefill over decode
has throughput.gp 'lc rgb "#1f77b4"'                                # simd's colour in every figure
has throughput.gp 'set logscale y'                                  # 250 to 5250 tokens/s: a log axis
has context.gp 'lc rgb "#555555"'                                   # the reference's
has throughput.gp 'caption = "Fixture CPU 9000'                     # machine, commit, date under the title
has kv_reuse_0.dat '^16 4.5 0.1$'                                    # simd: 2.5 + 16/8 + 1
has prefix_reuse_0.dat '^# test "reference f32" ci95 "reference q8_0" ci95 "simd f32" ci95 "simd q8_0" ci95$'
has prefix_reuse_0.dat '^"prefix8+4x2" 1.6 0.05 1.7 0.05 1.6 0.05 1.7 0.05$'  # one panel per model, its series
has prefix_reuse.gp 'set multiplot layout 1,1'
has quant_tradeoff.dat '^0.00456 0.0001 5250.5 210 tg4@d0$'       # simd q8_0 at 2 threads (default), depth 0
has quant_tradeoff.dat '^0 0 [0-9.]* [0-9.]* tg4@d0$'                      # the f32 model at KL 0
has quant_tradeoff.dat '^0.0021 0.0001 12000 120 encode16$'   # an encoder: its encode speed (it has no decode)
has quant_tradeoff.dat '^0 0 9000 90 encode16$'               # and its f32 point
has quant_tradeoff.gp 'set ylabel "prefill / encode throughput'
has context_decode_share_0.dat '^16 0.2 0$'                          # attention share beside decode time
has context_prefill_share_0.dat '^4 0.03 0$'
has context.gp 'context_decode_share_0.dat" index 0 using ($1 < 1 ? 1 : $1):($2\*100) axes x1y2 with linespoints lc rgb "#1f77b4" pt 6'
has context.gp 'set y2label "attention share'
has context_decode_0.dat '^16 0.66 0.01$'                           # simd f32: 1000/2000 + 16*0.01 ms, rows already in ms
has context_prefill_0.dat '^4 253 5$'                               # reference f32: 1000*4/16 + 3
has threads.dat '^2 14000.2 280$'                                 # simd f32 pp16 at 2 threads
has roofline.dat '^4.26673 2.0971 0 0.4915 matmul/reference/f32/64x64x64$'
grep -q 'roof: 42 GB/s, 321 GFLOP/s' "$out/roofline.gp" || fail "roofline.gp lacks the probe's roof"
grep -q '\\toprule' "$out/tables.tex" || fail "tables.tex has no \\toprule"
grep -q '\\bottomrule' "$out/tables.tex" || fail "tables.tex has no \\bottomrule"
grep -q 'Fixture CPU 9000' "$out/report.md" || fail "report.md lacks the machine's environment"
grep -q 'fixture-host' "$out/report.md" || fail "report.md lacks the kernel file's host"

# The scripts re-render on their own.
rm "$out/threads.png"
(cd "$out" && gnuplot threads.gp) || fail "gnuplot threads.gp failed"
[ -s "$out/threads.png" ] || fail "threads.gp did not re-render threads.png"

# No overwrite without --force (exit 2, file untouched), then --force works.
before=$(cksum <"$out/report.md")
if "$cli" report "$fx/results.json" -o "$out" 2>"$dir/err2"; then fail "overwrote without --force"; fi
grep -q '^tfbench: .*exists (use --force' "$dir/err2" || { cat "$dir/err2"; fail "no 'exists' message"; }
[ "$(cksum <"$out/report.md")" = "$before" ] || fail "report.md changed without --force"
"$cli" report "$fx/results.json" -o "$out" --force 2>/dev/null || fail "--force did not overwrite"
[ "$(cksum <"$out/report.md")" != "$before" ] || fail "--force left report.md as it was"
# Two machines side by side: the same file from another CPU gets its own series, labelled by host.
sed 's/Fixture CPU 9000/Other CPU 7000/' "$fx/results.json" >"$dir/other.json"
"$cli" report "$fx/results.json" "$dir/other.json" -o "$dir/two" 2>/dev/null || fail "two hosts: failed"
has2() { grep -q -- "$2" "$dir/two/$1" || fail "two hosts: $1 lacks $2"; }
has2 throughput_prefill_0.dat '"Fixture CPU 9000 x2 / simd q8_0 2t" ci95'
has2 throughput_prefill_0.dat '"Other CPU 7000 x2 / simd q8_0 2t" ci95'
grep -q '^### Other CPU 7000 x2' "$dir/two/report.md" || fail "two hosts: no environment section for the second"
# The suite measures f32 speed in one run and the quantized dtypes in another (same machine): the f32
# point at KL 0 takes its speed from the other file.
python3 - "$fx/results.json" "$dir" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
rows = d["results"]
for name, keep in (("speed", lambda r: r["kind"] != "quant" and r["dtype"] == "f32"),
                   ("quant", lambda r: r["kind"] == "quant" or r["dtype"] != "f32")):
    json.dump(dict(d, results=[r for r in rows if keep(r)]), open(f"{sys.argv[2]}/{name}.json", "w"))
EOF
"$cli" report "$dir/quant.json" "$dir/speed.json" -o "$dir/split" 2>/dev/null || fail "split runs: failed"
grep -q '^0 0 3500.5 140 tg4@d0$' "$dir/split/quant_tradeoff.dat" || fail "split runs: no f32 point at KL 0"
echo ok
