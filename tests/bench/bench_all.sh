#!/bin/sh
# Every measurement family on the reference backend and the three tiny models, then the schema check.
# usage: bench_all.sh TFBENCH VALIDATOR WORKDIR [BACKENDS]
# With BACKENDS other than reference, exits 77 (ctest: skipped) when one of them is not compiled in.
set -eu
cli=$1 validator=$2 dir=$3 backends=${4:-reference}
for b in $(echo "$backends" | tr , ' '); do
    "$cli" list | grep -q "^$b " || { echo "$b not compiled in: skipped"; exit 77; }
done
rm -rf "$dir" && mkdir -p "$dir"
"$cli" bench --backend "$backends" --model gpt2-tiny,bert-tiny,marian-tiny --pp 16 --tg 4 --depth 0,16 -r 2 \
    --kv-reuse --prefix 8 --requests 2 --dtype f32,q8_0 --scaling -o "$dir/results.json" --csv "$dir/results.csv" \
    >"$dir/stdout" 2>"$dir/stderr"
grep -q '^| backend | model | dtype | threads | test | metric | median ± ci95 | unit | cv |$' "$dir/stdout"
for b in $(echo "$backends" | tr , ' '); do
    grep -q "| $b | gpt2-tiny | f32 | default | tg4@d16 | tokens_per_s |" "$dir/stdout" || { echo "no $b rows"; exit 1; }
    grep -q "| $b | marian-tiny | q8_0 | default | xattn tg4@d0 | speedup |" "$dir/stdout" || { echo "no $b xattn"; exit 1; }
    # The speed/accuracy table lists the f32 baseline too, with - for the figures taken against it.
    grep -Eq "^\| $b \| gpt2-tiny \| f32 \| default \| [0-9.e+]+ \| [0-9.e+]+ \| - \| - \| - \|\$" "$dir/stdout" ||
        { echo "no $b f32 row in the quantization table"; exit 1; }
done
# The attention share of scaling runs: from every backend but the reference (simd, opencl and vulkan
# time their ops), in (0, 1]; none from the reference, which cannot tell.
for b in $(echo "$backends" | tr , ' '); do
    [ "$b" = reference ] && continue
    grep -q "| $b | gpt2-tiny | f32 | default | scale_tg tg4@d0 | attention_share |" "$dir/stdout" ||
        { echo "no $b attention_share row"; exit 1; }
done
! grep -q "| reference | .* | attention_share |" "$dir/stdout" || { echo "reference claims an attention share"; exit 1; }
python3 -c 'import json,sys
s=[x for x in json.load(open(sys.argv[1]))["results"] if x["metric"]=="speedup"]
sys.exit("speedup rows without ratio_ci95: %s" % [x["test"] for x in s if "ratio_ci95" not in x] if not s or
         any("ratio_ci95" not in x for x in s) else 0)' "$dir/results.json"
python3 -c 'import json,sys
r=[x for x in json.load(open(sys.argv[1]))["results"] if x["metric"]=="attention_share"]
bad=[x["test"] for x in r if not 0 < x["median"] <= 1 or x["kind"] not in ("scale_pp","scale_tg")]
sys.exit("attention_share out of range: %s" % bad if bad else 0)' "$dir/results.json"
[ ! -s "$dir/stderr" ] || { echo "unexpected stderr:"; cat "$dir/stderr"; exit 1; }
# One CSV line per JSON row, plus the header.
rows=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["results"]))' "$dir/results.json")
lines=$(wc -l <"$dir/results.csv")
[ "$lines" -eq $((rows + 1)) ] || { echo "csv has $lines lines for $rows rows"; exit 1; }
grep -q "\"hostname\":[[:space:]]*\"$(uname -n)\"" "$dir/results.json" || { echo "no hostname in the manifest"; exit 1; }
python3 "$validator" "$dir/results.json" --expect-kinds load,memory,pp,encode,e2e,tg,kv,xattn,prefix,scale_pp,scale_tg,quant
# Without --force the file is not overwritten.
if "$cli" bench --backend reference --model gpt2-tiny --pp 4 --tg 2 -r 1 -o "$dir/results.json" 2>/dev/null >&2; then
    echo "overwrote results.json without --force"; exit 1
fi
python3 "$validator" "$dir/results.json" --expect-kinds quant
echo ok
