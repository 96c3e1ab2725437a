#!/usr/bin/env python3
"""Builds small test model files of the architectures slm runs besides SmolLM2's llama and gemma3: qwen2, qwen3,
llama (Llama 3 style), phi3 and gemma2, each from SmolLM2-135M-Instruct's real tensors (dequantized to F32 with gguf-py)
re-laid into that architecture's layout, so that their logits are trained-like and peaked, with the tensors and keys
that distinguish the architecture added:

- qwen2: Q/K rows un-permuted to NEOX pairing (llama.cpp's converter permutes them for llama's adjacent pairs);
  non-zero Q/K/V biases (a fraction of each layer's typical Q/K activation size).
- qwen3: NEOX as qwen2; per-head attn_q_norm / attn_k_norm weights [64] with +-10% variation across dimensions (the
  Q/K rows divided by it). Fully normalising SmolLM2's heads to a fixed size, which it was not trained with, gives
  flat logits (perplexity 158), so the norm is made soft with the file's epsilon: layer_norm_rms_epsilon 0.1, the Q/K
  rows scaled so that a typical head's mean square is 0.3 x epsilon (QWEN3_SOFTNESS), and the norm weights restoring
  the typical size: x / sqrt(mean(x^2) + eps) still depends on each head's own size (by 1 / sqrt(1 + 0.3) for a
  typical one), and the model keeps SmolLM2's conditioning (perplexity 18.9 in llama.cpp; in a numpy forward pass
  over the fixture prompts, 21.0 against SmolLM2's 20.5, where full normalisation, i.e. an epsilon of 1e-6, gives
  119). The residual stream is 1024 x SmolLM2's (embedding, attn_output and ffn_down x 1024, output_norm / 1024 for
  the tied output), so that epsilon is negligible in the main RMSNorms.
- llama: Llama 3 RoPE frequency factors (rope_freqs.weight, Llama 3's formula with factor 8, low/high frequency factors
  1/4 and an original context of 1024, so the factors bite on the long prompts) and an untied output.weight (the
  embedding with +-3% variation, so a tied read would show).
- phi3: fused attn_qkv (Q, K, V rows) and fused ffn_up (gate rows, then up rows); LongRoPE short/long factor tensors,
  original context 4096 of 131072, and attention factor 1.19 (Phi-3.5-mini's), with Q/K weights divided by it so the
  scores keep their trained size.
- gemma2: embeddings scaled by sqrt(576) = 24 at run time, so the post-attention / post-FFN norm weights are 24 x each
  layer's typical attention / FFN output RMS (the residual stream is SmolLM2's times 24, which the pre-norms ignore);
  GeGLU instead of SwiGLU, so gate / 1.702 and up * 1.702 (gelu(x / 1.702) * 1.702 ~ silu(x)); attention logit
  soft-capping 25 and final logit soft-capping 30 (both bite: SmolLM2's scores reach 40-60 and logits 36);
  sliding window 256 on even layers (pattern 2), shorter than the long prompts.

The per-layer activation sizes (LAYER_STATS) were measured once by a numpy forward pass of SmolLM2 over 296 tokens of
Tests/Fixtures/logits-visible.json (`--calibrate` reprints them) and are written here as constants, and variation
comes from an integer hash, so the files are byte-for-byte deterministic: Tests/Fixtures/arch-models/sha256.txt
lists their sha256.

Usage: make-arch-models.py --source SmolLM2-135M-Instruct.Q4_1.gguf --out DIR [--arch qwen2,...] [--type F32,Q8_0]
Writes DIR/<arch>-smollm2.<type>.gguf. Q8_0 is quantized here with gguf-py (every 2-D tensor; 1-D ones stay F32).
Requires gguf==0.19.0 (pinned: its Q8_0 rounding decides the bytes) and numpy.

Speed-shaped files (--shape): random weights in the real shapes and GGUF hyperparameters of a model that cannot be
downloaded here, for speed comparisons only (their logits mean nothing):

- qwen2-0.5b: Qwen2.5-0.5B-Instruct: hidden 896, 24 layers, 14 heads, 2 KV heads (head size 64), FFN 4864, Q/K/V
  biases, tied embeddings, rope base 1e6, RMS eps 1e-6, context 32768 (494M parameters).
- qwen3-0.6b: Qwen3-0.6B: hidden 1024, 28 layers, 16 heads, 8 KV heads, head size 128 (qwen3.attention.key_length,
  so the Q projection is 2048 wide), FFN 3072, per-head Q/K norms, tied embeddings, rope base 1e6, RMS eps 1e-6,
  context 40960 (596M parameters).

Both use the Qwen2 BPE vocabulary (151,936 tokens, pre-tokenizer qwen2) copied from llama.cpp's vocab-only test file
models/ggml-vocab-qwen2.gguf (tools/fetch-vocabs puts it in $SLM_HOME/test-data), with Qwen's special ids (bos/pad
<|endoftext|>, eos <|im_end|>, no BOS added). Weights: seeded numpy normals (numpy's PCG64, one seed per tensor name),
matrices with std 1/sqrt(row length), the embedding with std 1/sqrt(hidden) (so the tied output's logits have std ~1),
norm weights 1 +- 0.1, biases std 0.1; 2-D tensors F16, 1-D F32. Then llama-quantize makes the Q4_K_M:

    make-arch-models.py --shape qwen2-0.5b --vocab ggml-vocab-qwen2.gguf --out DIR   # DIR/qwen2-0.5b-shape.F16.gguf
    llama-quantize DIR/qwen2-0.5b-shape.F16.gguf DIR/qwen2-0.5b-shape.Q4_K_M.gguf Q4_K_M

(896-wide rows are not multiples of 256, so llama-quantize puts qwen2-0.5b's 896-wide matrices in Q5_0 / Q8_0 as it
does for the real Qwen2.5-0.5B.)
"""
import argparse
import os
import sys
import zlib

import numpy as np
import gguf

E, L, H, HKV, D, F = 576, 30, 9, 3, 64, 1536
ROPE_BASE = 100000.0
ARCHS = ["qwen2", "qwen3", "llama", "phi3", "gemma2"]

# Per layer: typical (mean over tokens and heads) RMS of a Q head and a K head before RoPE, median RMS of the attention
# output (after attn_output) and of the FFN output, per token. From `--calibrate`, rounded to 3 digits.
LAYER_STATS = [
    # q, k, attn_out, ffn_out
    (1.07, 1.27, 0.115, 1.73), (1.46, 2.25, 1.22, 0.616), (1.42, 2.12, 0.521, 0.709), (1.68, 2.06, 0.402, 0.677),
    (1.58, 2.09, 0.457, 0.837), (1.62, 2.03, 0.520, 0.912), (1.57, 2.03, 0.511, 0.935), (1.71, 1.97, 0.492, 1.09),
    (1.65, 1.94, 0.722, 1.36), (1.69, 2.26, 0.692, 1.46), (1.70, 2.48, 0.900, 1.44), (1.51, 2.67, 0.998, 1.33),
    (1.90, 2.23, 0.909, 1.33), (2.07, 2.34, 0.984, 1.32), (1.97, 2.10, 0.782, 1.30), (1.94, 2.10, 1.08, 1.56),
    (2.20, 2.32, 1.55, 1.52), (2.20, 2.02, 1.12, 1.59), (2.21, 2.39, 1.22, 2.22), (2.22, 2.32, 1.75, 2.37),
    (2.03, 2.17, 1.12, 3.27), (1.99, 2.16, 2.19, 3.10), (2.08, 2.25, 2.08, 3.98), (1.89, 2.15, 2.27, 4.40),
    (1.91, 1.89, 8.11, 4.57), (2.29, 2.30, 2.25, 4.67), (2.22, 2.18, 2.47, 5.30), (2.38, 2.33, 5.08, 6.66),
    (1.96, 1.97, 3.90, 8.38), (2.06, 1.97, 4.57, 21.7),
]

GEMMA_ATTN_SOFTCAP = 25.0
GEMMA_FINAL_SOFTCAP = 30.0
GEMMA_WINDOW = 256
PHI3_ATTN_FACTOR = 1.1902380714238083
PHI3_ORIGINAL_CONTEXT = 4096
GELU_SILU = 1.702
QWEN3_EPS = 0.1
QWEN3_RESIDUAL = 1024.0
QWEN3_SOFTNESS = 0.3


def noise(seed, shape):
    """Deterministic uniform values in [-1, 1): splitmix64 of (seed, index), integer arithmetic only."""
    n = int(np.prod(shape))
    with np.errstate(over="ignore"):
        z = np.arange(n, dtype=np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(40)).astype(np.float64) / float(1 << 23) - 1.0).astype(np.float32).reshape(shape)


def load_source(path):
    r = gguf.GGUFReader(path)
    tensors = {}
    for t in r.tensors:
        shape = [int(x) for x in reversed(t.shape)]  # numpy order: [rows, row length]
        tensors[t.name] = np.ascontiguousarray(gguf.quants.dequantize(t.data, t.tensor_type).reshape(shape),
                                               dtype=np.float32)
    return r, tensors


def unpermute(w, heads):
    """Inverse of llama.cpp's converter permute (HF -> GGUF llama): rows back to NEOX order within each head."""
    return np.ascontiguousarray(w.reshape(heads, w.shape[0] // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape))


def llama3_rope_factors(dims, base, factor=8.0, low=1.0, high=4.0, original=1024):
    """Llama 3's rope_freqs (llama.cpp's convert_hf_to_gguf.py LlamaModel.generate_extra_tensors)."""
    freqs = 1.0 / (base ** (np.arange(0, dims, 2, dtype=np.float32) / dims))
    low_wavelen, high_wavelen = original / low, original / high
    out = []
    for f in freqs:
        wavelen = 2 * np.pi / f
        if wavelen < high_wavelen:
            out.append(1.0)
        elif wavelen > low_wavelen:
            out.append(factor)
        else:
            smooth = (original / wavelen - low) / (high - low)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def common_tensors(T, arch):
    """(name, array) in file order for one architecture, from SmolLM2's F32 tensors T."""
    # qwen3: the residual stream is QWEN3_RESIDUAL x SmolLM2's (embedding, attention and FFN outputs scaled; the tied
    # output's logits come back through output_norm / QWEN3_RESIDUAL), so the large file epsilon leaves the main norms
    # alone; Q and K rows are scaled so that a typical head's mean square is QWEN3_SOFTNESS x epsilon.
    res = np.float32(QWEN3_RESIDUAL if arch == "qwen3" else 1)
    out = [("token_embd.weight", T["token_embd.weight"] * res)]
    neox = arch != "llama"
    if arch == "llama":
        out.append(("rope_freqs.weight", llama3_rope_factors(D, ROPE_BASE)))
    if arch == "phi3":
        i = np.arange(D // 2, dtype=np.float32) / (D // 2 - 1)
        out.append(("rope_factors_short.weight", (1 + 0.8 * i * i) * (1 + 0.05 * noise(71, [D // 2]))))
        out.append(("rope_factors_long.weight", (1 + 7.0 * i * i) * (1 + 0.05 * noise(72, [D // 2]))))
    for l in range(L):
        p = f"blk.{l}."
        qs, ks, ao, fo = LAYER_STATS[l]
        wq, wk, wv = T[p + "attn_q.weight"], T[p + "attn_k.weight"], T[p + "attn_v.weight"]
        if neox:
            wq, wk = unpermute(wq, H), unpermute(wk, HKV)
        if arch == "qwen3":
            vq, vk = 1 + 0.1 * noise(4000 + l, [D]), 1 + 0.1 * noise(5000 + l, [D])
            aq, ak = (np.sqrt(QWEN3_SOFTNESS * QWEN3_EPS) / s for s in (qs, ks))
            wq = (wq.reshape(H, D, E) * (np.float32(aq) / vq)[None, :, None]).reshape(H * D, E)
            wk = (wk.reshape(HKV, D, E) * (np.float32(ak) / vk)[None, :, None]).reshape(HKV * D, E)
        gate, up = T[p + "ffn_gate.weight"], T[p + "ffn_up.weight"]
        out.append((p + "attn_norm.weight", T[p + "attn_norm.weight"]))
        if arch == "phi3":
            s = np.float32(1 / PHI3_ATTN_FACTOR)
            out.append((p + "attn_qkv.weight", np.concatenate([wq * s, wk * s, wv], axis=0)))
        else:
            out += [(p + "attn_q.weight", wq), (p + "attn_k.weight", wk), (p + "attn_v.weight", wv)]
        if arch == "qwen2":
            out.append((p + "attn_q.bias", np.float32(0.3 * qs) * noise(1000 + l, [H * D])))
            out.append((p + "attn_k.bias", np.float32(0.3 * ks) * noise(2000 + l, [HKV * D])))
            out.append((p + "attn_v.bias", np.float32(0.05) * noise(3000 + l, [HKV * D])))
        if arch == "qwen3":
            g = np.sqrt(QWEN3_EPS * (1 + QWEN3_SOFTNESS))
            out.append((p + "attn_q_norm.weight", np.float32(g / aq) * vq))
            out.append((p + "attn_k_norm.weight", np.float32(g / ak) * vk))
        out.append((p + "attn_output.weight", T[p + "attn_output.weight"] * res))
        if arch == "gemma2":
            out.append((p + "post_attention_norm.weight", np.float32(24 * ao) * (1 + 0.05 * noise(6000 + l, [E]))))
        out.append((p + "ffn_norm.weight", T[p + "ffn_norm.weight"]))
        if arch == "phi3":
            out.append((p + "ffn_up.weight", np.concatenate([gate, up], axis=0)))
        elif arch == "gemma2":
            out += [(p + "ffn_gate.weight", gate * np.float32(1 / GELU_SILU)),
                    (p + "ffn_up.weight", up * np.float32(GELU_SILU))]
        else:
            out += [(p + "ffn_gate.weight", gate), (p + "ffn_up.weight", up)]
        out.append((p + "ffn_down.weight", T[p + "ffn_down.weight"] * res))
        if arch == "gemma2":
            out.append((p + "post_ffw_norm.weight", np.float32(24 * fo) * (1 + 0.05 * noise(7000 + l, [E]))))
    out.append(("output_norm.weight", T["output_norm.weight"] / res))
    if arch == "llama":
        out.append(("output.weight", T["token_embd.weight"] * (1 + 0.03 * noise(8000, [T["token_embd.weight"].shape[0], E]))))
    return [(n, np.ascontiguousarray(a, dtype=np.float32)) for n, a in out]


def arch_keys(w, arch):
    """The architecture's hyperparameters, by their GGUF key names."""
    a = arch
    w.add_uint32(f"{a}.context_length", 131072 if a == "phi3" else 8192)
    w.add_uint32(f"{a}.embedding_length", E)
    w.add_uint32(f"{a}.block_count", L)
    w.add_uint32(f"{a}.feed_forward_length", F)
    w.add_uint32(f"{a}.attention.head_count", H)
    w.add_uint32(f"{a}.attention.head_count_kv", HKV)
    w.add_float32(f"{a}.rope.freq_base", ROPE_BASE)
    w.add_float32(f"{a}.attention.layer_norm_rms_epsilon", QWEN3_EPS if a == "qwen3" else 1e-5)
    if a in ("llama", "phi3"):
        w.add_uint32(f"{a}.rope.dimension_count", D)
    if a == "llama":
        w.add_uint32("llama.vocab_size", 49152)
    if a in ("qwen3", "gemma2"):
        w.add_uint32(f"{a}.attention.key_length", D)
        w.add_uint32(f"{a}.attention.value_length", D)
    if a == "phi3":
        w.add_uint32("phi3.rope.scaling.original_context_length", PHI3_ORIGINAL_CONTEXT)
        w.add_float32("phi3.rope.scaling.attn_factor", PHI3_ATTN_FACTOR)
    if a == "gemma2":
        w.add_float32("gemma2.attn_logit_softcapping", GEMMA_ATTN_SOFTCAP)
        w.add_float32("gemma2.final_logit_softcapping", GEMMA_FINAL_SOFTCAP)
        w.add_uint32("gemma2.attention.sliding_window", GEMMA_WINDOW)


def write(path, reader, arch, tensors, qtype):
    w = gguf.GGUFWriter(path, arch)
    # llama.cpp's vocabulary loader special-cases a general.name containing "phi3" (it then needs Phi-3's "</s>").
    layout = "fused-QKV" if arch == "phi3" else arch
    w.add_string("general.name", f"SmolLM2-135M re-laid as {layout} (slm test model)")
    w.add_string("general.license", "apache-2.0")
    arch_keys(w, arch)
    w.add_uint32("general.file_type", int(gguf.LlamaFileType.ALL_F32 if qtype == "F32" else gguf.LlamaFileType.MOSTLY_Q8_0))
    w.add_uint32("general.quantization_version", gguf.GGML_QUANT_VERSION)
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer."):
            continue
        types = field.types
        if types[0] == gguf.GGUFValueType.ARRAY:
            w.add_key_value(key, field.contents(), types[0], sub_type=types[-1])
        else:
            w.add_key_value(key, field.contents(), types[0])
    for name, a in tensors:
        if qtype == "Q8_0" and a.ndim == 2:
            q = gguf.quants.quantize(a, gguf.GGMLQuantizationType.Q8_0)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        else:
            w.add_tensor(name, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


SHAPES = {
    # name: architecture, hidden, layers, heads, KV heads, head size, FFN, context
    "qwen2-0.5b": ("qwen2", 896, 24, 14, 2, 64, 4864, 32768),
    "qwen3-0.6b": ("qwen3", 1024, 28, 16, 8, 128, 3072, 40960),
}
SHAPE_SEED = 20250623


def shape_tensors(shape):
    """(name, array) in file order for a speed-shaped file: seeded random weights of sensible scale."""
    arch, e, layers, heads, kv, hd, ffn, _ = SHAPES[shape]
    vocab = 151936

    def rng(name):
        return np.random.default_rng([SHAPE_SEED, zlib.crc32(f"{shape}/{name}".encode())])

    def matrix(name, rows, cols, std=None):
        a = rng(name).standard_normal((rows, cols), dtype=np.float32)
        a *= np.float32(std if std is not None else 1 / np.sqrt(cols))
        return name, a.astype(np.float16)

    def vector(name, n, mean, std):
        return name, (np.float32(mean) + np.float32(std) * rng(name).standard_normal(n, dtype=np.float32))

    out = [matrix("token_embd.weight", vocab, e, std=1 / np.sqrt(e))]
    for l in range(layers):
        p = f"blk.{l}."
        out.append(vector(p + "attn_norm.weight", e, 1, 0.1))
        out.append(matrix(p + "attn_q.weight", heads * hd, e))
        out.append(matrix(p + "attn_k.weight", kv * hd, e))
        out.append(matrix(p + "attn_v.weight", kv * hd, e))
        if arch == "qwen2":
            out.append(vector(p + "attn_q.bias", heads * hd, 0, 0.1))
            out.append(vector(p + "attn_k.bias", kv * hd, 0, 0.1))
            out.append(vector(p + "attn_v.bias", kv * hd, 0, 0.1))
        if arch == "qwen3":
            out.append(vector(p + "attn_q_norm.weight", hd, 1, 0.1))
            out.append(vector(p + "attn_k_norm.weight", hd, 1, 0.1))
        out.append(matrix(p + "attn_output.weight", e, heads * hd))
        out.append(vector(p + "ffn_norm.weight", e, 1, 0.1))
        out.append(matrix(p + "ffn_gate.weight", ffn, e))
        out.append(matrix(p + "ffn_up.weight", ffn, e))
        out.append(matrix(p + "ffn_down.weight", e, ffn))
    out.append(vector("output_norm.weight", e, 1, 0.1))
    return out


def write_shape(path, shape, vocab_path):
    arch, e, layers, heads, kv, hd, ffn, context = SHAPES[shape]
    vr = gguf.GGUFReader(vocab_path)
    if vr.fields["tokenizer.ggml.pre"].contents() != "qwen2" or len(vr.fields["tokenizer.ggml.tokens"].data) != 151936:
        sys.exit(f"{vocab_path}: not llama.cpp's ggml-vocab-qwen2.gguf (151936 tokens, pre-tokenizer qwen2)")
    w = gguf.GGUFWriter(path, arch)
    w.add_string("general.name", f"{shape} shape, random weights (slm speed test file)")
    w.add_string("general.license", "apache-2.0")
    w.add_uint32(f"{arch}.context_length", context)
    w.add_uint32(f"{arch}.embedding_length", e)
    w.add_uint32(f"{arch}.block_count", layers)
    w.add_uint32(f"{arch}.feed_forward_length", ffn)
    w.add_uint32(f"{arch}.attention.head_count", heads)
    w.add_uint32(f"{arch}.attention.head_count_kv", kv)
    w.add_float32(f"{arch}.rope.freq_base", 1e6)
    w.add_float32(f"{arch}.attention.layer_norm_rms_epsilon", 1e-6)
    if arch == "qwen3":
        w.add_uint32("qwen3.attention.key_length", hd)
        w.add_uint32("qwen3.attention.value_length", hd)
    w.add_uint32("general.file_type", int(gguf.LlamaFileType.MOSTLY_F16))
    w.add_uint32("general.quantization_version", gguf.GGML_QUANT_VERSION)
    special = {"tokenizer.ggml.bos_token_id": 151643, "tokenizer.ggml.eos_token_id": 151645,
               "tokenizer.ggml.padding_token_id": 151643}
    for key, field in vr.fields.items():
        if not key.startswith("tokenizer.") or key in special:
            continue
        types = field.types
        if types[0] == gguf.GGUFValueType.ARRAY:
            w.add_key_value(key, field.contents(), types[0], sub_type=types[-1])
        else:
            w.add_key_value(key, field.contents(), types[0])
    for key, v in special.items():
        w.add_uint32(key, v)
    w.add_bool("tokenizer.ggml.add_bos_token", False)
    for name, a in shape_tensors(shape):
        w.add_tensor(name, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def calibrate(T, tokens):
    """Prints LAYER_STATS: a numpy forward pass of SmolLM2 (llama layout, adjacent-pair RoPE)."""
    n = len(tokens)
    inv = ROPE_BASE ** (-np.arange(0, D, 2) / D)
    ang = np.arange(n)[:, None] * inv[None, :]
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]

    def rms(x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5) * w

    def rope(x):
        y = np.empty_like(x)
        y[..., 0::2] = x[..., 0::2] * cos - x[..., 1::2] * sin
        y[..., 1::2] = x[..., 0::2] * sin + x[..., 1::2] * cos
        return y

    x = T["token_embd.weight"][np.array(tokens)]
    mask = np.triu(np.full((n, n), -np.inf), 1)
    for l in range(L):
        p = f"blk.{l}."
        h = rms(x, T[p + "attn_norm.weight"])
        q = (h @ T[p + "attn_q.weight"].T).reshape(n, H, D)
        k = (h @ T[p + "attn_k.weight"].T).reshape(n, HKV, D)
        v = np.repeat((h @ T[p + "attn_v.weight"].T).reshape(n, HKV, D), H // HKV, axis=1)
        s = np.einsum("thd,shd->hts", rope(q), np.repeat(rope(k), H // HKV, axis=1)) / np.sqrt(D) + mask
        a = np.exp(s - s.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        ao = np.einsum("hts,shd->thd", a, v).reshape(n, H * D) @ T[p + "attn_output.weight"].T
        x = x + ao
        h2 = rms(x, T[p + "ffn_norm.weight"])
        g, u = h2 @ T[p + "ffn_gate.weight"].T, h2 @ T[p + "ffn_up.weight"].T
        fo = (g / (1 + np.exp(-g)) * u) @ T[p + "ffn_down.weight"].T
        x = x + fo

        def r(t):
            return np.sqrt((t * t).mean(-1))
        print(f"    ({r(q).mean():.3g}, {r(k).mean():.3g}, {np.median(r(ao)):.3g}, {np.median(r(fo)):.3g}),")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", help="SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--out", help="output directory")
    ap.add_argument("--arch", default=",".join(ARCHS))
    ap.add_argument("--type", default="Q8_0", help="comma-separated: F32, Q8_0")
    ap.add_argument("--calibrate", metavar="LOGITS_JSON", help="print LAYER_STATS from this fixture's prompts and exit")
    ap.add_argument("--shape", help=f"write a speed-shaped random-weight F16 file instead: {', '.join(SHAPES)}")
    ap.add_argument("--vocab", help="with --shape: llama.cpp's models/ggml-vocab-qwen2.gguf")
    args = ap.parse_args()
    if args.shape:
        if args.shape not in SHAPES:
            sys.exit(f"unknown shape {args.shape}; known: {', '.join(SHAPES)}")
        if not args.out or not args.vocab:
            ap.error("--shape needs --out and --vocab")
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, f"{args.shape}-shape.F16.gguf")
        write_shape(path + ".tmp", args.shape, args.vocab)
        os.replace(path + ".tmp", path)
        print(path, file=sys.stderr)
        return
    if not args.source:
        ap.error("--source is required")
    reader, T = load_source(args.source)
    if args.calibrate:
        import json
        cases = json.load(open(args.calibrate))["models"]["smollm2-135m"]
        calibrate(T, cases[7]["tokens"][:256] + cases[6]["tokens"])
        return
    if not args.out:
        ap.error("--out is required")
    os.makedirs(args.out, exist_ok=True)
    for arch in args.arch.split(","):
        if arch not in ARCHS:
            sys.exit(f"unknown architecture {arch}; known: {', '.join(ARCHS)}")
        tensors = common_tensors(T, arch)
        for qtype in args.type.split(","):
            if qtype not in ("F32", "Q8_0"):
                sys.exit(f"unknown type {qtype}: F32 or Q8_0 (other types come from llama-quantize)")
            path = os.path.join(args.out, f"{arch}-smollm2.{qtype}.gguf")
            write(path + ".tmp", reader, arch, tensors, qtype)
            os.replace(path + ".tmp", path)
            print(path, file=sys.stderr)


if __name__ == "__main__":
    main()
