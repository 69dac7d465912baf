#!/usr/bin/env python3
"""GGUF tokenizer fixtures: the tokenizer metadata of llama.cpp's converter, written by its real set_vocab
code paths from the trained tokenizers of tests/text/fixtures, into tokenizer-only GGUF files (the
metadata and no tensors: tfbench's tokenizer reads nothing else, and the files stay a few tens of KB).

  fixtures/tok/bytelevel_bpe.gguf  GPT2Model.set_vocab (_set_vocab_gpt2) on a tokenizer.json (ByteLevel
                                   BPE, an added <|endoftext|>)
  fixtures/tok/wordpiece.gguf      BertModel.set_vocab (phantom-space vocabulary) on a tokenizer.json
  fixtures/tok/spm_bpe.gguf        LlamaModel.set_vocab (_set_vocab_sentencepiece) on a tokenizer.model
  fixtures/tok/spm_unigram.gguf    T5Model.set_vocab (0.2.85) on a spiece.model (precompiled charsmap)
  fixtures/tok/<name>.expected.json  where the source fixture's expectation does not apply (see below)
  fixtures/tok/bytelevel_llama3.gguf  bytelevel_bpe.gguf with tokenizer.ggml.pre "llama-bpe" (see llama3_split)
  fixtures/tok/llama_spm.f32.gguf  a whole model for `run --prompt`: a tiny LlamaForCausalLM (random
                                   weights, tied head, the 600-token vocabulary of spm_bpe) saved by
                                   transformers with spm_bpe's tokenizer.model, converted by the 0.2.76
                                   converter's main() --outtype f32 with nothing replaced

tests/text's gpt2_legacy (vocab.json + merges.txt) and bert_legacy (vocab.txt) hold the same trained
vocabularies as bytelevel_bpe and wordpiece, and the converter turns them into byte-identical GGUF
files (checked when these were written), so they are not kept twice. (Their expectations differ only
in transformers' slow-tokenizer decode clean-up, which a GGUF does not record.)

For each, the model directory the converter reads is a temporary copy of the tokenizer files plus a
config.json naming the architecture, vocab_size and the special ids. What is not the converter's own:
  - get_vocab_base_pre identifies the split regex by hashing the tokenization of a test string by a
    known checkpoint's tokenizer; a trained fixture matches none (the converter raises), so the shim
    names the pre-tokenizer its tokenizer.json uses ("gpt-2" for the ByteLevel ones; "default" for
    BERT, which llama.cpp ignores for WordPiece).
  - The files are written by Model.write_vocab (the converter's --vocab-only); 0.2.76's --vocab-only
    would first run set_gguf_parameters, which needs a whole model's config, so set_vocab is called
    alone there (0.2.85's write_vocab runs both itself: the T5 config.json has t5_d128's
    hyper-parameters for it, and the file holds those keys too).

Expectations: the GGUF of a tokenizer must tokenize as the source tokenizer (tests/text's
expected.json), except where the converter does not carry a setting across, and then the file
fixtures/tok/<name>.expected.json holds the reference library's output with the setting the GGUF
means:
  - spm_bpe: the llama converter of 0.2.76 writes no remove_extra_whitespaces key; llama.cpp never
    removes whitespace for llama vocabularies (Llama's own tokenizer.model has the flag off), so the
    reference is sentencepiece with the .model's normalizer_spec.remove_extra_whitespaces = False.

Run (the venvs and sdists of gen_model_fixtures.py, plus protobuf for T5's set_vocab):
    /tmp/conv76/bin/pip install protobuf sentencepiece tokenizers==0.19.1
    /tmp/conv85/bin/pip install protobuf sentencepiece tokenizers==0.19.1
    /tmp/conv76/bin/python tests/gguf/gen_tok_fixtures.py convert /tmp/sdist/llama_cpp_python-0.2.76.tar.gz
    /tmp/conv85/bin/python tests/gguf/gen_tok_fixtures.py convert /tmp/sdist/llama_cpp_python-0.2.85.tar.gz
    /tmp/conv76/bin/python tests/gguf/gen_tok_fixtures.py expected
Deterministic: rerunning gives the same bytes.
"""
import importlib.util
import json
import os
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT = os.path.join(HERE, "..", "text", "fixtures")
OUT = os.path.join(HERE, "fixtures", "tok")

# name: (converter class, config.json, files, pre-tokenizer name for the shim, needs the T5 converter)
FIXTURES = {
    "bytelevel_bpe": ("GPT2Model", {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_layer": 1},
                      ("tokenizer.json",), "gpt-2", False),
    "wordpiece": ("BertModel", {"architectures": ["BertModel"], "model_type": "bert", "num_hidden_layers": 1},
                  ("tokenizer.json",), "default", False),
    "spm_bpe": ("LlamaModel", {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
                               "num_hidden_layers": 1, "bos_token_id": 1, "eos_token_id": 2},
                ("tokenizer.model",), None, False),
    "spm_unigram": ("T5Model", {"architectures": ["T5ForConditionalGeneration"], "model_type": "t5",
                                "num_layers": 1, "eos_token_id": 2, "d_model": 32, "d_kv": 8,
                                "d_ff": 64, "num_heads": 4, "relative_attention_num_buckets": 16,
                                "layer_norm_epsilon": 1e-6, "feed_forward_proj": "relu",
                                "decoder_start_token_id": 0, "n_positions": 512},
                    ("spiece.model",), None, True),
}


def vocab_size(name, files):
    src = os.path.join(TEXT, name)
    if files[0] == "tokenizer.json":
        with open(os.path.join(src, files[0]), encoding="utf-8") as f:
            tj = json.load(f)
        ids = list(tj["model"]["vocab"].values()) if isinstance(tj["model"]["vocab"], dict) else \
            range(len(tj["model"]["vocab"]))
        return max(max(ids), max([a["id"] for a in tj["added_tokens"]] or [0])) + 1
    if files[0] == "vocab.json":
        with open(os.path.join(src, files[0]), encoding="utf-8") as f:
            return max(json.load(f).values()) + 1
    if files[0] == "vocab.txt":
        with open(os.path.join(src, files[0]), encoding="utf-8") as f:
            return len(f.read().splitlines())
    from sentencepiece import SentencePieceProcessor
    sp = SentencePieceProcessor()
    sp.LoadFromFile(os.path.join(src, files[0]))
    return sp.vocab_size()


def convert(sdist):
    tmp = tempfile.mkdtemp(prefix="tfb-gguf-tok-")
    try:
        with tarfile.open(sdist) as tf:
            members = [m for m in tf.getmembers()
                       if m.name.count("/") == 3 and m.name.endswith(".py") and "/vendor/llama.cpp/" in m.name]
            tf.extractall(tmp, members=members)
        script = [os.path.join(tmp, m.name) for m in members
                  if m.name.endswith(("/convert_hf_to_gguf.py", "/convert-hf-to-gguf.py"))][0]
        t5_converter = script.endswith("convert_hf_to_gguf.py")
        import torch
        for name in ("float8_e4m3fn", "float8_e5m2"):  # named in a dtype table only (gen_model_fixtures.py)
            if not hasattr(torch, name):
                setattr(torch, name, torch.uint8)
        sys.path.insert(0, os.path.dirname(script))
        os.environ["NO_LOCAL_GGUF"] = "1"
        spec = importlib.util.spec_from_file_location("tfb_convert_hf", script)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        import gguf
        os.makedirs(OUT, exist_ok=True)
        for name, (cls_name, cfg, files, pre, needs_t5) in FIXTURES.items():
            if needs_t5 != t5_converter:
                continue
            src = os.path.join(tmp, name)
            os.makedirs(src)
            for fn in files:
                shutil.copy(os.path.join(TEXT, name, fn), src)
            cfg = dict(cfg, vocab_size=vocab_size(name, files))
            with open(os.path.join(src, "config.json"), "w") as f:
                json.dump(cfg, f)
            cls = getattr(mod, cls_name)
            if pre is not None:
                cls.get_vocab_base_pre = lambda self, tokenizer, pre=pre: pre
            dst = os.path.join(OUT, name + ".gguf")
            if t5_converter:
                model = cls(Path(src), gguf.LlamaFileType.ALL_F32, Path(dst))
            else:
                model = cls(Path(src), gguf.LlamaFileType.ALL_F32, Path(dst), False, False, False)
            if not t5_converter:
                model.set_vocab()  # 0.2.85's write_vocab runs set_vocab (and set_gguf_parameters) itself
            model.write_vocab()  # what --vocab-only writes
            print("wrote", dst, os.path.getsize(dst), "bytes")
        if not t5_converter:
            src = os.path.join(tmp, "llama_spm")
            make_llama_spm(src)
            sys.argv = ["convert-hf-to-gguf.py", src, "--outfile", os.path.join(OUT, "llama_spm.f32.gguf"),
                        "--outtype", "f32"]
            mod.main()
    finally:
        shutil.rmtree(tmp)


def make_llama_spm(dst):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(21)
    cfg = LlamaConfig(vocab_size=vocab_size("spm_bpe", ("tokenizer.model",)), hidden_size=16, intermediate_size=32,
                      num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64,
                      tie_word_embeddings=True, bos_token_id=1, eos_token_id=2)
    model = LlamaForCausalLM(cfg).eval()
    model.save_pretrained(dst, safe_serialization=True)
    shutil.copy(os.path.join(TEXT, "spm_bpe", "tokenizer.model"), dst)


def expected():
    """The reference outputs where the GGUF means another setting than the source (see above)."""
    with open(os.path.join(TEXT, "texts.bin"), "rb") as f:
        lines = f.read().split(b"\n")[:-1]

    def line_entry(ids, toks, dec):
        return {"ids": ids, "tokens": toks, "decode": dec, "decode_hex": dec.encode("utf-8").hex()}

    from sentencepiece import SentencePieceProcessor
    from sentencepiece import sentencepiece_model_pb2 as pb
    m = pb.ModelProto()
    with open(os.path.join(TEXT, "spm_bpe", "tokenizer.model"), "rb") as f:
        m.ParseFromString(f.read())
    m.normalizer_spec.remove_extra_whitespaces = False
    sp = SentencePieceProcessor()
    sp.LoadFromSerializedProto(m.SerializeToString())
    out = {"kind": "spm_bpe", "library": "PyPI sentencepiece %s (raw ids, no bos/eos), remove_extra_whitespaces "
           "off" % __import__("sentencepiece").__version__, "lines": []}
    for raw in lines:
        text = raw.decode("utf-8", errors="replace")
        ids = sp.EncodeAsIds(text)
        out["lines"].append(line_entry(ids, [sp.IdToPiece(i) for i in ids], sp.DecodeIds(ids)))
    write_json("spm_bpe.expected.json", out)


def malformed():
    """fixtures/tok/bad/: what the tokenizer must refuse in one line (tiny files written with the gguf
    package, not the converter), and planted_merge.gguf: bytelevel_bpe.gguf with its first merge moved
    to the end, which the expectation check must catch."""
    import gguf
    bad = os.path.join(OUT, "bad")
    os.makedirs(bad, exist_ok=True)

    def write(name, model, tokens=("a", "b", "ab"), scores=None, types=None, merges=None, pre=None, extra=None):
        w = gguf.GGUFWriter(os.path.join(bad, name + ".gguf"), "gpt2")
        if model is not None:
            w.add_tokenizer_model(model)
            w.add_token_list(list(tokens))
        if pre is not None:
            w.add_tokenizer_pre(pre)
        if scores is not None:
            w.add_token_scores(scores)
        if types is not None:
            w.add_token_types(types)
        if merges is not None:
            w.add_token_merges(merges)
        for k, v in (extra or {}).items():
            w.add_uint32(k, v)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()

    write("no_tokenizer", None)
    write("no_merges", "gpt2")
    write("unknown_pre", "gpt2", merges=["a b"], pre="no-such-pre")
    write("merge_not_in_vocab", "gpt2", merges=["b a"])
    write("merge_not_two", "gpt2", merges=["ab"])
    write("scores_count", "llama", scores=[0.0, -1.0])
    write("types_count", "gpt2", merges=["a b"], types=[1, 1, 1, 1])
    write("bad_type", "gpt2", merges=["a b"], types=[1, 9, 1])
    write("unknown_model", "rwkv")
    write("bos_out_of_range", "gpt2", merges=["a b"], extra={"tokenizer.ggml.bos_token_id": 3})
    write("spm_no_unknown", "llama", scores=[0.0, -1.0, -2.0], types=[1, 1, 1])

    rewrite("bytelevel_bpe.gguf", "planted_merge.gguf", lambda k, v: v[1:] + v[:1] if k == "tokenizer.ggml.merges" else v)


def rewrite(src, dst, change):
    """Copy fixtures/tok/src to dst with change(key, value) applied to every metadata value."""
    import gguf
    r = gguf.GGUFReader(os.path.join(OUT, src))
    w = gguf.GGUFWriter(os.path.join(OUT, dst), bytes(r.fields["general.architecture"].parts[-1]).decode())
    for f in r.fields.values():
        if f.name.startswith("GGUF.") or f.name == "general.architecture":
            continue
        vt = f.types[0]
        if vt == gguf.GGUFValueType.ARRAY:
            et = f.types[1]
            vals = [bytes(f.parts[i]).decode() if et == gguf.GGUFValueType.STRING else f.parts[i].tolist()[0]
                    for i in f.data]
            w.add_array(f.name, change(f.name, vals))
        elif vt == gguf.GGUFValueType.STRING:
            w.add_key_value(f.name, change(f.name, bytes(f.parts[-1]).decode()), vt)
        else:
            w.add_key_value(f.name, change(f.name, f.parts[-1].tolist()[0]), vt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def llama3_split():
    """bytelevel_llama3.gguf: bytelevel_bpe.gguf naming the "llama-bpe" pre-tokenizer, and its
    expectation from tokenizers with that tokenizer.json's pre-tokenizer replaced by Llama 3's (Split
    on its regex, Isolated, then ByteLevel without its regex) and ignore_merges on, as Llama 3's
    tokenizer.json has them: the regex tfbench maps the name to, checked against tokenizers."""
    from tokenizers import Tokenizer
    rewrite("bytelevel_bpe.gguf", "bytelevel_llama3.gguf", lambda k, v: "llama-bpe" if k == "tokenizer.ggml.pre" else v)
    with open(os.path.join(TEXT, "bytelevel_bpe", "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    tj["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": LLAMA3_RE}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}
    tj["model"]["ignore_merges"] = True
    tok = Tokenizer.from_str(json.dumps(tj))
    with open(os.path.join(TEXT, "texts.bin"), "rb") as f:
        lines = f.read().split(b"\n")[:-1]
    out = {"kind": "bytelevel_llama3", "library": "tokenizers %s" % __import__("tokenizers").__version__,
           "lines": []}
    for raw in lines:
        enc = tok.encode(raw.decode("utf-8", errors="replace"))
        dec = tok.decode(enc.ids, skip_special_tokens=True)
        out["lines"].append({"ids": enc.ids, "tokens": enc.tokens, "decode": dec,
                             "decode_hex": dec.encode("utf-8").hex()})
    write_json("bytelevel_llama3.expected.json", out)


LLAMA3_RE = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
             "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")


def write_json(name, obj):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=0, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "convert":
        convert(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "expected":
        expected()
        malformed()
        llama3_split()
    else:
        sys.exit(__doc__)
