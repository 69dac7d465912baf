#!/usr/bin/env python3
"""GGUF model fixtures converted by llama.cpp's own convert-hf-to-gguf.py from the safetensors fixtures
of tests/hf/fixtures (the same weights), so the tensor names, the hyper-parameter keys and the Q/K row
permutation are llama.cpp's, not tfbench's:

  fixtures/models/llama_gqa.f32.gguf   converter --outtype f32
  fixtures/models/llama_gqa.q8_0.gguf  converter --outtype q8_0 (the converter's Q8_0 of the gguf package)
  fixtures/models/llama_gqa.q4_0.gguf  the f32 file with every 2-D matrix (token_embd too) requantized to
                                       Q4_0 by the gguf package, output.weight to Q8_0 (a mixed file, as
                                       llama-quantize without --pure writes them)
  fixtures/models/llama_gqa.q4_0_tied.gguf  the same without output.weight: a head tied to a Q4_0 table
  fixtures/models/bert_model.f32.gguf  converter --outtype f32 (BertModel; the converter drops the pooler)
  fixtures/models/t5_d128/, t5_d128_gated/  tiny T5ForConditionalGeneration saved by transformers here
                                       (see make_t5), and their .f32.gguf conversions
  fixtures/models/kquants.gguf         random blocks of Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K (--gguf-convert)
  fixtures/models/dequant.json         sha256 of the gguf package's dequantization of every tensor of the
                                       q8_0, q4_0 and kquants files
  fixtures/models/mistral.f32.gguf     converter --outtype f32 (multi-query: one kv head)
  fixtures/models/gpt2.f32.gguf        converter --outtype f32: refused, the converter writes feed_forward_length
                                       4 * n_embd though this fixture's n_inner is 64 (llama.cpp refuses it too)
  fixtures/models/gpt2_ff4/            a tiny GPT2LMHeadModel with n_inner unset, saved by transformers here
                                       (weights not from tests/hf: see make_gpt2_ff4)
  fixtures/models/gpt2_ff4.f32.gguf    converter --outtype f32 (output.weight: its copy of token_embd)
  fixtures/models/gpt2_ff4.q8_0.gguf   converter --outtype q8_0

The converter comes from the llama-cpp-python sdist on PyPI and is run from a temporary directory,
never vendored. The current converter needs torch >= 2.1 at import (float8 dtypes); on Debian's
python3-torch 1.13 with transformers 4.40.2 two older ones run, each with the PyPI gguf release that
matches its gguf-py:
  - llama-cpp-python 0.2.76 (llama.cpp of May 2024, convert-hf-to-gguf.py) with gguf 0.9.1: every
    file but T5's, which it predates;
  - llama-cpp-python 0.2.85 (July 2024, convert_hf_to_gguf.py, the first with T5) with gguf 0.10.0
    (0.9.1, its nominal version, lacks a writer method it calls; 0.10.0 lacks the Q8_0 helpers its
    --outtype q8_0 calls, so only f32 files come from it): the T5 files. It names float8 dtypes in a
    table of safetensors dtype names, so torch 1.13 gets placeholder attributes for the two names (no
    tensor here is float8).

    apt-get install python3-torch python3-venv
    /usr/bin/python3 -m venv --system-site-packages /tmp/conv76 && /tmp/conv76/bin/pip install transformers==4.40.2 gguf==0.9.1
    /usr/bin/python3 -m venv --system-site-packages /tmp/conv85 && /tmp/conv85/bin/pip install transformers==4.40.2 gguf==0.10.0
    pip download llama-cpp-python==0.2.76 --no-deps --no-binary :all: -d /tmp/sdist
    pip download llama-cpp-python==0.2.85 --no-deps --no-binary :all: -d /tmp/sdist
    /tmp/conv76/bin/python tests/gguf/gen_model_fixtures.py convert /tmp/sdist/llama_cpp_python-0.2.76.tar.gz
    /tmp/conv85/bin/python tests/gguf/gen_model_fixtures.py convert /tmp/sdist/llama_cpp_python-0.2.85.tar.gz
    # then the Q4_0 files and dequant.json, with the gguf package of gen_fixtures.py (0.19.0):
    /tmp/hfvenv/bin/python tests/gguf/gen_model_fixtures.py q4_0

The tiny fixtures ship no tokenizer files, so the converter's set_vocab is replaced by a synthetic
vocabulary (tokens "<tN>", the config's bos/eos ids), and GPT-2's config.json gets the n_ctx key this
converter reads (= n_positions; transformers 4.40 no longer writes it): tfbench's GGUF model loader does not read the
tokenizer metadata yet. Everything else is the converter's own code path. Deterministic: rerunning gives
the same bytes.
"""
import importlib.metadata
import importlib.util
import json
import os
import shutil
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
HF = os.path.join(HERE, "..", "hf", "fixtures")
OUT = os.path.join(HERE, "fixtures", "models")

CONVERT = [("llama_gqa", "f32"), ("llama_gqa", "q8_0"), ("mistral", "f32"), ("gpt2", "f32"), ("gpt2_ff4", "f32"),
           ("gpt2_ff4", "q8_0"), ("bert_model", "f32"), ("t5_d128", "f32"), ("t5_d128_gated", "f32")]
MADE_HERE = ("gpt2_ff4", "t5_d128", "t5_d128_gated")


def make_t5(name, gated):
    """fixtures/models/t5_d128{,_gated}/: T5ForConditionalGeneration with the relative positions'
    max distance at 128, the only one a GGUF file can describe (it has no key for it), and as many
    decoder as encoder layers (block_count is one number): tests/hf's T5 fixtures have 20 and 32,
    and t5_v11 one decoder layer. t5_d128: v1.0 (relu, head tied and scaled by d_model^-0.5);
    t5_d128_gated: v1.1 (gated-gelu, own lm_head)."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(20 if gated else 19)
    cfg = T5Config(vocab_size=96, d_model=32, d_kv=8, d_ff=48 if gated else 64, num_layers=2, num_decoder_layers=2,
                   num_heads=4, relative_attention_num_buckets=16, relative_attention_max_distance=128,
                   dropout_rate=0.0, feed_forward_proj="gated-gelu" if gated else "relu",
                   tie_word_embeddings=not gated, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    model = T5ForConditionalGeneration(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    model.save_pretrained(os.path.join(OUT, name), safe_serialization=True)


def make_gpt2_ff4():
    """fixtures/models/gpt2_ff4/: a GPT2LMHeadModel with n_inner unset (4 * n_embd), which is all
    llama.cpp's GPT-2 converter writes as feed_forward_length: every tests/hf GPT-2 fixture sets
    n_inner, so their conversions are refused (the file's metadata contradicts its tensors)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(18)
    cfg = GPT2Config(vocab_size=96, n_positions=32, n_embd=32, n_layer=2, n_head=4, bos_token_id=1,
                     eos_token_id=1, attn_pdrop=0.0, embd_pdrop=0.0, resid_pdrop=0.0)
    model = GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():  # every tensor perturbed, biases and norms included
            p.add_(torch.randn_like(p) * 0.1)
    dst = os.path.join(OUT, "gpt2_ff4")
    model.save_pretrained(dst, safe_serialization=True)
    return dst


def synthetic_vocab(self):
    import gguf
    hp = self.hparams
    n = hp["vocab_size"]
    w = self.gguf_writer
    bert = self.model_arch == gguf.MODEL_ARCH.BERT
    if bert:
        w.add_token_type_count(2)  # what the converter's BERT set_vocab adds besides the vocabulary
    w.add_tokenizer_model("bert" if bert else "llama")
    w.add_token_list([("<t%d>" % i).encode() for i in range(n)])
    w.add_token_scores([0.0] * n)
    w.add_token_types([int(gguf.TokenType.NORMAL)] * n)
    for key, add in (("bos_token_id", w.add_bos_token_id), ("eos_token_id", w.add_eos_token_id)):
        if hp.get(key) is not None:
            add(int(hp[key]))


def convert(sdist):
    tmp = tempfile.mkdtemp(prefix="tfb-gguf-conv-")
    try:
        with tarfile.open(sdist) as tf:
            members = [m for m in tf.getmembers()
                       if m.name.count("/") == 3 and m.name.endswith(".py") and "/vendor/llama.cpp/" in m.name]
            tf.extractall(tmp, members=members)
        scripts = [os.path.join(tmp, m.name) for m in members
                   if m.name.endswith(("/convert_hf_to_gguf.py", "/convert-hf-to-gguf.py"))]
        script = scripts[0]
        t5_converter = script.endswith("convert_hf_to_gguf.py")
        import torch
        for name in ("float8_e4m3fn", "float8_e5m2"):  # named in a dtype table only (see above)
            if not hasattr(torch, name):
                setattr(torch, name, torch.uint8)
        sys.path.insert(0, os.path.dirname(script))
        os.environ["NO_LOCAL_GGUF"] = "1"  # the gguf package from PyPI, not the sdist's copy
        spec = importlib.util.spec_from_file_location("tfb_convert_hf", script)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        mod.LlamaModel.set_vocab = synthetic_vocab
        mod.GPT2Model.set_vocab = synthetic_vocab
        mod.BertModel.set_vocab = synthetic_vocab
        if t5_converter:
            mod.T5Model.set_vocab = synthetic_vocab
        os.makedirs(OUT, exist_ok=True)
        if t5_converter:
            make_t5("t5_d128", gated=False)
            make_t5("t5_d128_gated", gated=True)
        else:
            make_gpt2_ff4()
        for name, outtype in CONVERT:
            if name.startswith("t5") != t5_converter:
                continue
            src = os.path.join(tmp, "%s.%s" % (name, outtype))
            shutil.copytree(os.path.join(OUT if name in MADE_HERE else HF, name), src)
            cfg_path = os.path.join(src, "config.json")
            with open(cfg_path) as f:
                cfg = json.load(f)
            if cfg.get("model_type") == "gpt2" and "n_ctx" not in cfg:
                # This converter reads GPT-2's n_ctx, which transformers 4.40 no longer writes (n_positions).
                cfg["n_ctx"] = cfg["n_positions"]
                with open(cfg_path, "w") as f:
                    json.dump(cfg, f)  # the converter may write next to its input
            dst = os.path.join(OUT, "%s.%s.gguf" % (name, outtype))
            sys.argv = ["convert-hf-to-gguf.py", src, "--outfile", dst, "--outtype", outtype]
            mod.main()
    finally:
        shutil.rmtree(tmp)


def requantize_q4_0():
    write_q4_0("llama_gqa.q4_0.gguf", keep_output=True)
    write_q4_0("llama_gqa.q4_0_tied.gguf", keep_output=False)
    write_kquants()
    write_dequant()


def write_kquants():
    """kquants.gguf: random blocks of each type --gguf-convert dequantizes (tfbench cannot quantize
    to them and the gguf package does not quantize k-quants, but any bytes are valid blocks once
    their fp16 scales are finite): per type a [2, 512] tensor named after it."""
    import numpy as np
    import gguf
    from gguf import GGMLQuantizationType as QT

    rng = np.random.default_rng(18)
    w = gguf.GGUFWriter(os.path.join(OUT, "kquants.gguf"), "tfbtest")
    # type: byte offsets of its fp16 scales within a block
    for qt, scales in ((QT.Q4_1, (0, 2)), (QT.Q5_0, (0,)), (QT.Q5_1, (0, 2)), (QT.Q4_K, (0, 2)),
                       (QT.Q5_K, (0, 2)), (QT.Q6_K, (208,))):
        per, nb = gguf.GGML_QUANT_SIZES[qt]
        rows, cols = 2, 512
        blocks = rng.integers(0, 256, size=(rows * cols // per, nb), dtype=np.uint8)
        for off in scales:
            d = rng.uniform(0.001, 0.1, size=blocks.shape[0]).astype(np.float16)
            blocks[:, off:off + 2] = d.view(np.uint8).reshape(-1, 2)
        w.add_tensor(qt.name, blocks.reshape(rows, cols // per * nb), raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_dequant():
    """dequant.json: per quantized file, per tensor, the sha256 of the gguf package's dequantization
    (float32 little-endian, row-major), which tfbench's f32 twin must reproduce bit for bit."""
    import hashlib
    import numpy as np
    import gguf
    from gguf.quants import dequantize

    out = {"gguf": importlib.metadata.version("gguf")}
    for name in ("llama_gqa.q8_0.gguf", "llama_gqa.q4_0.gguf", "kquants.gguf"):
        r = gguf.GGUFReader(os.path.join(OUT, name))
        out[name] = {t.name: hashlib.sha256(np.ascontiguousarray(
            dequantize(np.asarray(t.data), t.tensor_type), dtype="<f4").tobytes()).hexdigest()
            for t in r.tensors}
    with open(os.path.join(OUT, "dequant.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


def write_q4_0(dst_name, keep_output):
    import numpy as np
    import gguf
    from gguf import GGMLQuantizationType as QT
    from gguf.quants import quantize

    src = os.path.join(OUT, "llama_gqa.f32.gguf")
    dst = os.path.join(OUT, dst_name)
    r = gguf.GGUFReader(src)
    arch = bytes(r.fields["general.architecture"].parts[-1]).decode()
    w = gguf.GGUFWriter(dst, arch)
    for f in r.fields.values():
        if f.name.startswith("GGUF.") or f.name == "general.architecture":
            continue
        vt = f.types[0]
        if vt == gguf.GGUFValueType.ARRAY:
            et = f.types[1]
            vals = [bytes(f.parts[i]).decode() if et == gguf.GGUFValueType.STRING else f.parts[i].tolist()[0]
                    for i in f.data]
            w.add_key_value(f.name, vals, vt, sub_type=et)
        elif vt == gguf.GGUFValueType.STRING:
            w.add_key_value(f.name, bytes(f.parts[-1]).decode(), vt)
        else:
            w.add_key_value(f.name, f.parts[-1].tolist()[0], vt)
    for t in r.tensors:
        if t.name == "output.weight" and not keep_output:
            continue
        data = np.array(t.data, dtype=np.float32).reshape(list(reversed([int(x) for x in t.shape])))
        if data.ndim == 2:
            # llama-quantize without --pure keeps the output matrix at a higher precision (Q6_K
            # there); Q8_0 stands in, making the file mixed.
            qt = QT.Q8_0 if t.name == "output.weight" else QT.Q4_0
            w.add_tensor(t.name, quantize(data, qt), raw_dtype=qt)
        else:
            w.add_tensor(t.name, data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "convert":
        convert(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "q4_0":
        requantize_q4_0()
    else:
        sys.exit(__doc__)
