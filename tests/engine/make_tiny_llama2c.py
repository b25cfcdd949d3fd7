#!/usr/bin/env python3
"""Writes a made-up llama2.c checkpoint of stories260K's shape and a byte-level tokenizer.bin for
it, so that tests of the capture machinery (not of the model) run where ../shared is absent.

usage: make_tiny_llama2c.py MODEL_OUT TOKENIZER_OUT

Model: header (dim 64, hidden 172, 5 layers, 8 heads, 4 KV heads, vocab 512, seq 512), then the
tensors in llama2.c's order with seeded uniform weights (norm weights 1), then freq_cis.
Tokenizer: <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF> (ids 3..258, run.c's fallback),
and unique filler pieces up to 512 entries.
"""
import math
import random
import struct
import sys

DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ = 64, 172, 5, 8, 4, 512, 512
HS = DIM // HEADS


def write_model(path):
    rng = random.Random(260)

    def uniform(n, scale):
        return [rng.uniform(-scale, scale) for _ in range(n)]

    tensors = [
        uniform(VOCAB * DIM, 0.5),                        # token embedding (tied classifier)
        [1.0] * (LAYERS * DIM),                           # attention RMSNorm
        uniform(LAYERS * DIM * HEADS * HS, 0.2),          # wq
        uniform(LAYERS * DIM * KV_HEADS * HS, 0.2),       # wk
        uniform(LAYERS * DIM * KV_HEADS * HS, 0.2),       # wv
        uniform(LAYERS * HEADS * HS * DIM, 0.2),          # wo
        [1.0] * (LAYERS * DIM),                           # FFN RMSNorm
        uniform(LAYERS * HIDDEN * DIM, 0.2),              # w1 (gate)
        uniform(LAYERS * DIM * HIDDEN, 0.2),              # w2 (down)
        uniform(LAYERS * HIDDEN * DIM, 0.2),              # w3 (up)
        [1.0] * DIM,                                      # final RMSNorm
    ]
    # freq_cis_real then freq_cis_imag, (SEQ, HS/2) each, as llama2.c's export wrote them.
    freqs = [1.0 / (10000.0 ** (2 * i / HS)) for i in range(HS // 2)]
    tensors.append([math.cos(p * f) for p in range(SEQ) for f in freqs])
    tensors.append([math.sin(p * f) for p in range(SEQ) for f in freqs])
    with open(path, "wb") as out:
        out.write(struct.pack("<7i", DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ))
        for t in tensors:
            out.write(struct.pack(f"<{len(t)}f", *t))


def write_tokenizer(path):
    pieces = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    pieces += [f"<filler_{i}>" for i in range(VOCAB - len(pieces))]
    with open(path, "wb") as out:
        out.write(struct.pack("<i", max(len(p.encode()) for p in pieces)))
        for p in pieces:
            raw = p.encode()
            out.write(struct.pack("<fi", 0.0, len(raw)) + raw)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    write_model(sys.argv[1])
    write_tokenizer(sys.argv[2])
