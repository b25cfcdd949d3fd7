#!/usr/bin/env python3
"""Side-by-side decode attention: squeeze's kernel (CSV from decode_attention_bench) against
PyTorch's best SDPA backend (cuDNN, flash, memory-efficient) at the same shapes, in one run on
one GPU, plus PyTorch's own device-to-device copy bandwidth. Prints a markdown table.

usage: decode_attention_compare.py OURS.csv [--out table.md]
"""
import argparse
import csv
import statistics
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def median_ms(fn, reps=50):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(3):
        fn(0)
    torch.cuda.synchronize()
    times = []
    for i in range(reps):
        start.record()
        fn(i)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def torch_copy_gbps():
    n = 1 << 30
    src = torch.empty(n, dtype=torch.uint8, device="cuda").fill_(1)
    dst = torch.empty_like(src)
    ms = median_ms(lambda i: dst.copy_(src), 20)
    return 2 * n / (ms * 1e-3) / 1e9


BACKENDS = {"cudnn": SDPBackend.CUDNN_ATTENTION, "flash": SDPBackend.FLASH_ATTENTION,
            "efficient": SDPBackend.EFFICIENT_ATTENTION}


def best_sdpa(batch, kv_heads, kv_len, n_heads=32, hd=128):
    kv_bytes = 2 * batch * kv_heads * kv_len * hd * 2
    copies = max(1, -(-(512 << 20) // kv_bytes))
    q = torch.randn(batch, n_heads, 1, hd, device="cuda", dtype=torch.bfloat16)
    ks = [torch.randn(batch, kv_heads, kv_len, hd, device="cuda", dtype=torch.bfloat16)
          for _ in range(copies)]
    vs = [torch.randn_like(k) for k in ks]
    results = {}
    for name, backend in BACKENDS.items():
        # GQA: each backend gets what it accepts: enable_gqa, else K/V repeated to n_heads
        # (counted as the same bytes: the repeat is done once, outside the timed region).
        for gqa in (True, False):
            try:
                if gqa:
                    kk, vv, extra = ks, vs, {"enable_gqa": kv_heads != n_heads}
                else:
                    if kv_heads == n_heads:
                        continue
                    rep = n_heads // kv_heads
                    if kv_bytes * rep * copies > 16e9:  # repeated K/V would not fit beside the rest
                        continue
                    kk = [k.repeat_interleave(rep, 1) for k in ks]
                    vv = [v.repeat_interleave(rep, 1) for v in vs]
                    extra = {}
                with sdpa_kernel([backend]):
                    fn = lambda i: F.scaled_dot_product_attention(
                        q, kk[i % copies], vv[i % copies], **extra)
                    ms = median_ms(fn)
                results[name + ("" if gqa else "+repeat")] = ms
                break
            except RuntimeError:
                continue
    del ks, vs
    torch.cuda.empty_cache()
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ours")
    ap.add_argument("--out")
    args = ap.parse_args()
    meta, rows = "", []
    with open(args.ours) as f:
        lines = [l for l in f if l.strip()]
    meta = " ".join(l.strip("# \n") for l in lines if l.startswith("#"))
    rows = list(csv.DictReader([l for l in lines if not l.startswith("#")]))
    tcopy = torch_copy_gbps()
    out = [f"device: {torch.cuda.get_device_name()} | {meta} | torch copy_GBps={tcopy:.1f} | "
           f"torch {torch.__version__}", "",
           "| kv heads | batch | KV len | MB moved | ours µs | ours GB/s | % of copy | best SDPA | SDPA µs | ours / SDPA speed |",
           "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for r in rows:
        b, h, L = int(r["batch"]), int(r["kv_heads"]), int(r["kv_len"])
        res = best_sdpa(b, h, L)
        ours_us = float(r["ours_us"])
        if res:
            name, ms = min(res.items(), key=lambda kv: kv[1])
            sd = f"{name}", f"{ms * 1e3:.1f}", f"{ms * 1e3 / ours_us:.2f}"
        else:
            sd = ("none ran", "-", "-")
        out.append(f"| {h} | {b} | {L} | {float(r['bytes']) / 1e6:.1f} | {ours_us:.1f} | "
                   f"{float(r['ours_GBps']):.0f} | {100 * float(r['frac_copy']):.1f} | "
                   f"{sd[0]} | {sd[1]} | {sd[2]} |")
        print(out[-1], flush=True)
    text = "\n".join(out) + "\n"
    if args.out:
        open(args.out, "w").write(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
