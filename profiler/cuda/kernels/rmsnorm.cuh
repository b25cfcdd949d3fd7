#pragma once
// RMSNorm of the fp32 residual stream into bf16 GEMM inputs, and the residual add that precedes
// it, with the layer-importance cosine (DESIGN.md §2) fused into the attention residual add:
// the kernel already holds x and y = x + delta in registers, so the similarity costs no extra
// pass over memory.

#include "common.cuh"

namespace squeeze::cuda {

// 1024 threads: at decode a launch is one block per token, so a wide block is what shortens it
// (the per-launch time at batch 1 is latency, measured 14 us with 256 threads on an H100).
constexpr int kNormThreads = 1024;

// out = x / sqrt(mean(x^2) + eps) * weight. One block per token.
static __global__ void rmsnorm_kernel(const float* __restrict__ x,       // (tokens, hidden)
                               const float* __restrict__ weight,  // (hidden)
                               bf16* __restrict__ out,            // (tokens, hidden)
                               int hidden, float eps) {
  __shared__ double scratch[32];
  const int64_t base = static_cast<int64_t>(blockIdx.x) * hidden;
  float ss = 0.f;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) ss += x[base + i] * x[base + i];
  const double total = block_sum<double>(ss, scratch);
  const float inv = static_cast<float>(1.0 / sqrt(total / hidden + eps));
  for (int i = threadIdx.x; i < hidden; i += blockDim.x)
    out[base + i] = __float2bfloat16(x[base + i] * inv * weight[i]);
}

// x <- y = x + delta. When `cosine` is given, cosine[t] = cos(x_t, y_t) over the hidden
// dimension (fp32 products, fp64 block sums). When `weight` is given, out = RMSNorm(y).
static __global__ void residual_add_kernel(float* __restrict__ x,            // (tokens, hidden) in/out
                                    const float* __restrict__ delta,  // (tokens, hidden)
                                    const float* __restrict__ weight, // (hidden) or null
                                    bf16* __restrict__ out,           // (tokens, hidden) or null
                                    float* __restrict__ cosine,       // (tokens) or null
                                    int hidden, float eps) {
  __shared__ double scratch[32];
  const int64_t base = static_cast<int64_t>(blockIdx.x) * hidden;
  float dot = 0.f, xx = 0.f, yy = 0.f;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
    const float a = x[base + i];
    const float b = a + delta[base + i];
    x[base + i] = b;
    dot += a * b;
    xx += a * a;
    yy += b * b;
  }
  const double sum_yy = block_sum<double>(yy, scratch);
  if (cosine != nullptr) {
    const double sum_dot = block_sum<double>(dot, scratch);
    const double sum_xx = block_sum<double>(xx, scratch);
    if (threadIdx.x == 0) {
      const double denom = sqrt(sum_xx * sum_yy);
      cosine[blockIdx.x] = denom > 0.0 ? static_cast<float>(sum_dot / denom) : 0.f;
    }
  }
  if (weight == nullptr) return;
  const float inv = static_cast<float>(1.0 / sqrt(sum_yy / hidden + eps));
  // Each thread re-reads only the elements it wrote itself, so no barrier is needed.
  for (int i = threadIdx.x; i < hidden; i += blockDim.x)
    out[base + i] = __float2bfloat16(x[base + i] * inv * weight[i]);
}

inline cudaError_t launch_rmsnorm(const float* x, const float* weight, bf16* out, int tokens,
                                  int hidden, float eps, cudaStream_t stream) {
  if (tokens <= 0) return cudaSuccess;
  rmsnorm_kernel<<<tokens, kNormThreads, 0, stream>>>(x, weight, out, hidden, eps);
  return launch_status();
}

// weight/out null: add only. cosine null: no similarity.
inline cudaError_t launch_residual_add(float* x, const float* delta, const float* weight, bf16* out,
                                       float* cosine, int tokens, int hidden, float eps,
                                       cudaStream_t stream) {
  if (tokens <= 0) return cudaSuccess;
  if ((weight == nullptr) != (out == nullptr)) return cudaErrorInvalidValue;
  residual_add_kernel<<<tokens, kNormThreads, 0, stream>>>(x, delta, weight, out, cosine, hidden,
                                                           eps);
  return launch_status();
}

}  // namespace squeeze::cuda
