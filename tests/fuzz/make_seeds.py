#!/usr/bin/env python3
"""Write small seed corpora: safetensors files for fuzz_safetensors into DIR, config.json /
index JSON for fuzz_hf_json into DIR/json, and small tokenizer.json files (one per model kind, with
the components tfbench implements) for fuzz_tokenizer_json into DIR/tokenizer.
GGUF files for fuzz_gguf (the committed fixtures of tests/gguf) go into DIR/gguf, the SentencePiece
.model files of tests/text/fixtures for fuzz_spm into DIR/spm.
usage: python3 make_seeds.py DIR"""
import json
import os
import shutil
import struct
import sys


def st(entries, data, pad=0, meta=True):
    hdr = {}
    if meta:
        hdr["__metadata__"] = {"format": "pt"}
    hdr.update(entries)
    h = json.dumps(hdr, separators=(",", ":")).encode() + b" " * pad
    return struct.pack("<Q", len(h)) + h + data


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    f32 = struct.pack("<6f", 1, -2, 0.5, 3, -0.25, 8)
    f16 = struct.pack("<4e", 1, -2, 0.5, 65504)
    bf16 = b"\x80\x3f\x00\xc0\x00\x3f\x80\x7f"
    seeds = {
        "f32": st({"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}, f32),
        "mixed": st({"w": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]},
                     "b": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [8, 16]},
                     "s": {"dtype": "F32", "shape": [], "data_offsets": [16, 20]},
                     "z": {"dtype": "F32", "shape": [0, 7], "data_offsets": [20, 20]},
                     "i": {"dtype": "I64", "shape": [1], "data_offsets": [20, 28]}},
                    f16 + bf16 + f32[:4] + struct.pack("<q", 7), pad=5),
        "empty": st({}, b"", meta=False),
        "meta-only": st({}, b""),
        "overlap": st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                       "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, f32),
        "4d": st({"m": {"dtype": "F32", "shape": [1, 1, 2, 3], "data_offsets": [0, 24]}}, f32),
    }
    for name, blob in seeds.items():
        with open(os.path.join(out, name + ".safetensors"), "wb") as fp:
            fp.write(blob)
    jdir = os.path.join(out, "json")
    os.makedirs(jdir, exist_ok=True)
    configs = {
        "gpt2": {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": 50257, "n_positions": 1024,
                 "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12, "n_inner": None,
                 "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "bos_token_id": 50256,
                 "eos_token_id": 50256},
        "bert": {"architectures": ["BertForMaskedLM"], "model_type": "bert", "vocab_size": 30522, "hidden_size": 768,
                 "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072, "hidden_act": "gelu",
                 "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0},
        "marian": {"architectures": ["MarianMTModel"], "model_type": "marian", "vocab_size": 58101,
                   "decoder_vocab_size": 58101, "d_model": 512, "encoder_layers": 6, "decoder_layers": 6,
                   "encoder_attention_heads": 8, "decoder_attention_heads": 8, "encoder_ffn_dim": 2048,
                   "decoder_ffn_dim": 2048, "activation_function": "swish", "max_position_embeddings": 512,
                   "scale_embedding": True, "normalize_before": False, "pad_token_id": 58100, "eos_token_id": 0,
                   "decoder_start_token_id": 58100},
        "bert_model": {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": 30522, "hidden_size": 384,
                       "num_hidden_layers": 6, "num_attention_heads": 12, "intermediate_size": 1536,
                       "hidden_act": "gelu", "max_position_embeddings": 512, "type_vocab_size": 2,
                       "layer_norm_eps": 1e-12, "pad_token_id": 0, "gradient_checkpointing": False,
                       "position_embedding_type": "absolute"},
        "llama": {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 32000,
                  "hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 22, "num_attention_heads": 32,
                  "num_key_value_heads": 4, "hidden_act": "silu", "max_position_embeddings": 2048,
                  "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": None, "tie_word_embeddings": False,
                  "attention_bias": False, "bos_token_id": 1, "eos_token_id": 2},
        "mistral": {"architectures": ["MistralForCausalLM"], "model_type": "mistral", "vocab_size": 32000,
                    "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
                    "num_attention_heads": 32, "num_key_value_heads": 8, "max_position_embeddings": 32768,
                    "sliding_window": None, "rope_parameters": {"rope_theta": 1000000.0, "rope_type": "default"}},
        "t5": {"architectures": ["T5ForConditionalGeneration"], "model_type": "t5", "vocab_size": 32128, "d_model": 768,
               "d_kv": 64, "d_ff": 2048, "num_layers": 12, "num_decoder_layers": 12, "num_heads": 12,
               "relative_attention_num_buckets": 32, "relative_attention_max_distance": 128,
               "feed_forward_proj": "gated-gelu", "dense_act_fn": "gelu_new", "is_gated_act": True,
               "tie_word_embeddings": False, "layer_norm_epsilon": 1e-6, "decoder_start_token_id": 0,
               "pad_token_id": 0, "eos_token_id": 1, "n_positions": 512},
        "index": {"metadata": {"total_size": 16}, "weight_map": {"a.weight": "model-00001-of-00002.safetensors",
                                                                 "b.weight": "model-00002-of-00002.safetensors",
                                                                 "c.bias": "model-00001-of-00002.safetensors"}},
    }
    for name, obj in configs.items():
        with open(os.path.join(jdir, name + ".json"), "w") as fp:
            json.dump(obj, fp, indent=2)

    tok_seeds(os.path.join(out, "tokenizer"))
    spm_seeds(os.path.join(out, "spm"))
    gdir = os.path.join(out, "gguf")
    os.makedirs(gdir, exist_ok=True)
    fix = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gguf", "fixtures")
    for name in sorted(os.listdir(fix)):
        if name.endswith(".gguf"):
            shutil.copyfile(os.path.join(fix, name), os.path.join(gdir, name))
    # The model fixtures (llama.cpp's conversions) seed the mapping of gguf_load.c.
    models = os.path.join(fix, "models")
    for name in sorted(os.listdir(models)):
        if name.endswith(".gguf"):
            shutil.copyfile(os.path.join(models, name), os.path.join(gdir, "model-" + name))
    # The tokenizer fixtures (the converter's set_vocab, and the malformed ones) seed gguf_tok.c.
    for sub in ("tok", os.path.join("tok", "bad")):
        d = os.path.join(fix, sub)
        for name in sorted(os.listdir(d)):
            if name.endswith(".gguf"):
                shutil.copyfile(os.path.join(d, name), os.path.join(gdir, "tok-" + name))


def spm_seeds(sdir):
    os.makedirs(sdir, exist_ok=True)
    fix = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "text", "fixtures")
    for sub, name in (("spm_bpe", "tokenizer.model"), ("spm_unigram", "spiece.model"), ("marian", "source.spm")):
        shutil.copyfile(os.path.join(fix, sub, name), os.path.join(sdir, sub + "-" + name))


def tok_seeds(tdir):
    os.makedirs(tdir, exist_ok=True)
    chars = ["a", "b", "c", "d", "e", " ", "\u0120", "\u2581", "##b", "##c", "[UNK]", "[CLS]", "[SEP]", "<0x41>", "<0xC3>",
             "<0xA9>", "ab", "abc", "\u0120a", "\u2581a"]
    vocab = {t: i for i, t in enumerate(chars)}
    added = [{"id": 10, "content": "[UNK]", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": True},
             {"id": 11, "content": "[CLS]", "single_word": False, "lstrip": True, "rstrip": False, "normalized": False,
              "special": True}]
    template = {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                                                         {"Sequence": {"id": "A", "type_id": 0}},
                                                         {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                "pair": [], "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [11], "tokens": ["[CLS]"]},
                                               "[SEP]": {"id": "[SEP]", "ids": [12], "tokens": ["[SEP]"]}}}
    seeds = {
        "bytelevel": {"normalizer": {"type": "NFC"}, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": True},
                      "model": {"type": "BPE", "vocab": vocab, "merges": ["a b", "ab c", "\u0120 a"]},
                      "decoder": {"type": "ByteLevel"}, "post_processor": {"type": "ByteLevel"}},
        "llama": {"normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                                                     {"type": "Replace", "pattern": {"String": " "},
                                                                      "content": "\u2581"}]},
                  "model": {"type": "BPE", "vocab": vocab, "merges": [["a", "b"], ["\u2581", "a"]], "byte_fallback": True,
                            "fuse_unk": True, "unk_token": "[UNK]"},
                  "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"},
                                                                "content": " "}, {"type": "ByteFallback"},
                                                               {"type": "Fuse"},
                                                               {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
                  "post_processor": template},
        "wordpiece": {"normalizer": {"type": "BertNormalizer", "lowercase": True, "strip_accents": None,
                                     "clean_text": True, "handle_chinese_chars": True},
                      "pre_tokenizer": {"type": "BertPreTokenizer"},
                      "model": {"type": "WordPiece", "vocab": vocab, "unk_token": "[UNK]",
                                "continuing_subword_prefix": "##", "max_input_chars_per_word": 100},
                      "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
                      "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 12], "cls": ["[CLS]", 11]},
                      "truncation": {"max_length": 8, "strategy": "LongestFirst", "stride": 0}},
        "unigram": {"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Strip",
                                                                        "strip_left": False, "strip_right": True},
                                                                       {"type": "Replace", "pattern": {"Regex": " {2,}"},
                                                                        "content": "\u2581"}]},
                    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                                      "split": True},
                    "model": {"type": "Unigram", "unk_id": 10, "vocab": [[t, -float(i) / 3] for i, t in enumerate(chars)]},
                    "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always"},
                    "post_processor": template},
        "wordlevel": {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                          {"type": "WhitespaceSplit"}, {"type": "Digits", "individual_digits": True},
                          {"type": "Punctuation", "behavior": "Isolated"},
                          {"type": "Split", "pattern": {"Regex": "\\p{L}+"}, "behavior": "MergedWithNext",
                           "invert": False}]},
                      "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}},
    }
    for name, t in seeds.items():
        doc = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
               "pre_tokenizer": None, "post_processor": None, "decoder": None}
        doc.update(t)
        with open(os.path.join(tdir, name + ".json"), "w") as fp:
            json.dump(doc, fp, ensure_ascii=False)


if __name__ == "__main__":
    main()
