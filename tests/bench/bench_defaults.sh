#!/bin/sh
# Defaults that fit, --kinds, --progress and --dry-run.
# usage: bench_defaults.sh TFBENCH VALIDATOR WORKDIR
set -eu
cli=$1 validator=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
# No flag but the model: the defaults (pp 512, tg 64) are scaled to gpt2-tiny's 128-token context and
# the table says so; stderr is no terminal, so no progress lines.
"$cli" bench --model gpt2-tiny -r 2 -o "$dir/def.json" >"$dir/def.out" 2>"$dir/def.err" || fail "defaults: $(cat "$dir/def.err")"
grep -q "| gpt2-tiny | f32 | default | pp64 | tokens_per_s |" "$dir/def.out" || fail "no pp64 row"
grep -q "| gpt2-tiny | f32 | default | tg32@d0 | tokens_per_s |" "$dir/def.out" || fail "no tg32@d0 row"
grep -q "^gpt2-tiny: defaults scaled to fit its context of 128 tokens: tg 32 (default 64), pp 64 (default 512)$" \
    "$dir/def.out" || fail "the scaled defaults are not said"
[ ! -s "$dir/def.err" ] || fail "stderr without a terminal: $(cat "$dir/def.err")"
python3 "$validator" "$dir/def.json"
# An explicit --tg leaves the prompt to fit around it; explicit values that cannot fit are errors.
"$cli" bench --backend reference --model gpt2-tiny --tg 100 -r 1 >"$dir/tg.out" 2>&1 || fail "--tg 100: $(cat "$dir/tg.out")"
grep -q "| reference | gpt2-tiny | f32 | default | pp16 | tokens_per_s |" "$dir/tg.out" || fail "pp not fit to --tg 100"
"$cli" bench --backend reference --model gpt2-tiny --depth 128 -r 1 >/dev/null 2>"$dir/e" && fail "--depth 128 accepted"
grep -q "^tfbench: --depth: depth 128 leaves no room" "$dir/e" || fail "--depth message: $(cat "$dir/e")"
"$cli" bench --backend reference --model gpt2-tiny --scale-max 200 --scaling >/dev/null 2>"$dir/e" && fail "--scale-max 200"
"$cli" bench --backend reference --model gpt2-tiny --kinds pp,bogus >/dev/null 2>"$dir/e" && fail "--kinds bogus"
grep -q "^tfbench: --kinds: unknown kind 'bogus'" "$dir/e" || fail "--kinds message: $(cat "$dir/e")"
# --kinds picks the families; --progress prints one line per counted step, numbered to the total.
"$cli" bench --backend reference --model gpt2-tiny,marian-tiny --pp 16 --tg 4 --depth 0,8 -r 1 --warmup 0 \
    --kinds tg,kv,xattn,scale_tg --scale-max 16 --kv-tg 2 --scale-tg 2 --progress -o "$dir/k.json" \
    >"$dir/k.out" 2>"$dir/k.err" || fail "--kinds run: $(cat "$dir/k.err")"
python3 -c 'import json,sys
k=sorted({r["kind"] for r in json.load(open(sys.argv[1]))["results"]})
sys.exit(0 if k == ["kv","load","memory","scale_tg","tg","xattn"] else "kinds %s" % k)' "$dir/k.json" || fail "kinds"
grep -q "| kv tg2@d8 | speedup |" "$dir/k.out" || fail "no kv row with --kv-tg 2"
n=$(grep -c '^\[bench [0-9]*/[0-9]*\] reference ' "$dir/k.err")
total=$(sed -n 's/^\[bench 1\/\([0-9]*\)\].*/\1/p' "$dir/k.err")
[ "$n" -eq "$total" ] || fail "$n progress lines for $total steps"
grep -q "^\[bench $total/$total\] reference marian-tiny f32 scale_tg tg2@d14 \.\.\. elapsed [0-9:]*, eta [0-9:]*$" \
    "$dir/k.err" || fail "last progress line: $(tail -1 "$dir/k.err")"
# --dry-run counts the same steps and measures nothing.
"$cli" bench --backend reference --model gpt2-tiny,marian-tiny --pp 16 --tg 4 --depth 0,8 -r 1 --warmup 0 \
    --kinds tg,kv,xattn,scale_tg --scale-max 16 --kv-tg 2 --scale-tg 2 --dry-run >"$dir/dry.out"
grep -q "^$total steps, [0-9]* work units$" "$dir/dry.out" || fail "dry run: $(cat "$dir/dry.out")"
# --interleave: the configurations take turns (A B A B at every step), the rows come back grouped per
# configuration, and the same rows as one after another.
"$cli" bench --backend reference,simd --model gpt2-tiny --dtype f32,q8_0 --pp 16 --tg 4 -r 2 --warmup 0 \
    --interleave --progress -o "$dir/il.json" >"$dir/il.out" 2>"$dir/il.err" || fail "--interleave: $(cat "$dir/il.err")"
[ "$(sed -n '5,8p' "$dir/il.err" | cut -d' ' -f3,5,6)" = "$(printf 'reference f32 pp16\nsimd f32 pp16\nreference q8_0 pp16\nsimd q8_0 pp16')" ] ||
    fail "not interleaved: $(sed -n '5,8p' "$dir/il.err")"
awk -F'|' '/^$/ { exit } NR > 2 { print $2 $4 }' "$dir/il.out" | uniq | wc -l | grep -qx 4 || fail "rows not grouped"
"$cli" bench --backend reference,simd --model gpt2-tiny --dtype f32,q8_0 --pp 16 --tg 4 -r 2 --warmup 0 \
    -o "$dir/seq.json" >/dev/null 2>&1 || fail "sequential run"
python3 -c 'import json,sys
k=lambda f: sorted((r["backend"],r["dtype"],r["test"],r["metric"]) for r in json.load(open(f))["results"])
sys.exit(0 if k(sys.argv[1]) == k(sys.argv[2]) else "interleaved rows differ")' "$dir/il.json" "$dir/seq.json" ||
    fail "rows"
python3 "$validator" "$dir/il.json"
echo ok
