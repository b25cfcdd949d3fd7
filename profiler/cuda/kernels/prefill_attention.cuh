#pragma once
// Causal prefill attention with GQA, producing per-KV-head column sums of the softmax
// probabilities that H2O's prefill selection needs (DESIGN.md §2).
//
// One warp per (sequence, query head, query row). Two passes over the row's keys: the first finds
// the softmax max and denominator (lanes own keys, online softmax, warp merge); the second
// recomputes each probability exactly normalised, adds it to the column sum of its key and
// accumulates P·V with lanes owning head dimensions. Prefill runs once per prompt; this favours
// being plainly right (exact column sums) over tensor-core speed.
//
// Column sums are fp64 atomics: the sum over queries is order-independent up to fp64 rounding.

#include "common.cuh"
#include "kernel_args.hpp"

namespace squeeze::cuda {


constexpr int kPrefillWarps = 4;
constexpr int kPrefillMaxHeadDim = 256;

__device__ __forceinline__ float prefill_dot(const float* q, const bf16* k, int hd) {
  float d = 0.f;
  for (int j = 0; j < hd; j += 8) {
    float kf[8];
    load_bf16x8(k + j, kf);
#pragma unroll
    for (int i = 0; i < 8; ++i) d = fmaf(q[j + i], kf[i], d);
  }
  return d;
}

static __global__ void __launch_bounds__(kPrefillWarps * 32)
    prefill_attention_kernel(PrefillAttentionArgs a) {
  __shared__ float sq[kPrefillWarps][kPrefillMaxHeadDim];
  __shared__ float sp[kPrefillWarps][32];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int b = blockIdx.z, h = blockIdx.y;
  const int row = blockIdx.x * kPrefillWarps + warp;
  const int first = a.seq_start[b];
  const int len = a.seq_start[b + 1] - first;
  if (row >= len) return;  // whole warp leaves together
  const int hd = a.head_dim;
  const int kvh = h / (a.n_heads / a.kv_heads);
  const int64_t tok = first + row;
  const bf16* qrow = a.q + (tok * a.n_heads + h) * hd;
  for (int d = lane; d < hd; d += 32) sq[warp][d] = __bfloat162float(qrow[d]) * a.scale * kLog2e;
  __syncwarp();
  const int64_t head_base = (static_cast<int64_t>(b) * a.kv_heads + kvh) * a.capacity;
  const bf16* kc = a.k_cache + head_base * hd;
  const bf16* vc = a.v_cache + head_base * hd;
  const int n_keys = row + 1;  // causal: keys 0..row

  float m = -INFINITY, l = 0.f;
  for (int j = lane; j < n_keys; j += 32) {
    const float s = prefill_dot(sq[warp], kc + static_cast<int64_t>(j) * hd, hd);
    const float m_new = fmaxf(m, s);
    l = l * exp2f(m - m_new) + exp2f(s - m_new);
    m = m_new;
  }
  const float M = warp_max(m);
  const float L = warp_sum(m == -INFINITY ? 0.f : l * exp2f(m - M));
  const float inv_l = 1.f / L;

  float o[kPrefillMaxHeadDim / 32];
#pragma unroll
  for (int i = 0; i < kPrefillMaxHeadDim / 32; ++i) o[i] = 0.f;
  for (int base = 0; base < n_keys; base += 32) {
    const int j = base + lane;
    float p = 0.f;
    if (j < n_keys) {
      p = exp2f(prefill_dot(sq[warp], kc + static_cast<int64_t>(j) * hd, hd) - M) * inv_l;
      if (a.col_sums != nullptr) atomicAdd(&a.col_sums[head_base + j], static_cast<double>(p));
    }
    sp[warp][lane] = p;
    __syncwarp();
    const int n = min(32, n_keys - base);
    for (int jj = 0; jj < n; ++jj) {
      const float pj = sp[warp][jj];
      const bf16* vrow = vc + static_cast<int64_t>(base + jj) * hd;
#pragma unroll
      for (int i = 0; i < kPrefillMaxHeadDim / 32; ++i) {
        const int d = lane + 32 * i;
        if (d < hd) o[i] = fmaf(pj, __bfloat162float(vrow[d]), o[i]);
      }
    }
    __syncwarp();
  }
  bf16* orow = a.out + (tok * a.n_heads + h) * hd;
#pragma unroll
  for (int i = 0; i < kPrefillMaxHeadDim / 32; ++i) {
    const int d = lane + 32 * i;
    if (d < hd) orow[d] = __float2bfloat16(o[i]);
  }
}

// head_dim: a multiple of 8 up to 256. col_sums is accumulated into, so zero it first.
inline cudaError_t launch_prefill_attention(const PrefillAttentionArgs& a, cudaStream_t stream) {
  if (a.batch <= 0 || a.max_len <= 0) return cudaSuccess;
  if (a.head_dim % 8 != 0 || a.head_dim > kPrefillMaxHeadDim || a.kv_heads <= 0 ||
      a.n_heads % a.kv_heads != 0 || a.max_len > a.capacity)
    return cudaErrorInvalidValue;
  dim3 grid(ceil_div(a.max_len, kPrefillWarps), a.n_heads, a.batch);
  prefill_attention_kernel<<<grid, kPrefillWarps * 32, 0, stream>>>(a);
  return launch_status();
}

}  // namespace squeeze::cuda
