#!/usr/bin/env python3
"""Writes tiny, valid seed inputs for the fuzz targets (our own random weights, no third-party data).

    python3 fuzz/corpus/gen_seeds.py   # from the repository root

Each seed is small so libFuzzer mutates structure rather than megabytes of weights.
"""
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261123)


def out(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# llama2.c legacy .bin: dim 8, hidden 16, 1 layer, 2 heads, 1 kv head, vocab 16, seq 4.
dim, hidden, layers, heads, kv_heads, vocab, seq = 8, 16, 1, 2, 1, 16, 4
hs = dim // heads
header = struct.pack("7i", dim, hidden, layers, heads, kv_heads, vocab, seq)
sizes = [vocab * dim, layers * dim, layers * dim * heads * hs, layers * dim * kv_heads * hs,
         layers * dim * kv_heads * hs, layers * heads * hs * dim, layers * dim,
         layers * hidden * dim, layers * dim * hidden, layers * hidden * dim, dim,
         seq * hs // 2, seq * hs // 2]
weights = rng.standard_normal(sum(sizes)).astype(np.float32)
out("llama2c", "tiny.bin", header + weights.tobytes())

# llama2.c tokenizer: max_token_length, then (score, len, bytes) per token.
tokens = [b"<unk>", b"<s>", b"</s>"] + [bytes([i]) for i in range(0x20, 0x7f)] + [b" the", b"on", b"ce"]
body = struct.pack("i", max(len(t) for t in tokens))
for i, t in enumerate(tokens):
    body += struct.pack("fi", float(-i), len(t)) + t
out("llama2c_tokenizer", "tiny.bin", body)

# safetensors matching fuzz_safetensors.cpp's config (hidden 8, inter 16, 1 layer, 2/1 heads, vocab 16).
h, inter, v, hd = 8, 16, 16, 4
shapes = {
    "model.embed_tokens.weight": [v, h],
    "model.norm.weight": [h],
    "model.layers.0.input_layernorm.weight": [h],
    "model.layers.0.post_attention_layernorm.weight": [h],
    "model.layers.0.self_attn.q_proj.weight": [2 * hd, h],
    "model.layers.0.self_attn.k_proj.weight": [hd, h],
    "model.layers.0.self_attn.v_proj.weight": [hd, h],
    "model.layers.0.self_attn.o_proj.weight": [h, 2 * hd],
    "model.layers.0.mlp.gate_proj.weight": [inter, h],
    "model.layers.0.mlp.up_proj.weight": [inter, h],
    "model.layers.0.mlp.down_proj.weight": [h, inter],
}
hdr, blob = {}, b""
for name, shape in shapes.items():
    data = rng.standard_normal(int(np.prod(shape))).astype(np.float32).tobytes()
    hdr[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
    blob += data
hjson = json.dumps(hdr).encode()
hjson += b" " * ((8 - len(hjson) % 8) % 8)
out("safetensors", "tiny.safetensors", struct.pack("<Q", len(hjson)) + hjson + blob)

# config.json: a Llama and a Qwen2-style one with rope scaling.
out("config_json", "llama.json", json.dumps({
    "model_type": "llama", "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
    "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 16,
    "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                     "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
    "tie_word_embeddings": False, "torch_dtype": "bfloat16"}).encode())

# tokenizer.json: byte-level BPE with a few merges and an added special token.
bpe_vocab = {c: i for i, c in enumerate(["<|endoftext|>", "Ġ", "h", "e", "l", "o", "w", "r", "d", "he", "ll", "Ġw"])}
out("tokenizer_json", "tiny.json", json.dumps({
    "version": "1.0",
    "added_tokens": [{"id": 0, "content": "<|endoftext|>", "special": True}],
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
    "model": {"type": "BPE", "vocab": bpe_vocab, "merges": ["h e", "l l", "Ġ w"]}}).encode())

# GGUF v3 with one F32 and one Q8_0 tensor, written by hand so the seed needs no gguf package.
def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b

kv = [("general.architecture", 8, gguf_string("llama")), ("llama.block_count", 4, struct.pack("<I", 1)),
      ("general.alignment", 4, struct.pack("<I", 32))]
g = b"GGUF" + struct.pack("<IQQ", 3, 2, len(kv))
for k, t, val in kv:
    g += gguf_string(k) + struct.pack("<I", t) + val
g += gguf_string("token_embd.weight") + struct.pack("<I", 2) + struct.pack("<QQ", 32, 2) + struct.pack("<IQ", 8, 0)
g += gguf_string("output_norm.weight") + struct.pack("<I", 1) + struct.pack("<Q", 8) + struct.pack("<IQ", 0, 96)
g += b"\0" * ((32 - len(g) % 32) % 32)
q8 = b""
for _ in range(2):
    q8 += np.float16(0.05).tobytes() + rng.integers(-127, 127, 32, dtype=np.int8).tobytes()
g += q8 + b"\0" * (96 - len(q8)) + rng.standard_normal(8).astype(np.float32).tobytes()
out("gguf", "tiny.gguf", g)
print("seeds written under", HERE)
