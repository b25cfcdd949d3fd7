#!/usr/bin/env python3
"""cuDNN's kernels behind PyTorch SDPA decode at the timeline's shapes, with their CUPTI durations
(torch.profiler), each call queued behind torch.cuda._sleep as in decode_attention_compare.py.
It showed that cuDNN splits long sequences into a main kernel plus a lean_reduction_kernel.

usage: python3 cudnn_kernels.py
"""
import torch, torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.profiler import profile, ProfilerActivity
shapes = [(8,1,1024),(8,1,4096),(8,1,16384),(8,1,32768),(8,16,1024),(8,8,1024),(32,4,1024),(32,1,4096)]
for kvh, b, L in shapes:
    q = torch.randn(b, 32, 1, 128, device="cuda", dtype=torch.bfloat16)
    kv_bytes = 2*b*kvh*L*128*2
    copies = max(1, -(-(512<<20)//kv_bytes))
    ks = [torch.randn(b, kvh, L, 128, device="cuda", dtype=torch.bfloat16) for _ in range(copies)]
    vs = [torch.randn_like(k) for k in ks]
    with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
        f = lambda i: F.scaled_dot_product_attention(q, ks[i%copies], vs[i%copies], enable_gqa=kvh != 32)
        for i in range(5): f(i)
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for i in range(40):
                torch.cuda._sleep(200_000)
                f(i)
            torch.cuda.synchronize()
    agg = {}
    for e in prof.events():
        if e.device_type == torch.autograd.DeviceType.CUDA and 'sleep' not in e.name:
            agg.setdefault(e.name, []).append(e.device_time if hasattr(e,'device_time') else e.cuda_time)
    print(f"== kv_heads {kvh} batch {b} len {L}")
    for n, t in agg.items():
        t = sorted(t)
        print(f"   n={len(t):3d} med {t[len(t)//2]:8.2f} us  {n[:150]}")
    del ks, vs; torch.cuda.empty_cache()
