#!/usr/bin/env python3
"""Side-by-side decode attention: squeeze's kernel (CSV from decode_attention_bench) against
PyTorch's best SDPA backend (cuDNN, flash, memory-efficient) at the same shapes, in one run on
one GPU, plus PyTorch's own device-to-device copy bandwidth. Prints a markdown table.

Both sides are timed the same two ways (see decode_attention_bench.cu): isolated (events around
one call on an idle GPU) and queued (the call enqueued behind torch.cuda._sleep, nvbench's way of
timing the kernel without the launch's arrival).

usage: decode_attention_compare.py OURS.csv [--out table.md]
"""
import argparse
import csv
import statistics
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def median_ms(fn, reps=50, queued=False):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(3):
        fn(0)
    torch.cuda.synchronize()
    times = []
    for i in range(reps):
        if queued:
            torch.cuda._sleep(200_000)  # ~100 µs of SM cycles: longer than enqueueing the call
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
                    ms = median_ms(fn), median_ms(fn, queued=True)
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
           "Isolated: one call timed on an idle GPU. Queued: the call enqueued behind a spin kernel "
           "(kernel time in a busy stream). SDPA: PyTorch's fastest backend in each mode.", "",
           "| kv heads | batch | KV len | kernel | MB moved | ours µs | % of copy | SDPA µs | ours/SDPA "
           "| queued µs | queued % of copy | SDPA queued µs | queued ours/SDPA | SDPA backend |",
           "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    sdpa_cache = {}
    for r in rows:
        b, h, L = int(r["batch"]), int(r["kv_heads"]), int(r["kv_len"])
        if (b, h, L) not in sdpa_cache:
            sdpa_cache[(b, h, L)] = best_sdpa(b, h, L)
        res = sdpa_cache[(b, h, L)]
        ours_us, queued_us = float(r["ours_us"]), float(r["queued_us"])
        if res:
            iso_name, (iso_ms, _) = min(res.items(), key=lambda kv: kv[1][0])
            q_name, (_, q_ms) = min(res.items(), key=lambda kv: kv[1][1])
            names = iso_name if iso_name == q_name else f"{iso_name} / {q_name}"
            sd = (f"{iso_ms * 1e3:.1f}", f"{iso_ms * 1e3 / ours_us:.2f}", f"{q_ms * 1e3:.1f}",
                  f"{q_ms * 1e3 / queued_us:.2f}", names)
        else:
            sd = ("-", "-", "-", "-", "none ran")
        out.append(f"| {h} | {b} | {L} | {r.get('kernel', 'auto')} | {float(r['bytes']) / 1e6:.1f} | "
                   f"{ours_us:.1f} | {100 * float(r['frac_copy']):.1f} | {sd[0]} | {sd[1]} | "
                   f"{queued_us:.1f} | {100 * float(r['queued_frac_copy']):.1f} | {sd[2]} | "
                   f"{sd[3]} | {sd[4]} |")
        print(out[-1], flush=True)
    text = "\n".join(out) + "\n"
    if args.out:
        open(args.out, "w").write(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
