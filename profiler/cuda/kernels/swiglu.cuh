#pragma once
// SwiGLU between the fused gate/up GEMM and the down projection.

#include "common.cuh"

namespace squeeze::cuda {

// out[t, i] = silu(gate[t, i]) * up[t, i], where gate_up rows are [gate (inter) | up (inter)].
static __global__ void swiglu_kernel(const float* __restrict__ gate_up,  // (tokens, 2 * inter)
                              bf16* __restrict__ out,             // (tokens, inter)
                              int tokens, int inter) {
  const int64_t n = static_cast<int64_t>(tokens) * inter;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t t = i / inter, j = i % inter;
    const float g = gate_up[t * 2 * inter + j];
    const float u = gate_up[t * 2 * inter + inter + j];
    out[i] = __float2bfloat16(g / (1.f + __expf(-g)) * u);
  }
}

inline cudaError_t launch_swiglu(const float* gate_up, bf16* out, int tokens, int inter,
                                 cudaStream_t stream) {
  const int64_t n = static_cast<int64_t>(tokens) * inter;
  if (n <= 0) return cudaSuccess;
  const int blocks = static_cast<int>(std::min<int64_t>((n + 255) / 256, 65536));
  swiglu_kernel<<<blocks, 256, 0, stream>>>(gate_up, out, tokens, inter);
  return launch_status();
}

}  // namespace squeeze::cuda
