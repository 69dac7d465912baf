#!/usr/bin/env python3
"""A differential check of the pre-tokenizers, run by hand (needs PyPI tokenizers): every split
behavior (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous) with and without
invert for a String and a Regex pattern, Punctuation with each behavior, Digits, Whitespace,
WhitespaceSplit, Metaspace (each prepend_scheme, split or not) and a Sequence, each in front of a
WordLevel model whose vocabulary holds every string over "ab 1.▁" up to 7 characters, so the ids
spell out the pieces; 300 random lines over that alphabet.

    /tmp/hfvenv/bin/python tests/text/difftest_pretok.py OUT
    for d in OUT/*/; do build/tests/text/test_text "$d" | tail -1; done
"""
import itertools, json, os, random, sys
from tokenizers import Tokenizer
OUT = sys.argv[1]
alpha = "ab 1.▁"
vocab = {"[UNK]": 0}
for n in range(1, 8):
    for t in itertools.product(alpha, repeat=n):
        vocab.setdefault("".join(t), len(vocab))
rng = random.Random(5)
lines = ["".join(rng.choice("ab 1.") for _ in range(rng.randint(0, 7))) for _ in range(300)]
os.makedirs(OUT, exist_ok=True)
open(os.path.join(OUT, "texts.bin"), "wb").write(b"\n".join(l.encode() for l in lines) + b"\n")
pts = {}
for b in ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]:
    for inv in (False, True):
        pts["split_str_%s_%d" % (b, inv)] = {"type": "Split", "pattern": {"String": " "}, "behavior": b, "invert": inv}
        pts["split_re_%s_%d" % (b, inv)] = {"type": "Split", "pattern": {"Regex": "[ .]+|1"}, "behavior": b, "invert": inv}
    pts["punct_" + b] = {"type": "Punctuation", "behavior": b}
pts["digits_ind"] = {"type": "Digits", "individual_digits": True}
pts["digits"] = {"type": "Digits", "individual_digits": False}
pts["ws"] = {"type": "Whitespace"}
pts["wssplit"] = {"type": "WhitespaceSplit"}
for ps in ("always", "first", "never"):
    for sp in (True, False):
        pts["meta_%s_%d" % (ps, sp)] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": ps, "split": sp}
pts["seq"] = {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, {"type": "Digits", "individual_digits": True}, {"type": "Punctuation", "behavior": "Contiguous"}]}
for name, p in pts.items():
    tj = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
          "pre_tokenizer": p, "post_processor": None, "decoder": None,
          "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}}
    d = os.path.join(OUT, name); os.makedirs(d, exist_ok=True)
    json.dump(tj, open(os.path.join(d, "tokenizer.json"), "w"), ensure_ascii=False)
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    rows = []
    for l in lines:
        ids = tok.encode(l).ids
        dec = tok.decode(ids)
        rows.append({"ids": ids, "decode": dec, "decode_hex": dec.encode().hex()})
    json.dump({"kind": name, "lines": rows}, open(os.path.join(d, "expected.json"), "w"))
