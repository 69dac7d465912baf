#!/usr/bin/env python3
"""A differential check of normalizers and decoders, run by hand (needs PyPI tokenizers): 26
normalizer configurations (the Unicode forms, Lowercase, StripAccents, every BertNormalizer flag
combination, Strip, Replace with strings and regexes, Prepend) in front of the byte-level BPE
fixture (lossless, so the ids show the normalized text), and 10 decoder configurations (ByteLevel,
WordPiece with and without cleanup, Metaspace never / first, BPEDecoder, Strip and Replace after
Fuse, ByteFallback, none) on three fixtures; 300 random lines of hard characters. (tokenizers'
Strip decoder panics on an empty token when stop > 0, so the Strips here have stop 0.)

    /tmp/hfvenv/bin/python tests/text/difftest_components.py tests/text/fixtures OUT
    for d in OUT/*/; do build/tests/text/test_text "$d" | tail -1; done
"""
import json, os, random, sys
from tokenizers import Tokenizer
FIX, OUT = sys.argv[1], sys.argv[2]
rng = random.Random(21)
pool = list("abcXYZ 019.,!?'-  \t\n") + ["é", "Ñ", "ü", "ß", "İ", "ﬁ", "東", "😀", "\u0301", "\u200b", "\u00a0", "①", "Ⅻ", "ｶ", "\x00", "\x07", "\u2581", "Ǆ", "ﬀ", "Σ", "Å", "Ω", "  ", "\u3000", "ᾈ", "ŉ"]
lines = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 20))).replace("\n", " ") for _ in range(300)]
os.makedirs(OUT, exist_ok=True)
open(os.path.join(OUT, "texts.bin"), "wb").write(b"\n".join(l.encode() for l in lines) + b"\n")
norms = {n: {"type": n} for n in ["NFC", "NFD", "NFKC", "NFKD", "Lowercase", "StripAccents"]}
norms["nfd_strip"] = {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "StripAccents"}]}
for sa in (None, True, False):
    for lc in (True, False):
        for cjk in (True, False):
            norms["bert_%s_%s_%s" % (sa, lc, cjk)] = {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": cjk, "strip_accents": sa, "lowercase": lc}
norms["bert_noclean"] = {"type": "BertNormalizer", "clean_text": False, "handle_chinese_chars": True, "strip_accents": None, "lowercase": True}
norms["strip_l"] = {"type": "Strip", "strip_left": True, "strip_right": False}
norms["strip_lr"] = {"type": "Strip", "strip_left": True, "strip_right": True}
norms["replace_re"] = {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": "_"}
norms["replace_re2"] = {"type": "Replace", "pattern": {"Regex": "[aeiou]|\\p{N}"}, "content": ""}
norms["replace_str"] = {"type": "Replace", "pattern": {"String": "ab"}, "content": "XY"}
norms["prepend"] = {"type": "Prepend", "prepend": "##"}
decs = {"bl": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}, "wp_noclean": {"type": "WordPiece", "prefix": "##", "cleanup": False},
        "wp": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "meta_never": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "never", "split": True},
        "meta_first": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True},
        "bpe": {"type": "BPEDecoder", "suffix": "a"},
        "strip": {"type": "Sequence", "decoders": [{"type": "Fuse"}, {"type": "Strip", "content": "a", "start": 2, "stop": 0}]},
        "seq": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "e"}, "content": "E"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "bytefb": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]},
        "none": None}
def emit(name, tj):
    d = os.path.join(OUT, name); os.makedirs(d, exist_ok=True)
    json.dump(tj, open(os.path.join(d, "tokenizer.json"), "w"))
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    rows = []
    for l in lines:
        ids = tok.encode(l).ids; dec = tok.decode(ids)
        rows.append({"ids": ids, "decode": dec, "decode_hex": dec.encode().hex()})
    json.dump({"kind": name, "lines": rows}, open(os.path.join(d, "expected.json"), "w"))
for n, nj in norms.items():
    t = json.load(open(os.path.join(FIX, "bytelevel_bpe", "tokenizer.json"))); t["normalizer"] = nj
    emit("norm_" + n, t)
for base in ("llama_bpe", "wordpiece", "bytelevel_bpe"):
    for dn, dj in decs.items():
        t = json.load(open(os.path.join(FIX, base, "tokenizer.json"))); t["decoder"] = dj
        try:
            emit("dec_%s_%s" % (base, dn), t)
        except Exception as e:
            print("skip", base, dn, e)
