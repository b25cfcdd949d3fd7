# Makes src_tl/kernels (the TMA-ring kernel with per-CTA %globaltimer probes) and tl_ffi.cu (the
# bench FFI plus sqz_probe_set) in the current directory; build and run as README.md says.
import shutil, os
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../.."))
d = "src_tl"
shutil.rmtree(d, ignore_errors=True); os.makedirs(d)
shutil.copytree(os.path.join(ROOT, "profiler/cuda/kernels"), f"{d}/kernels")
p = f"{d}/kernels/decode_attention_mma_tma.cuh"
s = open(p).read()
def rep(a, b):
    global s
    assert a in s, a[:60]
    s = s.replace(a, b, 1)
rep("namespace squeeze::cuda {\n", """namespace squeeze::cuda {
__device__ unsigned long long* g_probe;  // [cta][8]
__device__ __forceinline__ unsigned long long gtimer() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t)::"memory");
  return t;
}
__device__ __forceinline__ unsigned smid() { unsigned r; asm volatile("mov.u32 %0, %%smid;" : "=r"(r)); return r; }
#define PROBE(i, v) do { if (threadIdx.x == 0 && g_probe) { const unsigned c_ = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z); g_probe[c_ * 8 + (i)] = (v); } } while (0)
""")
rep("  const int split = blockIdx.x;\n  const DecodeMmaPiece pc", "  PROBE(0, gtimer()); PROBE(4, smid());\n  const int split = blockIdx.x;\n  const DecodeMmaPiece pc")
rep("""    mbarrier_wait(&bar[n % NS], (n / NS) & 1);
""", """    mbarrier_wait(&bar[n % NS], (n / NS) & 1);
    if (n == 0) PROBE(1, gtimer());
""")
rep("""  __syncthreads();  // every warp is done with the ring
""", """  PROBE(5, gtimer());
  __syncthreads();  // every warp is done with the ring
  PROBE(2, gtimer());
""")
s = s.rstrip()
assert s.endswith("}  // namespace squeeze::cuda")
open(p, "w").write(s + "\n")
# end probe: after epilogue call
s = open(p).read()
rep("  decode_mma_cta_epilogue<HD, W>(a, pc, split, splits, st, sm_m, sm_l, sm_acc);\n#endif", "  decode_mma_cta_epilogue<HD, W>(a, pc, split, splits, st, sm_m, sm_l, sm_acc);\n  PROBE(3, gtimer());\n#endif")
open(p, "w").write(s)
f = open(os.path.join(ROOT, "bench/decode_attention_ffi.cu")).read()
f = f.replace('}  // extern "C"', '''SQZ_EXPORT int sqz_probe_set(void* p) {
  unsigned long long* q = static_cast<unsigned long long*>(p);
  return static_cast<int>(cudaMemcpyToSymbol(sc::g_probe, &q, sizeof(q)));
}
}  // extern "C"''')
open("tl_ffi.cu", "w").write(f)
