#pragma once
// Kernels in these headers are `static __global__`: several translation units (the engine, each
// kernel test) include the same header, and a non-template kernel would otherwise be defined twice.
//
// Helpers every kernel family shares: bf16 <-> fp32 vectors of 8 (one 16-byte load), warp and
// block reductions, and the launch check that every launcher ends with.

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

namespace squeeze::cuda {

using bf16 = __nv_bfloat16;

// Eight bf16 values in one 16-byte word: the unit of every vectorised load and store.
union alignas(16) Bf16x8 {
  uint4 raw;
  __nv_bfloat162 pair[4];
};

// 16 bytes of a KV cache that the launch reads once (decode attention): read-only path, not
// kept in L1, and the L2 asked to fetch the 256-byte block around them from DRAM, which
// neighbouring loads then find there. 1-3% faster than __ldg at large KV on an H100, A/B in one
// process (bench/results/decode_attention.md).
__device__ __forceinline__ uint4 load_kv_u4(const void* p) {
  uint4 r;
  asm("ld.global.nc.L1::no_allocate.L2::256B.v4.u32 {%0,%1,%2,%3}, [%4];"
      : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
      : "l"(p));
  return r;
}

__device__ __forceinline__ void load_bf16x8(const bf16* src, float (&out)[8]) {
  Bf16x8 v;
  v.raw = *reinterpret_cast<const uint4*>(src);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 f = __bfloat1622float2(v.pair[i]);
    out[2 * i] = f.x;
    out[2 * i + 1] = f.y;
  }
}

__device__ __forceinline__ void unpack_bf16x8(uint4 raw, float (&out)[8]) {
  Bf16x8 v;
  v.raw = raw;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 f = __bfloat1622float2(v.pair[i]);
    out[2 * i] = f.x;
    out[2 * i + 1] = f.y;
  }
}

__device__ __forceinline__ void store_bf16x8(bf16* dst, const float (&in)[8]) {
  Bf16x8 v;
#pragma unroll
  for (int i = 0; i < 4; ++i) v.pair[i] = __floats2bfloat162_rn(in[2 * i], in[2 * i + 1]);
  *reinterpret_cast<uint4*>(dst) = v.raw;
}

template <class T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the whole block; every thread gets the result. `scratch` holds one T per warp (32).
template <class T>
__device__ __forceinline__ T block_sum(T v, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int n_warps = (blockDim.x + 31) >> 5;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  T total = T(0);
  for (int w = 0; w < n_warps; ++w) total += scratch[w];
  return total;
}

// Every launcher returns the launch's own error (bad configuration) without synchronising.
inline cudaError_t launch_status() { return cudaGetLastError(); }

__host__ __device__ inline int ceil_div(int a, int b) { return (a + b - 1) / b; }

// Attention kernels keep scores in log2 units (q.k * scale * log2(e)) so softmax uses exp2.
constexpr float kLog2e = 1.4426950408889634f;

}  // namespace squeeze::cuda
