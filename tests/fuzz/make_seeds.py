#!/usr/bin/env python3
"""Write a small seed corpus of safetensors files for fuzz_safetensors: python3 make_seeds.py DIR"""
import json
import os
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


if __name__ == "__main__":
    main()
