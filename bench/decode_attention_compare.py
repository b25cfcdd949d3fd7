#!/usr/bin/env python3
"""Side-by-side decode attention: squeeze's kernel against PyTorch's best SDPA backend (cuDNN,
flash, memory-efficient) at the same shapes, on the same tensors, in one process on one GPU.

squeeze's kernel is called through bench/decode_attention_ffi.cu (ctypes), so each repetition
times ours and SDPA back to back on the same K/V copy; the ratio carries no drift between runs
(one shape moved 55-65 us across separate runs on the same binary). The outputs of the two are
compared too, so the timing is of the same computation.

Two timings per call:
- queued: the call enqueued behind a spin (torch.cuda._sleep), nvbench's way of timing the
  kernel without the launch's arrival: the number that matters inside a busy decode step;
- isolated: events around one call on an idle GPU, launch included.

Shapes come from decode_attention_bench's CSV (OURS.csv), whose own numbers (% of the copy
bandwidth, from its cudaMemcpy copy) are shown beside.

usage: decode_attention_compare.py OURS.csv --lib libsqueeze_decode_ffi.so [--out table.md]
"""
import argparse
import contextlib
import csv
import ctypes
import math
import random
import statistics
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

KERNELS = {"auto": 0, "scalar": 1, "mma": 2, "mma4": 3, "mma8": 4, "mmask": 5, "mmawsk": 6, "tma4": 7, "tma8": 8, "tmatail": 9}
BACKENDS = {"cudnn": SDPBackend.CUDNN_ATTENTION, "flash": SDPBackend.FLASH_ATTENTION,
            "efficient": SDPBackend.EFFICIENT_ATTENTION}
N_HEADS, HD = 32, 128


def time_ms(fn, i, queued):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    if queued:
        torch.cuda._sleep(200_000)  # ~100 us of SM cycles: longer than enqueueing the call
    start.record()
    fn(i)
    end.record()
    end.synchronize()
    return start.elapsed_time(end)


def median_ms(fn, reps, queued):
    for i in range(3):
        fn(i)
    torch.cuda.synchronize()
    return statistics.median(time_ms(fn, i, queued) for i in range(reps))


def interleaved_ms(fns, reps, queued, contexts=None):
    """Median ms of each function, timed in a shuffled order within every repetition. Calls
    take K/V copies in turn (fn(k) uses copy k % copies, k counting every call), so no call
    reads the copy the call before it read where there are two or more: it would find what
    that call left in L2 (50 MB) and time warm. The order is shuffled (seeded) rather than
    alternated: alternating runs the first and the last function twice in a row at every
    repetition's boundary, and in A/B runs of several builds the first column timed a few
    per cent apart from the same kernel in another column (32 x 34 x 1k on an H200: 140.0
    against 136.6 µs; 32 x 16 x 1k on an H100: 87.9 against 92.2). contexts: for each
    function, a context manager factory entered around its calls, outside the timed region
    (an SDPA backend choice); default none."""
    n = len(fns)
    contexts = contexts or [contextlib.nullcontext] * n
    calls = 0
    for fn, context in zip(fns, contexts):
        with context():
            for _ in range(3):
                fn(calls)
                calls += 1
    torch.cuda.synchronize()
    times = [[] for _ in fns]
    shuffle = random.Random(0).shuffle
    order = list(range(n))
    for _ in range(reps):
        shuffle(order)
        for j in order:
            with contexts[j]():
                times[j].append(time_ms(fns[j], calls, queued))
            calls += 1
    return [statistics.median(t) for t in times]


def load_lib(path):
    """libsqueeze_decode_ffi.so with its two entry points typed."""
    lib = ctypes.CDLL(path)
    lib.sqz_decode_workspace_bytes.restype = ctypes.c_size_t
    lib.sqz_decode_attention.restype = ctypes.c_int
    lib.sqz_decode_attention.argtypes = (
        [ctypes.c_void_p] * 6 + [ctypes.c_int] * 7 + [ctypes.c_float, ctypes.c_int, ctypes.c_void_p])
    return lib


def torch_copy_gbps():
    n = 1 << 30
    src = torch.empty(n, dtype=torch.uint8, device="cuda").fill_(1)
    dst = torch.empty_like(src)
    ms = median_ms(lambda i: dst.copy_(src), 20, queued=False)
    return 2 * n / (ms * 1e-3) / 1e9


class Shape:
    def __init__(self, lib, batch, kv_heads, kv_len):
        self.lib, self.batch, self.kv_heads, self.kv_len = lib, batch, kv_heads, kv_len
        self.kv_bytes = 2 * batch * kv_heads * kv_len * HD * 2
        self.copies = max(1, -(-(512 << 20) // self.kv_bytes))  # >= 8x L2: reps miss the cache
        self.q = torch.randn(batch, N_HEADS, 1, HD, device="cuda", dtype=torch.bfloat16)
        self.ks = [torch.randn(batch, kv_heads, kv_len, HD, device="cuda", dtype=torch.bfloat16)
                   for _ in range(self.copies)]
        self.vs = [torch.randn_like(k) for k in self.ks]
        self.lens = torch.full((batch,), kv_len, dtype=torch.int32, device="cuda")
        self.out = torch.empty_like(self.q)
        max_splits = 256
        work_bytes = lib.sqz_decode_workspace_bytes(batch, N_HEADS, HD, max_splits)
        self.work = torch.zeros(work_bytes, dtype=torch.uint8, device="cuda")
        self.max_splits = max_splits

    def ours(self, kernel, max_splits=None):
        """Our decode attention with `kernel` forced ("auto": the launcher's choice), splitting a
        sequence at most `max_splits` times (default: the workspace's 256)."""
        lib, code = self.lib, KERNELS[kernel]
        scale = 1.0 / math.sqrt(HD)
        splits = self.max_splits if max_splits is None else max_splits

        def run(i):
            c = i % self.copies
            err = lib.sqz_decode_attention(
                self.q.data_ptr(), self.ks[c].data_ptr(), self.vs[c].data_ptr(),
                self.lens.data_ptr(), self.out.data_ptr(), self.work.data_ptr(), self.batch,
                N_HEADS, self.kv_heads, HD, self.kv_len, self.kv_len, splits,
                ctypes.c_float(scale), code, ctypes.c_void_p(torch.cuda.current_stream().cuda_stream))
            if err != 0:
                raise RuntimeError(f"sqz_decode_attention: cudaError {err}")
        return run

    def sdpa_candidates(self):
        """(name, backend, fn) for each backend that runs (fn to be called under
        sdpa_kernel([backend]), entered outside the timed region): enable_gqa where accepted, else K/V repeated
        to n_heads once outside the timed region (counted as the same bytes)."""
        for name, backend in BACKENDS.items():
            for gqa in (True, False):
                if gqa:
                    kk, vv, extra = self.ks, self.vs, {"enable_gqa": self.kv_heads != N_HEADS}
                else:
                    if self.kv_heads == N_HEADS:
                        continue
                    rep = N_HEADS // self.kv_heads
                    if self.kv_bytes * rep * self.copies > 16e9:  # would not fit beside the rest
                        continue
                    kk = [k.repeat_interleave(rep, 1) for k in self.ks]
                    vv = [v.repeat_interleave(rep, 1) for v in self.vs]
                    extra = {}

                def fn(i, kk=kk, vv=vv, extra=extra):
                    return F.scaled_dot_product_attention(
                        self.q, kk[i % self.copies], vv[i % self.copies], **extra)
                try:
                    with sdpa_kernel([backend]):
                        fn(0)
                    torch.cuda.synchronize()
                except RuntimeError:
                    continue
                yield name + ("" if gqa else "+repeat"), backend, fn
                break


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ours", help="CSV from decode_attention_bench (shapes and its own numbers)")
    ap.add_argument("--lib", required=True, help="libsqueeze_decode_ffi.so (bench/CMakeLists.txt)")
    ap.add_argument("--reps", type=int, default=60)
    ap.add_argument("--out")
    args = ap.parse_args()
    lib = load_lib(args.lib)
    with open(args.ours) as f:
        lines = [l for l in f if l.strip()]
    meta = " ".join(l.strip("# \n") for l in lines if l.startswith("#"))
    rows = list(csv.DictReader([l for l in lines if not l.startswith("#")]))
    tcopy = torch_copy_gbps()
    out = [f"device: {torch.cuda.get_device_name()} | {meta} | torch copy_GBps={tcopy:.1f} | "
           f"torch {torch.__version__}", "",
           "bench: decode_attention_bench alone (queued; % of its cudaMemcpy copy). Then ours and "
           "every SDPA backend that runs, timed interleaved (shuffled order) on the same tensors "
           f"in one process, medians of {args.reps}: queued (behind a spin: kernel time) and "
           "isolated (idle GPU: launch included); SDPA = its fastest backend in that mode. "
           "ratio = SDPA time / ours (> 1: ours faster). diff: max |ours - SDPA| over the "
           "outputs.", "",
           "| kv heads | batch | KV len | kernel | MB moved | bench µs | % of copy | ours queued µs "
           "| SDPA queued µs | ratio queued | ours isolated µs | SDPA isolated µs | ratio isolated "
           "| diff | SDPA backend |",
           "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    shape = None
    for r in rows:
        b, h, L = int(r["batch"]), int(r["kv_heads"]), int(r["kv_len"])
        kernel = r.get("kernel", "auto")
        if shape is None or (shape.batch, shape.kv_heads, shape.kv_len) != (b, h, L):
            shape = None
            torch.cuda.empty_cache()
            shape = Shape(lib, b, h, L)
            cands = list(shape.sdpa_candidates())
        ours = shape.ours(kernel)
        cells = []
        names = []
        best = {True: None, False: None}
        for queued in (True, False):
            if not cands:
                cells += ["-", "-", "-"]
                continue
            # Ours and every SDPA backend that runs, in one interleaved measurement; the
            # fastest backend is SDPA's time. (A separate short run used to pick the backend,
            # and once picked flash at 82.7 µs where cuDNN ran the shape in about 19.)
            contexts = [contextlib.nullcontext] + [
                (lambda backend=backend: sdpa_kernel([backend])) for _, backend, _ in cands]
            times = interleaved_ms([ours] + [fn for _, _, fn in cands], args.reps, queued,
                                   contexts)
            t_ours = times[0]
            k = min(range(len(cands)), key=lambda i: times[1 + i])
            t_sdpa, best[queued] = times[1 + k], cands[k][0]
            names.append(best[queued])
            cells += [f"{t_ours * 1e3:.1f}", f"{t_sdpa * 1e3:.1f}", f"{t_sdpa / t_ours:.2f}"]
        diff = "-"
        if cands:
            _, backend, fn = next(c for c in cands if c[0] == best[True])
            ours(0)
            with sdpa_kernel([backend]):
                ref = fn(0)
            torch.cuda.synchronize()
            diff = f"{(shape.out.float() - ref.float()).abs().max().item():.1e}"
        backend = " / ".join(dict.fromkeys(names)) or "none ran"
        out.append(f"| {h} | {b} | {L} | {kernel} | {float(r['bytes']) / 1e6:.1f} | "
                   f"{float(r['queued_us']):.1f} | {100 * float(r['queued_frac_copy']):.1f} | "
                   + " | ".join(cells) + f" | {diff} | {backend} |")
        print(out[-1], flush=True)
    text = "\n".join(out) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
