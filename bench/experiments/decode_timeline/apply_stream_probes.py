#!/usr/bin/env python3
"""Copies a kernels folder and adds %globaltimer probes to the CTA stream-K kernel for
probe_stream.cu: slot 0 the CTA's start, then per piece i < 5: 1+3i end of the warp 0 key loop,
2+3i after the barrier that merges the warps (the slowest warp's loop end), 3+3i epilogue done.
Written against the kernels of commit ddd949a (fifth session's timeline in
bench/results/decode_attention.md); it stops at the first anchor it cannot find elsewhere.

usage: apply_stream_probes.py DEST_DIR SRC_KERNELS_DIR
"""
import sys, shutil, os
dst=sys.argv[1]; shutil.rmtree(dst, ignore_errors=True); shutil.copytree(sys.argv[2], dst)
def ed(p,a,b):
    p=os.path.join(dst,p); s=open(p).read()
    assert a in s, a[:70]
    open(p,'w').write(s.replace(a,b,1))
ed('common.cuh', "using bf16 = __nv_bfloat16;\n", """using bf16 = __nv_bfloat16;
__device__ unsigned long long* g_probe;
__device__ __forceinline__ unsigned long long gtimer(float dep) {
  unsigned long long t; asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t) : "f"(dep) : "memory"); return t; }
#define PROBE(i, dep) do { if (threadIdx.x == 0 && g_probe) g_probe[blockIdx.x * 16 + (i)] = gtimer(dep); } while (0)
""")
m='decode_attention_mma.cuh'
ed(m, "float (&sm_acc)[W][kDecodeMmaRows * HD]) {\n  constexpr int KJ", "float (&sm_acc)[W][kDecodeMmaRows * HD], int probe_seg = 99) {\n  constexpr int KJ")
ed(m, "  // The row's denominator is spread over its four lanes.\n", "  if (probe_seg < 5) PROBE(1 + 3 * probe_seg, o[0][0] + o[NT - 1][1]);\n  // The row's denominator is spread over its four lanes.\n")
ed(m, "  __syncthreads();\n  decode_attention_epilogue<HD, G, W, W * 32>(a, sm_m, sm_l, sm_acc, b, kvh, head0, group, split,\n                                              splits);\n",
      "  __syncthreads();\n  if (probe_seg < 5) PROBE(2 + 3 * probe_seg, 0.f);\n  decode_attention_epilogue<HD, G, W, W * 32>(a, sm_m, sm_l, sm_acc, b, kvh, head0, group, split,\n                                              splits);\n  if (probe_seg < 5) PROBE(3 + 3 * probe_seg, 0.f);\n")
ed(m, "  const int64_t line = static_cast<int64_t>(a.batch) * a.kv_heads * stride;\n", "  PROBE(0, 0.f);\n  int seg_i = 0;\n  const int64_t line = static_cast<int64_t>(a.batch) * a.kv_heads * stride;\n")
ed(m, "        static_cast<int>(blockIdx.x) - first, last - first + 1, sm_m, sm_l, sm_acc);\n", "        static_cast<int>(blockIdx.x) - first, last - first + 1, sm_m, sm_l, sm_acc, seg_i++);\n")
