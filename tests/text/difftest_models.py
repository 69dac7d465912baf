#!/usr/bin/env python3
"""A differential check of the model options, run by hand (needs PyPI tokenizers): BPE trained with
continuing_subword_prefix and/or end_of_word_suffix, fuse_unk on and off; WordPiece with another
prefix and max_input_chars_per_word 5; Unigram with and without byte_fallback; WordLevel; 300
random lines with unknown characters among them.

    /tmp/hfvenv/bin/python tests/text/difftest_models.py OUT
    for d in OUT/*/; do build/tests/text/test_text "$d" | tail -1; done
"""
import json, os, random, sys
from tokenizers import Tokenizer, models, pre_tokenizers, trainers, decoders, normalizers
OUT = sys.argv[1]
rng = random.Random(31)
pool = list("abcdefghij XYZ 019.,!'") + ["é", "ñ", "東", "京", "😀", "\u0301", "ß", "Ω", "  "]
words = ["".join(rng.choice("abcdefghij") for _ in range(rng.randint(1, 8))) for _ in range(300)]
corpus = [" ".join(rng.choice(words) for _ in range(10)) for _ in range(2000)] + ["東京 é ñ"] * 5
lines = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 25))) for _ in range(300)]
os.makedirs(OUT, exist_ok=True)
open(os.path.join(OUT, "texts.bin"), "wb").write(b"\n".join(l.encode() for l in lines) + b"\n")
def emit(name, tok):
    d = os.path.join(OUT, name); os.makedirs(d, exist_ok=True)
    tok.save(os.path.join(d, "tokenizer.json"))
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    rows = []
    for l in lines:
        ids = tok.encode(l).ids; dec = tok.decode(ids)
        rows.append({"ids": ids, "decode": dec, "decode_hex": dec.encode().hex()})
    json.dump({"kind": name, "lines": rows}, open(os.path.join(d, "expected.json"), "w"))
for fuse in (True, False):
    for pre, suf in (("##", None), (None, "</w>"), ("@@", "</w>")):
        kw = {}
        if pre: kw["continuing_subword_prefix"] = pre
        if suf: kw["end_of_word_suffix"] = suf
        t = Tokenizer(models.BPE(unk_token="[UNK]", fuse_unk=fuse, **kw))
        t.pre_tokenizer = pre_tokenizers.Whitespace()
        t.decoder = decoders.BPEDecoder(suffix=suf or "</w>")
        t.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=200, special_tokens=["[UNK]"], **kw))
        emit("bpe_%d_%s_%s" % (fuse, pre, (suf or "").strip("</>")), t)
t = Tokenizer(models.WordPiece(unk_token="[UNK]", continuing_subword_prefix="~~", max_input_chars_per_word=5))
t.pre_tokenizer = pre_tokenizers.WhitespaceSplit(); t.decoder = decoders.WordPiece(prefix="~~")
t.train_from_iterator(corpus, trainers.WordPieceTrainer(vocab_size=150, special_tokens=["[UNK]"], continuing_subword_prefix="~~"))
emit("wp_tilde", t)
for bf in (False, True):
    t = Tokenizer(models.Unigram())
    t.pre_tokenizer = pre_tokenizers.Metaspace(); t.decoder = decoders.Metaspace()
    t.train_from_iterator(corpus, trainers.UnigramTrainer(vocab_size=120, special_tokens=["<unk>"] + ["<0x%02X>" % b for b in range(256)], unk_token="<unk>"))
    if bf:
        j = json.loads(t.to_str()); j["model"]["byte_fallback"] = True
        j["decoder"] = {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}]}
        t = Tokenizer.from_str(json.dumps(j))
    emit("uni_bf%d" % bf, t)
t = Tokenizer(models.WordLevel(unk_token="[UNK]")); t.pre_tokenizer = pre_tokenizers.Whitespace()
t.train_from_iterator(corpus, trainers.WordLevelTrainer(vocab_size=100, special_tokens=["[UNK]"]))
emit("wordlevel", t)
