#!/usr/bin/env python3
"""Write the small valid GGUF fixtures of tests/gguf with the PyPI `gguf` package (llama.cpp's own
writer), and what they must read back as (expected.json): every metadata key with its value type
and value, every tensor with its ggml type, dims, offset, byte size and the sha256 of its bytes.

    python3 -m venv /tmp/hfvenv && /tmp/hfvenv/bin/pip install gguf==0.19.0 numpy
    /tmp/hfvenv/bin/python tests/gguf/gen_fixtures.py tests/gguf/fixtures

The fixtures are committed; rerun only to change them (the output is deterministic).
"""
import hashlib
import importlib.metadata
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGUFWriter, GGUFValueType as VT, GGMLQuantizationType as QT
from gguf.quants import quantize


def write(path, alignment=None):
    w = GGUFWriter(path, arch="tfbtest")
    if alignment is not None:
        w.add_custom_alignment(alignment)
    w.add_key_value("test.u8", 200, VT.UINT8)
    w.add_key_value("test.i8", -100, VT.INT8)
    w.add_key_value("test.u16", 60000, VT.UINT16)
    w.add_key_value("test.i16", -30000, VT.INT16)
    w.add_key_value("test.u32", 4000000000, VT.UINT32)
    w.add_key_value("test.i32", -2000000000, VT.INT32)
    w.add_key_value("test.u64", 18000000000000000000, VT.UINT64)
    w.add_key_value("test.i64", -9000000000000000000, VT.INT64)
    w.add_key_value("test.f32", 0.1, VT.FLOAT32)
    w.add_key_value("test.f64", 0.1, VT.FLOAT64)
    w.add_key_value("test.bool_t", True, VT.BOOL)
    w.add_key_value("test.bool_f", False, VT.BOOL)
    w.add_key_value("test.str", "h\u00e9llo \"gguf\"", VT.STRING)
    w.add_key_value("test.str_empty", "", VT.STRING)
    w.add_array("test.arr_i32", [1, -2, 3])
    w.add_key_value("test.arr_f32", [0.5, -1.25], VT.ARRAY, sub_type=VT.FLOAT32)
    w.add_key_value("test.arr_u8", list(range(20)), VT.ARRAY, sub_type=VT.UINT8)
    w.add_array("test.arr_str", ["a", "bc", "", "\u2581x"])
    w.add_array("test.arr_bool", [True, False, True])
    w.add_array("test.arr_nested", [["x", "yz"], ["w"]])

    rng = np.random.default_rng(18)
    f32 = rng.standard_normal((3, 5)).astype(np.float32)
    w.add_tensor("t.f32", f32)
    w.add_tensor("t.f16", rng.standard_normal((2, 4)).astype(np.float16))
    w.add_tensor("t.f32_1d", rng.standard_normal(7).astype(np.float32))
    w.add_tensor("t.f32_4d", rng.standard_normal((2, 1, 3, 2)).astype(np.float32))
    bf = quantize(rng.standard_normal((2, 8)).astype(np.float32), QT.BF16)
    w.add_tensor("t.bf16", bf, raw_dtype=QT.BF16)
    q8 = quantize(rng.standard_normal((2, 64)).astype(np.float32), QT.Q8_0)
    w.add_tensor("t.q8_0", q8, raw_dtype=QT.Q8_0)
    q4 = quantize(rng.standard_normal((3, 32)).astype(np.float32), QT.Q4_0)
    w.add_tensor("t.q4_0", q4, raw_dtype=QT.Q4_0)
    # The package has no Q6_K quantizer; the reader only sizes and names it, so any bytes of the
    # right length (2 rows of one 210-byte block) do.
    q6 = rng.integers(0, 256, size=(2, 210), dtype=np.uint8)
    w.add_tensor("t.q6_k", q6, raw_dtype=QT.Q6_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def expected(path):
    r = gguf.GGUFReader(path)
    kvs = []
    for f in r.fields.values():
        if f.name.startswith("GGUF."):  # the reader's own header fields, not metadata
            continue
        t = f.types[0]
        e = {"key": f.name, "type": t.name}
        if t == VT.ARRAY:
            e["elem"] = f.types[1].name
            if f.types[1] == VT.ARRAY:
                # the reader does not decode nested arrays; this is what write() stored
                assert f.name == "test.arr_nested"
                e["value"] = [["x", "yz"], ["w"]]
            else:
                e["value"] = f.contents()
        else:
            e["value"] = f.contents()
        kvs.append(e)
    ts = []
    for t in r.tensors:
        raw = bytes(np.asarray(t.data).tobytes())
        ts.append({
            "name": t.name, "ggml_type": int(t.tensor_type), "type": t.tensor_type.name,
            "dims": [int(x) for x in t.shape], "offset": int(t.data_offset - r.data_offset),
            "nbytes": int(t.n_bytes), "sha256": hashlib.sha256(raw).hexdigest(),
        })
    return {"file": os.path.basename(path), "version": 3, "alignment": int(r.alignment),
            "data_start": int(r.data_offset), "kv": kvs, "tensors": ts}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "fixtures")
    os.makedirs(out, exist_ok=True)
    exp = {"gguf_package": importlib.metadata.version("gguf"), "files": []}
    for name, al in (("all_types.gguf", None), ("align64.gguf", 64)):
        p = os.path.join(out, name)
        write(p, al)
        exp["files"].append(expected(p))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(exp, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
