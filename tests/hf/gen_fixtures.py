#!/usr/bin/env python3
"""Golden fixtures for tfbench from an independent implementation (Hugging Face transformers).

Builds three tiny models with random, non-trivial weights (every tensor perturbed, so a loader or graph
builder that drops or swaps one changes the output), saves each the way a user would get it from
`save_pretrained(..., safe_serialization=True)`, and writes reference outputs computed in float64 from
exactly the saved (rounded) weights:

  fixtures/gpt2/    GPT2LMHeadModel   greedy generation, logits of every decoder position
  fixtures/bert/    BertForMaskedLM   MLM logits and last hidden state of every input position
  fixtures/marian/  MarianMTModel     encode a source, greedy decode, logits of every decoder position

Per fixture directory:
  config.json, model.safetensors   what save_pretrained wrote (nothing removed)
  inputs.json     {"arch", "tokens", "source_tokens", "n_gen"}  (tokens: GPT-2 prompt / BERT input;
                  source_tokens: Marian source; n_gen: greedy steps, 0 for BERT)
  logits.npy      float64 [rows, vocab], the row convention of tfb_generate's dump / `tfbench run
                  --dump-logits`: GPT-2 rows = prompt + every generated token but the last; Marian rows =
                  decoder start token + every generated token but the last; BERT rows = input tokens
  tokens.json     greedy tokens (GPT-2, Marian)
  hidden.npy      float64 [n, d_model] last hidden state (BERT)
  meta.json       versions, seed, weight dtype, greedy margins (how far each argmax is from a tie)

CI never runs this: it only compares against the files. Regenerate with the commands in README.md.
"""
import argparse
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
import transformers
from torch import nn
from transformers import (BertConfig, BertForMaskedLM, GPT2Config, GPT2LMHeadModel, MarianConfig,
                          MarianMTModel)
from transformers.pytorch_utils import Conv1D

# Per-model seeds and weight scales. The GPT-2 and Marian ones were picked by a search (see README.md): a random tiny
# post-LN model with a tied head tends to repeat one token forever, which would make a weak test of
# the decode loop; these give a varied greedy sequence with clear argmax margins and no eos.
SEEDS = {"gpt2": 20240538, "bert": 20240531, "marian": 20240590}
MARIAN_LIN_GAIN = 2.0
MARIAN_EMB_STD = 0.5
GPT2_EMB_STD = 0.18
VOCAB = 96
D_MODEL = 32
N_HEAD = 4
D_FF = 64
N_GEN = 8


def perturb(model, gen, skip_types=(), lin_gain=1.0, emb_std=0.5):
    """Give every trainable tensor random, non-trivial values (HF initialises LayerNorm to 1/0 and
    biases to 0, which would let a missing LayerNorm or bias go unnoticed). Matrices get
    N(0, lin_gain^2/fan_in) so activations stay O(1) and greedy argmaxes are well separated;
    embeddings N(0, emb_std^2). A tensor shared by two modules (tied LM head) is drawn once, by the
    first module that owns it (the embedding)."""
    seen = set()

    def fill(p, scale, offset=0.0):
        if id(p) in seen:
            return
        seen.add(id(p))
        r = torch.randn(p.shape, generator=gen, dtype=torch.float64)
        p.copy_((offset + scale * r).to(p.dtype))

    with torch.no_grad():
        for mod in model.modules():
            if skip_types and isinstance(mod, skip_types):
                continue
            if isinstance(mod, nn.LayerNorm):
                fill(mod.weight, 0.25, 1.0)
                fill(mod.bias, 0.2)
            elif isinstance(mod, nn.Linear):
                fill(mod.weight, lin_gain / math.sqrt(mod.in_features))
                if mod.bias is not None:
                    fill(mod.bias, 0.2)
            elif isinstance(mod, Conv1D):  # GPT-2: weight [in, out]
                fill(mod.weight, lin_gain / math.sqrt(mod.weight.shape[0]))
                fill(mod.bias, 0.2)
            elif isinstance(mod, nn.Embedding):
                fill(mod.weight, emb_std)


def check_all_perturbed(before, model, ignore=()):
    """Every floating-point tensor save_pretrained will write must differ from its HF init."""
    after = model.state_dict()
    for k, v in before.items():
        if not v.is_floating_point() or any(s in k for s in ignore):
            continue
        if torch.equal(v, after[k]):
            sys.exit(f"gen_fixtures: {k} was not perturbed")


def save_model(model, out, save_dtype):
    """Save in save_dtype, then return the model in float64 holding exactly the saved values."""
    model.to(save_dtype)
    model.save_pretrained(out, safe_serialization=True)
    model.to(torch.float64)
    model.eval()
    return model


def margins(rows, picked):
    """top1 - top2 of each row (rows whose argmax is a greedy choice)."""
    out = []
    for r, t in zip(rows, picked):
        s = np.sort(r)[::-1]
        assert int(np.argmax(r)) == t
        out.append(round(float(s[0] - s[1]), 6))
    return out


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, separators=(", ", ": "))
        f.write("\n")


def write_common(out, arch, inputs, logits, meta, tokens=None, hidden=None):
    inputs = dict(arch=arch, **inputs)
    write_json(os.path.join(out, "inputs.json"), inputs)
    np.save(os.path.join(out, "logits.npy"), np.ascontiguousarray(logits, dtype="<f8"))
    if tokens is not None:
        write_json(os.path.join(out, "tokens.json"), tokens)
    if hidden is not None:
        np.save(os.path.join(out, "hidden.npy"), np.ascontiguousarray(hidden, dtype="<f8"))
    meta = dict(generator="tests/hf/gen_fixtures.py", torch=torch.__version__,
                transformers=transformers.__version__, numpy=np.__version__, **meta)
    write_json(os.path.join(out, "meta.json"), meta)


# ---- GPT-2 --------------------------------------------------------------------------------------

def gen_gpt2(out, save_dtype, seed=SEEDS["gpt2"], emb_std=GPT2_EMB_STD):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    cfg = GPT2Config(vocab_size=VOCAB, n_positions=32, n_embd=D_MODEL, n_layer=2, n_head=N_HEAD,
                     n_inner=D_FF, activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0,
                     attn_pdrop=0.0, layer_norm_epsilon=1e-5, bos_token_id=1, eos_token_id=1)
    model = GPT2LMHeadModel(cfg).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    perturb(model, gen, emb_std=emb_std)
    check_all_perturbed(before, model)
    model = save_model(model, out, save_dtype)
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()

    prompt = [5, 17, 42, 3, 88, 61, 29]
    seq = list(prompt)
    with torch.no_grad():
        for _ in range(N_GEN):  # full recompute each step, float64
            logits = model(input_ids=torch.tensor([seq])).logits[0]
            seq.append(int(torch.argmax(logits[-1])))
        gen_tokens = seq[len(prompt):]
        # Causal model: the logits of every fed position in one pass (rows = prompt + n_gen - 1).
        rows = model(input_ids=torch.tensor([seq[:-1]])).logits[0].numpy()
    assert rows.shape == (len(prompt) + N_GEN - 1, VOCAB)
    m = margins(rows[len(prompt) - 1:], gen_tokens)
    if cfg.eos_token_id in gen_tokens:
        sys.exit("gen_fixtures: gpt2 generated eos; pick another prompt")
    write_common(out, "decoder", dict(tokens=prompt, source_tokens=[], n_gen=N_GEN), rows,
                 dict(seed=seed, emb_std=emb_std, save_dtype=str(save_dtype), greedy_margins=m, min_margin=min(m)),
                 tokens=gen_tokens)
    return gen_tokens, m


# ---- BERT ---------------------------------------------------------------------------------------

def gen_bert(out, save_dtype, seed=SEEDS["bert"]):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 2)
    cfg = BertConfig(vocab_size=VOCAB, hidden_size=D_MODEL, num_hidden_layers=2, num_attention_heads=N_HEAD,
                     intermediate_size=D_FF, hidden_act="gelu", hidden_dropout_prob=0.0,
                     attention_probs_dropout_prob=0.0, max_position_embeddings=32, type_vocab_size=2,
                     layer_norm_eps=1e-12, pad_token_id=0)
    model = BertForMaskedLM(cfg).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    perturb(model, gen)
    with torch.no_grad():  # the MLM output bias is a bare parameter (not in a Linear HF owns)
        b = model.cls.predictions.bias
        b.copy_(0.2 * torch.randn(b.shape, generator=gen, dtype=torch.float64).to(torch.float32))
    check_all_perturbed(before, model)
    model = save_model(model, out, save_dtype)
    assert model.cls.predictions.decoder.weight.data_ptr() == model.bert.embeddings.word_embeddings.weight.data_ptr()

    tokens = [2, 14, 77, 31, 9, 50, 63, 4, 3]
    ids = torch.tensor([tokens])
    with torch.no_grad():
        o = model(input_ids=ids, attention_mask=torch.ones_like(ids), token_type_ids=torch.zeros_like(ids),
                  output_hidden_states=True)
    logits = o.logits[0].numpy()
    hidden = o.hidden_states[-1][0].numpy()
    assert logits.shape == (len(tokens), VOCAB) and hidden.shape == (len(tokens), D_MODEL)
    top = [int(i) for i in np.argmax(logits, axis=1)]
    m = margins(logits, top)
    write_common(out, "encoder", dict(tokens=tokens, source_tokens=[], n_gen=0), logits,
                 dict(seed=seed, save_dtype=str(save_dtype), argmax=top, argmax_margins=m, min_margin=min(m)),
                 hidden=hidden)
    return top, m


# ---- Marian -------------------------------------------------------------------------------------

def sinusoidal_f64(n_pos, dim):
    """MarianSinusoidalPositionalEmbedding._init_weight in float64 (HF rounds it through float32;
    it is a fixed function, not a saved weight, so the reference uses the exact values)."""
    pos = np.arange(n_pos, dtype=np.float64)[:, None]
    j = np.arange(dim // 2, dtype=np.float64)[None, :]
    ang = pos / np.power(10000.0, 2.0 * j / dim)
    return torch.from_numpy(np.concatenate([np.sin(ang), np.cos(ang)], axis=1))


def gen_marian(out, save_dtype, seed=SEEDS["marian"], lin_gain=MARIAN_LIN_GAIN, emb_std=MARIAN_EMB_STD):
    from transformers.models.marian.modeling_marian import MarianSinusoidalPositionalEmbedding

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 3)
    pad, eos = VOCAB - 1, 0
    cfg = MarianConfig(vocab_size=VOCAB, decoder_vocab_size=VOCAB, d_model=D_MODEL, encoder_layers=2,
                       decoder_layers=2, encoder_attention_heads=N_HEAD, decoder_attention_heads=N_HEAD,
                       encoder_ffn_dim=D_FF, decoder_ffn_dim=D_FF, max_position_embeddings=64,
                       activation_function="swish", dropout=0.0, attention_dropout=0.0,
                       activation_dropout=0.0, scale_embedding=True, pad_token_id=pad, eos_token_id=eos,
                       forced_eos_token_id=eos, decoder_start_token_id=pad)
    model = MarianMTModel(cfg).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    perturb(model, gen, skip_types=(MarianSinusoidalPositionalEmbedding,), lin_gain=lin_gain, emb_std=emb_std)
    with torch.no_grad():
        flb = model.final_logits_bias
        flb.copy_(0.2 * torch.randn(flb.shape, generator=gen, dtype=torch.float64).to(torch.float32))
    check_all_perturbed(before, model, ignore=("embed_positions",))
    model = save_model(model, out, save_dtype)
    assert model.lm_head.weight.data_ptr() == model.model.shared.weight.data_ptr()
    with torch.no_grad():
        for emb in (model.model.encoder.embed_positions, model.model.decoder.embed_positions):
            emb.weight.copy_(sinusoidal_f64(*emb.weight.shape))

    src = [12, 45, 7, 80, 33, 21, 66, 8, 0]  # ends with eos, as a tokenizer would write it
    src_ids = torch.tensor([src])
    dec = [cfg.decoder_start_token_id]
    with torch.no_grad():
        for _ in range(N_GEN):  # greedy, full recompute, no stop at eos
            logits = model(input_ids=src_ids, attention_mask=torch.ones_like(src_ids),
                           decoder_input_ids=torch.tensor([dec])).logits[0]
            dec.append(int(torch.argmax(logits[-1])))
        gen_tokens = dec[1:]
        rows = model(input_ids=src_ids, attention_mask=torch.ones_like(src_ids),
                     decoder_input_ids=torch.tensor([dec[:-1]])).logits[0].numpy()
    assert rows.shape == (N_GEN, VOCAB)
    if eos in gen_tokens:
        sys.exit(f"gen_fixtures: marian generated eos {eos} within {N_GEN} steps: {gen_tokens}; "
                 "pick another seed or source")
    m = margins(rows, gen_tokens)
    write_common(out, "encdec", dict(tokens=[], source_tokens=src, n_gen=N_GEN), rows,
                 dict(seed=seed, lin_gain=lin_gain, emb_std=emb_std, save_dtype=str(save_dtype), greedy_margins=m,
                      min_margin=min(m),
                      note="eos (0) is never generated within n_gen, so tfb_generate's stop at eos "
                           "does not shorten the sequence"), tokens=gen_tokens)
    return gen_tokens, m


DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "fixtures"))
    ap.add_argument("--gpt2-dtype", default="f32", choices=DTYPES)
    ap.add_argument("--bert-dtype", default="f32", choices=DTYPES)
    ap.add_argument("--marian-dtype", default="f16", choices=DTYPES)
    args = ap.parse_args()
    torch.set_num_threads(1)
    jobs = [("gpt2", gen_gpt2, args.gpt2_dtype), ("bert", gen_bert, args.bert_dtype),
            ("marian", gen_marian, args.marian_dtype)]
    for name, fn, dt in jobs:
        out = os.path.join(args.out, name)
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        toks, m = fn(out, DTYPES[dt])
        size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
        print(f"{name}: {dt} weights, tokens {toks}, min margin {min(m):.4f}, {size} bytes")


if __name__ == "__main__":
    main()
