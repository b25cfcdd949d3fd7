#!/usr/bin/env python3
"""Kernel-only durations (CUPTI, via torch.profiler) of squeeze's decode attention and of cuDNN's
SDPA at the given shapes, with each kernel's grid, block, registers and shared memory from the
profiler's trace. Calls are queued behind torch.cuda._sleep and cold (own K/V copy each), as in
decode_attention_compare.py; the median per kernel name is printed.

usage: python3 kernel_table.py LIB KV_HEADS,BATCH,KV_LEN ...
"""
import json
import os
import statistics
import sys
import tempfile

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import decode_attention_compare as dc  # noqa: E402


def kernels(fn, reps=30):
    for i in range(3):
        fn(i)
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for i in range(reps):
            torch.cuda._sleep(200_000)
            fn(i)
        torch.cuda.synchronize()
    path = tempfile.mktemp(suffix=".json")
    prof.export_chrome_trace(path)
    events = json.load(open(path))["traceEvents"]
    os.unlink(path)
    rows = {}
    for e in events:
        if e.get("cat") != "kernel" or "sleep" in e["name"]:
            continue
        a = e.get("args", {})
        key = (e["name"][:90], str(a.get("grid")), str(a.get("block")), a.get("registers per thread"),
               a.get("shared memory"))
        rows.setdefault(key, []).append(e["dur"])
    return [(k, statistics.median(v), len(v)) for k, v in rows.items()]


def main():
    lib = dc.load_lib(sys.argv[1])
    for arg in sys.argv[2:]:
        kvh, b, n = map(int, arg.split(","))
        shape = dc.Shape(lib, b, kvh, n)
        print(f"== {kvh}x{b}x{n}")
        ours = shape.ours("auto")
        sdpa = lambda i: F.scaled_dot_product_attention(
            shape.q, shape.ks[i % shape.copies], shape.vs[i % shape.copies],
            enable_gqa=kvh != dc.N_HEADS)
        for who, fn in (("ours", ours), ("cudnn", sdpa)):
            with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
                for (name, grid, block, regs, smem), us, cnt in kernels(fn):
                    print(f"  {who:5s} {us:7.2f} us n={cnt:3d} grid {grid} block {block} "
                          f"regs {regs} smem {smem} {name}")
        del shape
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
