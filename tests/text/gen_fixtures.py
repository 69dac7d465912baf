#!/usr/bin/env python3
"""Generate the tokenizer fixtures of tests/text/fixtures/ (run once; the output is committed).

Needs a Python with tokenizers 0.19.1, transformers 4.40.2 and sentencepiece from PyPI (the session
used a venv: /tmp/hfvenv/bin/python) and Debian's /usr/bin/python3 with python3-sentencepiece
0.1.97 (the library tfbench links): the SentencePiece models are trained by 0.1.97 and the ids the
.model fixtures expect are 0.1.97's; where PyPI's sentencepiece gives other ids on a line, the line
carries "pypi_ids" too.

    /tmp/hfvenv/bin/python tests/text/gen_fixtures.py [OUTDIR, default tests/text/fixtures]

Fixtures (each a model directory as a checkpoint carries it, plus expected.json):
  bytelevel_bpe/   tokenizer.json: byte-level BPE as GPT-2's (ByteLevel pre-tokenizer with its regex,
                   ByteLevel decoder and post-processor), trained by tokenizers on the corpus below
  gpt2_legacy/     vocab.json + merges.txt of the same model (transformers' GPT2Tokenizer)
  llama_bpe/       tokenizer.json converted by transformers' LlamaConverter from spm_bpe's model:
                   Prepend/Replace normalizers, BPE with byte fallback, Replace/ByteFallback/Fuse/Strip
                   decoders, <s> template
  wordpiece/       tokenizer.json: WordPiece as BERT's (BertNormalizer lowercase, strip accents,
                   Chinese chars; BertPreTokenizer; ## continuation; [CLS] $A [SEP])
  bert_legacy/     vocab.txt of the same model (transformers' BertTokenizer)
  t5_unigram/      tokenizer.json converted by transformers' T5Converter from spm_unigram's model:
                   Precompiled normalizer (the SentencePiece charsmap), Metaspace, Unigram, $A </s>
  spm_bpe/         tokenizer.model: SentencePiece BPE with byte fallback, identity normalization (Llama 2's kind)
  spm_unigram/     spiece.model: SentencePiece Unigram with the nmt_nfkc rule (T5's kind)
  marian/          source.spm + target.spm (spm_bpe's model) + vocab.json (transformers' MarianTokenizer)
texts.bin holds the test lines, one per line as raw bytes (some are not valid UTF-8).
expected.json: for each line, the ids (with the post-processor's special tokens), the tokens, and
the reference library's decode of those ids (skipping special tokens), also as UTF-8 hex (decode_hex:
a decode may hold U+0000).
"""
import json
import os
import random
import subprocess
import sys
import tempfile

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")

WORDS = ("the quick brown fox jumps over lazy dog tokenizer backend benchmark model token text number "
         "café naïve résumé façade über straße Zürich São Paulo garçon crème brûlée fiancée jalapeño "
         "東京 北京 中文 日本語 한국어 русский язык ελληνικά עברית العربية हिन्दी "
         "hello world running walked faster happiest 2024 3.14 1,000,000 42 007 "
         "emoji 😀 🚀 👍🏽 ❤️ 🇫🇷 don't can't it's we're I'm "
         "ﬁ ① ＡＢＣ ｶﾀｶﾅ Ⅻ ½ ™ — … « » “quoted” (parens) [brackets] {braces} <tags> #hash @at $5 %").split()

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello, world!",
    "café naïve résumé façade",
    "CAFÉ Über STRASSE Zürich",
    "東京は日本の首都です。",
    "北京欢迎你 and 中文 mixed",
    "한국어 텍스트",
    "русский язык ελληνικά",
    "emoji 😀🚀 👍🏽 ❤️ 🇫🇷",
    "numbers 2024 3.14159 1,000,000 and 007",
    "    leading spaces",
    "trailing spaces    ",
    "tabs\tand\t\tmore   runs     of   spaces",
    "line with\rcarriage return",
    "control \x00 nul \x07 bell \x1b escape \x7f del",
    "don't can't it's we're I'm",
    "ﬁ ① ＡＢＣ ｶﾀｶﾅ Ⅻ ½ ™",
    "“quoted” — ellipsis… «guillemets»",
    "<tags> #hash @at $5 100%",
    "unknownwordxyzzy qwertyuiop",
    "a",
    "",
    " ",
    "e\u0301 combining acute vs é",
    "zero\u200bwidth\u00a0nbsp",
    "hello world hello world hello world hello world",
    "UPPER lower MiXeD",
]
BAD = [  # not valid UTF-8: each maximal bad subsequence becomes U+FFFD (Python's errors="replace")
    b"bad \xff byte",
    b"truncated \xe6\x97 three-byte",
    b"overlong \xc0\xaf slash",
    b"surrogate \xed\xa0\x80 half",
    b"lone continuation \x80\x80 end",
    b"\xf0\x9f\x98 cut emoji",
    b"caf\xe9 latin-1",
]


def corpus_lines():
    rng = random.Random(17)
    lines = []
    for _ in range(3000):
        n = rng.randint(3, 14)
        lines.append(" ".join(rng.choice(WORDS) for _ in range(n)))
    lines += TEXTS * 3
    return lines


def debian_spm(script, *args):
    return subprocess.run(["/usr/bin/python3", "-c", script, *args], check=True, stdout=subprocess.PIPE,
                          text=True).stdout


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = [t.encode() for t in TEXTS] + BAD
    with open(os.path.join(OUT, "texts.bin"), "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    texts = [b.decode("utf-8", errors="replace") for b in lines]
    tmp = tempfile.mkdtemp()
    corpus = os.path.join(tmp, "corpus.txt")
    with open(corpus, "w") as f:
        f.write("\n".join(corpus_lines()) + "\n")

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    def save_expected(d, kind, tok, extra=None):
        rows = []
        for i, t in enumerate(texts):
            e = tok.encode(t)
            rows.append(row(e.ids, e.tokens, tok.decode(e.ids)))
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump({"kind": kind, "library": "tokenizers 0.19.1", "lines": rows}, f, ensure_ascii=False, indent=0)

    def fixture_dir(name):
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        return d

    # --- byte-level BPE (GPT-2)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    tok.train([corpus], trainers.BpeTrainer(vocab_size=700, special_tokens=["<|endoftext|>"],
                                            initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    d = fixture_dir("bytelevel_bpe")
    tok.save(os.path.join(d, "tokenizer.json"))
    save_expected(d, "bytelevel_bpe", tok)
    # the same model as vocab.json + merges.txt, through transformers' slow GPT2Tokenizer
    from transformers import GPT2Tokenizer
    dl = fixture_dir("gpt2_legacy")
    tok.model.save(dl)
    g = GPT2Tokenizer(os.path.join(dl, "vocab.json"), os.path.join(dl, "merges.txt"))
    legacy_expected(dl, "gpt2_legacy", g, texts, "transformers 4.40.2 GPT2Tokenizer")

    # --- WordPiece (BERT)
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                                lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.train([corpus], trainers.WordPieceTrainer(vocab_size=600,
                                                  special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    d = fixture_dir("wordpiece")
    tok.save(os.path.join(d, "tokenizer.json"))
    save_expected(d, "wordpiece", tok)
    from transformers import BertTokenizer
    dl = fixture_dir("bert_legacy")
    vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    with open(os.path.join(dl, "vocab.txt"), "w") as f:
        f.write("".join(k + "\n" for k, _ in vocab))
    legacy_expected(dl, "bert_legacy", BertTokenizer(os.path.join(dl, "vocab.txt")), texts,
                    "transformers 4.40.2 BertTokenizer")

    # --- SentencePiece models, trained by Debian's 0.1.97
    train = ("import sentencepiece as s, sys; s.SentencePieceTrainer.train(input=sys.argv[1], model_prefix=sys.argv[2],"
             " vocab_size=int(sys.argv[3]), model_type=sys.argv[4], byte_fallback=sys.argv[4]=='bpe',"
             " normalization_rule_name='identity' if sys.argv[4]=='bpe' else 'nmt_nfkc',"
             " character_coverage=0.9995, seed_sentencepiece_size=20000, num_threads=1, minloglevel=2)")
    debian_spm(train, corpus, os.path.join(tmp, "bpe"), "600", "bpe")
    debian_spm(train, corpus, os.path.join(tmp, "uni"), "320", "unigram")
    enc = ("import sentencepiece as s, sys, json; p=s.SentencePieceProcessor(model_file=sys.argv[1]);"
           " t=json.load(open(sys.argv[2])); print(json.dumps([{'ids': p.encode(x), 'pieces': p.encode(x, out_type=str),"
           " 'decode': p.decode(p.encode(x))} for x in t]))")
    with open(os.path.join(tmp, "texts.json"), "w") as f:
        json.dump(texts, f)
    import sentencepiece as spm_pypi
    for name, src, fname in (("spm_bpe", "bpe", "tokenizer.model"), ("spm_unigram", "uni", "spiece.model")):
        d = fixture_dir(name)
        data = open(os.path.join(tmp, src + ".model"), "rb").read()
        open(os.path.join(d, fname), "wb").write(data)
        deb = json.loads(debian_spm(enc, os.path.join(d, fname), os.path.join(tmp, "texts.json")))
        p = spm_pypi.SentencePieceProcessor(model_file=os.path.join(d, fname))
        rows = []
        for t, r in zip(texts, deb):
            x = row(r["ids"], r["pieces"], r["decode"])
            if p.encode(t) != r["ids"]:
                x["pypi_ids"] = p.encode(t)
            rows.append(x)
        json.dump({"kind": name, "library": "Debian libsentencepiece 0.1.97 (raw EncodeAsIds, no bos/eos);"
                   " pypi_ids: PyPI sentencepiece %s where it differs" % spm_pypi.__version__, "lines": rows},
                  open(os.path.join(d, "expected.json"), "w"), ensure_ascii=False, indent=0)

    # --- tokenizer.json converted from them by transformers 4.40.2, as a Llama 2 / T5 hub repo carries
    from transformers import LlamaTokenizerFast, T5TokenizerFast
    fast = LlamaTokenizerFast(vocab_file=os.path.join(OUT, "spm_bpe", "tokenizer.model"), from_slow=True, legacy=True)
    d = fixture_dir("llama_bpe")
    fast.backend_tokenizer.save(os.path.join(d, "tokenizer.json"))
    save_expected(d, "llama_bpe", Tokenizer.from_file(os.path.join(d, "tokenizer.json")))
    fast = T5TokenizerFast(vocab_file=os.path.join(OUT, "spm_unigram", "spiece.model"), extra_ids=0, from_slow=True,
                           legacy=True)
    d = fixture_dir("t5_unigram")
    fast.backend_tokenizer.save(os.path.join(d, "tokenizer.json"))
    save_expected(d, "t5_unigram", Tokenizer.from_file(os.path.join(d, "tokenizer.json")))

    # --- Marian: source.spm / target.spm and one vocab.json
    from transformers import MarianTokenizer
    d = fixture_dir("marian")
    spm = open(os.path.join(tmp, "bpe.model"), "rb").read()  # identity-normalized: small
    for f in ("source.spm", "target.spm"):
        open(os.path.join(d, f), "wb").write(spm)
    p = spm_pypi.SentencePieceProcessor(model_file=os.path.join(d, "source.spm"))
    vocab = {"</s>": 0, "<unk>": 1, "<pad>": 2}
    for i in range(p.get_piece_size()):
        vocab.setdefault(p.id_to_piece(i), len(vocab))
    json.dump(vocab, open(os.path.join(d, "vocab.json"), "w"), ensure_ascii=False, indent=0)
    m = MarianTokenizer(os.path.join(d, "source.spm"), os.path.join(d, "target.spm"), os.path.join(d, "vocab.json"),
                        separate_vocabs=False)
    legacy_expected(d, "marian", m, texts, "transformers 4.40.2 MarianTokenizer")


def row(ids, tokens, decode):
    # decode_hex: the decode's UTF-8 bytes, for readers whose JSON strings stop at U+0000
    return {"ids": ids, "tokens": tokens, "decode": decode, "decode_hex": decode.encode("utf-8").hex()}


def legacy_expected(d, kind, tok, texts, library):
    rows = []
    for t in texts:
        ids = tok(t)["input_ids"]
        rows.append(row(ids, tok.convert_ids_to_tokens(ids), tok.decode(ids, skip_special_tokens=True)))
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"kind": kind, "library": library, "lines": rows}, f, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    main()
