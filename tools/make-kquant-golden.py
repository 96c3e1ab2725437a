#!/usr/bin/env python3
"""Regenerates Tests/Fixtures/kquant-golden.json: slices of real Q5_0, Q4_K, Q6_K and Q8_0 tensors of
gemma-3-270m-q4_k_m.gguf, dequantized by gguf-py (gguf.quants.dequantize), with the absolute file offset of each
slice so a test can read the raw blocks without a GGUF reader.

Usage: python3 tools/make-kquant-golden.py [path/to/gemma-3-270m-q4_k_m.gguf]
Needs the `gguf` Python package (for this script only; slm does not depend on it).
"""
import hashlib
import json
import os
import sys

import numpy as np
from gguf import GGUFReader
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType
from gguf.quants import dequantize

MODEL = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/slm/models/gemma-3-270m-q4_k_m.gguf")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "kquant-golden.json")

# (tensor, row, first block in the row, number of blocks): a few hundred values per type, away from row starts.
SLICES = [
    ("blk.0.attn_k.weight", 37, 4, 8),        # Q5_0, 256 values
    ("blk.0.attn_output.weight", 100, 1, 2),  # Q4_K, 512 values
    ("blk.0.ffn_down.weight", 300, 3, 2),     # Q6_K, 512 values
    ("blk.0.attn_v.weight", 17, 2, 8),        # Q8_0, 256 values
]


def main():
    reader = GGUFReader(MODEL)
    tensors = {t.name: t for t in reader.tensors}
    out = []
    with open(MODEL, "rb") as f:
        for name, row, first_block, n_blocks in SLICES:
            t = tensors[name]
            block_size, type_size = GGML_QUANT_SIZES[t.tensor_type]
            row_elems = int(t.shape[0])  # gguf-py lists ne0 (the row length) first
            row_bytes = row_elems // block_size * type_size
            assert first_block + n_blocks <= row_elems // block_size
            offset = int(t.data_offset) + row * row_bytes + first_block * type_size
            size = n_blocks * type_size
            f.seek(offset)
            raw = f.read(size)
            # the absolute offset must address the same bytes gguf-py maps for the tensor
            mapped = np.asarray(t.data).reshape(-1).view(np.uint8)
            rel = offset - int(t.data_offset)
            assert raw == mapped[rel:rel + size].tobytes(), "data_offset is not an absolute file offset"
            values = dequantize(np.frombuffer(raw, dtype=np.uint8), t.tensor_type).reshape(-1)
            out.append({
                "tensor": name,
                "type": t.tensor_type.name,
                "ggml_type": int(t.tensor_type),
                "row": row,
                "first_block": first_block,
                "offset": offset,
                "bytes": size,
                "count": int(values.size),
                "sha256_bytes": hashlib.sha256(raw).hexdigest(),
                "values": [float(v) for v in values.astype(np.float32)],
            })
    # Types without a tensor in the model (Q5_K, Q5_1): seeded random blocks with finite f16 scales, dequantized by
    # gguf-py, stored with their bytes in hex.
    rng = np.random.default_rng(20240)
    synthetic = []
    for qtype, n_blocks, scale_fields in ((GGMLQuantizationType.Q5_K, 2, 2), (GGMLQuantizationType.Q5_1, 8, 2)):
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
        halves = rng.uniform(-0.05, 0.05, size=(n_blocks, scale_fields)).astype(np.float16)
        if qtype == GGMLQuantizationType.Q5_K:
            halves = np.abs(halves)  # d and dmin are non-negative in files
        raw[:, :2 * scale_fields] = halves.view(np.uint8).reshape(n_blocks, 2 * scale_fields)
        values = dequantize(raw.reshape(-1), qtype).reshape(-1)
        synthetic.append({
            "type": qtype.name,
            "ggml_type": int(qtype),
            "count": int(values.size),
            "hex": raw.tobytes().hex(),
            "values": [float(v) for v in values.astype(np.float32)],
        })
    doc = {
        "model": os.path.basename(MODEL),
        "generator": "tools/make-kquant-golden.py (gguf-py gguf.quants.dequantize)",
        "slices": out,
        "synthetic": synthetic,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}: " + ", ".join(f"{s['type']} x {s['count']}" for s in out + synthetic))


if __name__ == "__main__":
    main()
