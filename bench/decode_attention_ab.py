#!/usr/bin/env python3
"""A/B of builds of squeeze's decode attention, beside cuDNN, in one process on one GPU.

Each build is a libsqueeze_decode_ffi.so (bench/decode_attention_ffi.cu), optionally with a
kernel choice after a colon (auto, scalar, mma, mma4, mma8, mmask, mmawsk, tma4, tma8, tmatail)
and a cap on the splits per sequence after an @ (1: unsplit; default 256). At every shape all builds
and cuDNN's SDPA are timed queued (kernel time) in a shuffled order within each repetition,
taking K/V copies in turn (decode_attention_compare.interleaved_ms), and medians printed in µs.

usage: decode_attention_ab.py LIB[:KERNEL][@MAX_SPLITS],... KV_HEADS,BATCH,KV_LEN ...
  e.g. decode_attention_ab.py old.so,new.so,new.so:mmask,new.so:tma8@1 8,17,4096 32,17,1024
"""
import ctypes
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import decode_attention_compare as dc  # noqa: E402


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    names = sys.argv[1].split(",")
    builds = []  # (path, kernel, max_splits or None)
    for name in names:
        build, _, splits = name.partition("@")
        path, _, kernel = build.partition(":")
        bad_splits = splits and (not splits.isdigit() or int(splits) < 1)
        if (kernel or "auto") not in dc.KERNELS or bad_splits:
            print(f"decode_attention_ab.py: cannot read build '{name}' "
                  f"(kernels: {', '.join(dc.KERNELS)}; @ takes a split cap >= 1)", file=sys.stderr)
            return 2
        builds.append((path, kernel or "auto", int(splits) if splits else None))
    shapes = [tuple(map(int, s.split(","))) for s in sys.argv[2:]]
    libs = [dc.load_lib(path) for path, _, _ in builds]
    print("shape | " + " | ".join(os.path.basename(n) for n in names) + " | cuDNN")
    for kv_heads, batch, kv_len in shapes:
        torch.cuda.empty_cache()
        shape = dc.Shape(libs[0], batch, kv_heads, kv_len)
        fns = []
        for lib, (_, kernel, splits) in zip(libs, builds):
            shape.lib = lib
            fns.append(shape.ours(kernel, splits))
        fns.append(lambda i: F.scaled_dot_product_attention(
            shape.q, shape.ks[i % shape.copies], shape.vs[i % shape.copies],
            enable_gqa=kv_heads != dc.N_HEADS))
        with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
            times = dc.interleaved_ms(fns, 80, queued=True)
        print(f"{kv_heads}x{batch}x{kv_len} | " + " | ".join(f"{t * 1e3:7.1f}" for t in times),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
