#pragma once
// The end of every decode attention kernel: merge the CTA's P partial softmax states (key groups
// or warps) per query head, then either write the output (one split) or the split's partial and,
// in the last CTA of a split sequence to finish, merge every split (a counter in the workspace
// tells which CTA is last; the CUDA guide's threadFenceReduction pattern). Scores are in log2
// units throughout (q.k scaled by scale*log2(e)), so weights are exp2 of differences.

#include "common.cuh"
#include "kernel_args.hpp"

namespace squeeze::cuda {

constexpr int kDecodeThreads = 128;

// The last CTA keeps one weight per (head, split) in the merge arrays: P * HD floats per head,
// so a kernel may be launched with at most this many splits.
template <int HD, int P>
__host__ __device__ constexpr int decode_merge_split_cap() {
  return P * HD;
}

// sm_m/sm_l/sm_acc: state p of query head g (heads of this CTA: g < group <= G), written by
// the caller before a __syncthreads. The caller's CTA has kDecodeThreads threads.
template <int HD, int G, int P>
__device__ __forceinline__ void decode_attention_epilogue(const DecodeAttentionArgs& a,
                                                          float (&sm_m)[P][G], float (&sm_l)[P][G],
                                                          float (&sm_acc)[P][G * HD], int b,
                                                          int kvh, int head0, int group,
                                                          int split, int splits) {
  for (int o = threadIdx.x; o < G * HD; o += kDecodeThreads) {
    const int g = o / HD, d = o % HD;
    if (g >= group) continue;
    float M = -INFINITY;
    for (int k = 0; k < P; ++k) M = fmaxf(M, sm_m[k][g]);
    float L = 0.f, A = 0.f;
    if (M != -INFINITY) {
      for (int k = 0; k < P; ++k) {
        const float w = exp2f(sm_m[k][g] - M);
        L += sm_l[k][g] * w;
        A += sm_acc[k][o] * w;
      }
    }
    const int64_t row = static_cast<int64_t>(b) * a.n_heads + head0 + g;
    if (splits == 1) {
      a.out[row * HD + d] = __float2bfloat16(L > 0.f ? A / L : 0.f);
      if (d == 0 && a.row_max != nullptr) {
        a.row_max[row] = M;
        a.row_sum[row] = L;
      }
    } else {
      a.partial_o[(row * a.max_splits + split) * HD + d] = A;
      if (d == 0) {
        a.partial_ml[(row * a.max_splits + split) * 2] = M;
        a.partial_ml[(row * a.max_splits + split) * 2 + 1] = L;
      }
    }
  }
  if (splits == 1) return;

  // The fence publishes this CTA's partials before it counts itself.
  __shared__ bool is_last;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    unsigned* done = a.split_done + static_cast<int64_t>(b) * a.kv_heads + kvh;
    is_last = atomicAdd(done, 1u) == static_cast<unsigned>(splits - 1);
    if (is_last) *done = 0u;  // ready for the next launch
  }
  __syncthreads();
  if (!is_last) return;
  __threadfence();
  // Weights exp2(m_s - M) per (head, split) in the merge arrays (read above, now free); other
  // CTAs' partials are read through L2 (ldcg).
  constexpr int kStride = decode_merge_split_cap<HD, P>();
  float* w = &sm_acc[0][0];
  for (int g = threadIdx.x / 32; g < group; g += kDecodeThreads / 32) {
    const int64_t row = static_cast<int64_t>(b) * a.n_heads + head0 + g;
    const float* ml = a.partial_ml + row * a.max_splits * 2;
    float M = -INFINITY;
    for (int s = threadIdx.x % 32; s < splits; s += 32) M = fmaxf(M, __ldcg(ml + 2 * s));
    M = warp_max(M);
    float L = 0.f;
    for (int s = threadIdx.x % 32; s < splits; s += 32) {
      const float ws = M == -INFINITY ? 0.f : exp2f(__ldcg(ml + 2 * s) - M);
      w[g * kStride + s] = ws;
      L += __ldcg(ml + 2 * s + 1) * ws;
    }
    L = warp_sum(L);
    if (threadIdx.x % 32 == 0) {
      sm_l[0][g] = L;
      if (a.row_max != nullptr) {
        a.row_max[row] = M;
        a.row_sum[row] = L;
      }
    }
  }
  __syncthreads();
  for (int o = threadIdx.x; o < group * HD; o += kDecodeThreads) {
    const int g = o / HD, d = o % HD;
    const int64_t row = static_cast<int64_t>(b) * a.n_heads + head0 + g;
    const float* po = a.partial_o + row * a.max_splits * HD + d;
    float A = 0.f;
#pragma unroll 8
    for (int s = 0; s < splits; ++s)
      A = fmaf(__ldcg(po + static_cast<int64_t>(s) * HD), w[g * kStride + s], A);
    const float L = sm_l[0][g];
    a.out[row * HD + d] = __float2bfloat16(L > 0.f ? A / L : 0.f);
  }
}

}  // namespace squeeze::cuda
