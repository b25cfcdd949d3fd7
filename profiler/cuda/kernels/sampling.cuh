#pragma once
// Next-token choice from the LM head's logits: greedy argmax and nucleus (top-p) sampling.
// One block per sequence; no sort: top-p finds its probability threshold by a binary search over
// the bit patterns of non-negative floats (which order like integers), 31 block reductions.

#include <climits>

#include "common.cuh"

namespace squeeze::cuda {

constexpr int kSampleThreads = 1024;

// Ties go to the lowest index, as std::max_element does. NaN logits are never chosen.
static __global__ void argmax_kernel(const float* __restrict__ logits,  // (batch, vocab)
                              int32_t* __restrict__ out,         // (batch)
                              int vocab) {
  __shared__ float sv[32];
  __shared__ int si[32];
  const float* row = logits + static_cast<int64_t>(blockIdx.x) * vocab;
  float best = -INFINITY;
  int idx = INT_MAX;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    const float v = row[i];
    if (v > best || (idx == INT_MAX && v == best)) {  // first finite-or-inf value seen
      best = v;
      idx = i;
    }
  }
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(0xffffffffu, best, o);
    const int oi = __shfl_xor_sync(0xffffffffu, idx, o);
    if (ov > best || (ov == best && oi < idx)) {
      best = ov;
      idx = oi;
    }
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) {
    sv[warp] = best;
    si[warp] = idx;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < static_cast<int>(blockDim.x >> 5); ++w)
      if (sv[w] > best || (sv[w] == best && si[w] < idx)) {
        best = sv[w];
        idx = si[w];
      }
    out[blockIdx.x] = idx == INT_MAX ? 0 : idx;
  }
}

inline cudaError_t launch_argmax(const float* logits, int32_t* out, int batch, int vocab,
                                 cudaStream_t stream) {
  if (batch <= 0) return cudaSuccess;
  argmax_kernel<<<batch, kSampleThreads, 0, stream>>>(logits, out, vocab);
  return launch_status();
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
  v = warp_max(v);
  __syncthreads();
  if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = v;
  __syncthreads();
  float m = -INFINITY;
  for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) m = fmaxf(m, scratch[w]);
  return m;
}

// p_i = softmax(logits / temperature). Kept set: {i : p_i >= tau}, tau the largest value whose
// kept mass reaches top_p (the smallest nucleus; ties at tau are all kept). The token is the
// first index, in vocabulary order, where the running kept mass exceeds u * kept mass.
static __global__ void top_p_kernel(const float* __restrict__ logits,    // (batch, vocab)
                             const float* __restrict__ uniforms,  // (batch) in [0, 1)
                             int32_t* __restrict__ out,           // (batch)
                             int vocab, float inv_temperature, float top_p) {
  __shared__ float fscratch[32];
  __shared__ double dscratch[32];
  __shared__ double thread_mass[kSampleThreads];
  __shared__ int chosen;
  __shared__ int last_kept_any;
  const float* row = logits + static_cast<int64_t>(blockIdx.x) * vocab;
  float mx = -INFINITY;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) mx = fmaxf(mx, row[i] * inv_temperature);
  mx = block_max(mx, fscratch);
  float z = 0.f;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) z += __expf(row[i] * inv_temperature - mx);
  const float inv_z = static_cast<float>(1.0 / block_sum<double>(z, dscratch));
  auto prob = [&](int i) { return __expf(row[i] * inv_temperature - mx) * inv_z; };
  auto kept_mass = [&](float tau) {
    float s = 0.f;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
      const float p = prob(i);
      if (p >= tau) s += p;
    }
    return block_sum<double>(s, dscratch);
  };
  // The max probability is exp(0) * inv_z.
  int lo = 0, hi = __float_as_int(inv_z);
  while (lo < hi) {
    const int mid = lo + (hi - lo + 1) / 2;
    if (kept_mass(__int_as_float(mid)) >= top_p) lo = mid; else hi = mid - 1;
  }
  const float tau = __int_as_float(lo);
  const double mass = kept_mass(tau);
  const double target = static_cast<double>(uniforms[blockIdx.x]) * mass;
  // Contiguous ranges per thread so that a prefix over threads is a prefix over the vocabulary.
  const int per = ceil_div(vocab, blockDim.x);
  const int begin = threadIdx.x * per, end = min(begin + per, vocab);
  double mine = 0.0;
  int last_kept = -1;
  for (int i = begin; i < end; ++i) {
    const float p = prob(i);
    if (p >= tau) {
      mine += p;
      last_kept = i;
    }
  }
  thread_mass[threadIdx.x] = mine;
  if (threadIdx.x == 0) {
    chosen = INT_MAX;
    last_kept_any = -1;
  }
  __syncthreads();
  double before = 0.0;
  for (int t = 0; t < static_cast<int>(threadIdx.x); ++t) before += thread_mass[t];
  if (before <= target && target < before + mine) {
    double run = before;
    for (int i = begin; i < end; ++i) {
      const float p = prob(i);
      if (p < tau) continue;
      run += p;
      if (run > target) {
        atomicMin(&chosen, i);
        break;
      }
    }
  }
  if (last_kept >= 0) atomicMax(&last_kept_any, last_kept);
  __syncthreads();
  // Rounding can leave target at the very top of the mass: then the last kept token.
  if (threadIdx.x == 0) out[blockIdx.x] = chosen != INT_MAX ? chosen : last_kept_any;
}

inline cudaError_t launch_top_p(const float* logits, const float* uniforms, int32_t* out,
                                int batch, int vocab, float temperature, float top_p,
                                cudaStream_t stream) {
  if (batch <= 0) return cudaSuccess;
  if (!(temperature > 0.f) || !(top_p > 0.f) || top_p > 1.f) return cudaErrorInvalidValue;
  top_p_kernel<<<batch, kSampleThreads, 0, stream>>>(logits, uniforms, out, vocab,
                                                     1.f / temperature, top_p);
  return launch_status();
}

}  // namespace squeeze::cuda
