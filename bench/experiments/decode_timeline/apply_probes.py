#!/usr/bin/env python3
"""Copies a kernels folder and adds %globaltimer probes for probe.cu (points 0-6: start, first
scores, loop end, partials written, counter taken, merge done). Written against the kernels of
commit 5d47df0, the ones the timeline in bench/results/decode_attention.md was measured on; it
exits naming the first anchor it cannot find in other versions.

usage: apply_probes.py DEST_DIR SRC_KERNELS_DIR
"""
import sys, shutil, os
dst = sys.argv[1]
shutil.rmtree(dst, ignore_errors=True); shutil.copytree(sys.argv[2], dst)
def ed(p, a, b, must=True):
    p = os.path.join(dst, p); s = open(p).read()
    if a not in s:
        if must: raise SystemExit(f"missing in {p}: {a[:60]}")
        return
    open(p, 'w').write(s.replace(a, b, 1))
ed('common.cuh', "using bf16 = __nv_bfloat16;\n", """using bf16 = __nv_bfloat16;
__device__ unsigned long long* g_probe;  // [cta][8]
__device__ __forceinline__ unsigned long long gtimer(float dep) {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t) : "f"(dep) : "memory");
  return t;
}
#define PROBE(i, dep) do { if (threadIdx.x == 0 && g_probe) { const unsigned cta_ = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z); g_probe[cta_ * 8 + (i)] = gtimer(dep); } } while (0)
""")
ed('decode_attention_mma.cuh', "  const int split = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;\n", "  PROBE(0, 0.f);\n  const int split = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;\n")
ed('decode_attention_mma.cuh', "    decode_mma_scores<HD>(qa, kr, kb, end, qk_scale, s);  // masks keys past end\n", "    decode_mma_scores<HD>(qa, kr, kb, end, qk_scale, s);  // masks keys past end\n    if (kb == kb0) PROBE(1, s[0][0]);\n")
ed('decode_attention_mma.cuh', "  // The row's denominator is spread over its four lanes.\n", "  PROBE(2, o[0][0] + o[NT-1][1]);\n  // The row's denominator is spread over its four lanes.\n")
ed('decode_attention_merge.cuh', "  __shared__ bool is_last;\n  __syncthreads();\n", "  __shared__ bool is_last;\n  __syncthreads();\n  PROBE(3, 0.f);\n")
ed('decode_attention_merge.cuh', "  __syncthreads();\n  if (!is_last) return;", "  __syncthreads();\n  PROBE(4, is_last ? 1.f : 0.f);\n  if (!is_last) return;", must=False)
ed('decode_attention_merge.cuh', "  __syncthreads();\n  if (is_last) decode_attention_merge_splits", "  __syncthreads();\n  PROBE(4, is_last ? 1.f : 0.f);\n  if (is_last) decode_attention_merge_splits", must=False)
ed('decode_attention_merge.cuh', "  if (parts == 1) return;\n", "  if (parts == 1) { PROBE(6, 0.f); return; }\n")
p = os.path.join(dst, 'decode_attention_merge.cuh'); s = open(p).read()
i = s.index("  const int g = item / kQuads, q4 = item % kQuads;\n    const int64_t row = static_cast<int64_t>(b) * a.n_heads + head0 + g;\n    store_merged_quad(a, row, q4, A, L);") if "decode_attention_merge_splits" in s else None
if i is not None:
    j = s.index("\n  }\n}\n", i); s = s[:j] + "\n  }\n  PROBE(6, 0.f);\n}\n" + s[j+len("\n  }\n}\n"):]
else:
    idx = s.rfind("}\n\n}  // namespace"); s = s[:idx] + "  PROBE(6, 0.f);\n" + s[idx:]
open(p, 'w').write(s)
