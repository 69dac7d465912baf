#!/usr/bin/env bash
# `tfbench run --dump-hidden` on a headless encoder (BertModel) and on an encoder-decoder writes the
# encoder's last hidden state [rows, d_model] as float32 .npy, equal to transformers' (the fixture's
# float64 hidden.npy) within 1e-5 max-relative; a model without an encoder, and --dump-logits on a
# model without a head, are one-line usage errors. A planted error (one value changed by 1e-3
# relative) must be caught by the comparison.
set -u
tfb=$1 FIX=$2
. "$(dirname "$0")/../lib.sh"
OUT=$tmp
cmp_npy() { # got.npy want.npy [plant]: max |got - want| / max |want| <= 1e-5
  python3 - "$@" <<'PY'
import struct, sys
def load(p):
    b = open(p, 'rb').read()
    hl = struct.unpack('<H', b[8:10])[0]
    h = b[10:10 + hl].decode()
    fmt = {"'<f4'": 'f', "'<f8'": 'd'}[h.split("'descr': ")[1].split(',')[0]]
    n = (len(b) - 10 - hl) // struct.calcsize(fmt)
    return list(struct.unpack('<%d%s' % (n, fmt), b[10 + hl:]))
a, w = load(sys.argv[1]), load(sys.argv[2])
if len(sys.argv) > 3:
    a[len(a) // 2] *= 1.001
if len(a) != len(w):
    sys.exit('size %d vs %d' % (len(a), len(w)))
err = max(abs(x - y) for x, y in zip(a, w)) / max(abs(y) for y in w)
print('max-relative error %.3g' % err)
sys.exit(0 if err <= 1e-5 else 1)
PY
}
ids=$(python3 -c "import json,sys; print(','.join(map(str, json.load(open(sys.argv[1]))['tokens'])))" "$FIX/bert_model/inputs.json")
"$tfb" run --model "$FIX/bert_model" --tokens "$ids" --dump-hidden "$OUT/h.npy" --force >"$OUT/run.out" 2>&1 ||
  fail "run --dump-hidden on bert_model: $(cat "$OUT/run.out")"
cmp_npy "$OUT/h.npy" "$FIX/bert_model/hidden.npy" || fail "bert_model hidden state differs from transformers'"
cmp_npy "$OUT/h.npy" "$FIX/bert_model/hidden.npy" plant >/dev/null && fail "a planted 1e-3 change was not caught"
grep -q "hidden state \[" "$OUT/run.out" || fail "run on a headless encoder printed: $(cat "$OUT/run.out")"
# the encoder of an encoder-decoder: its hidden state after encoding the source
"$tfb" run --model marian-tiny --source-tokens 1,2,3,4,5 --n-gen 2 --dump-hidden "$OUT/m.npy" --force >/dev/null 2>&1 ||
  fail "run --dump-hidden on marian-tiny"
[ "$(od -An -c -j 10 -N 70 "$OUT/m.npy" | tr -d ' \n' | grep -c "(5,64)")" = 1 ] || fail "marian-tiny hidden is not [5, 64]"
expect_error 2 "gpt2-tiny has no encoder" -- run --model gpt2-tiny --tokens 1,2 --dump-hidden "$OUT/x.npy"
expect_error 2 "has no LM head" -- run --model "$FIX/bert_model" --tokens 1,2 --dump-logits "$OUT/x.npy"
finish dump_hidden
