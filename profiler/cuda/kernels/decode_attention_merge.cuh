#pragma once
// The end of every decode attention kernel: merge the CTA's P partial softmax states (key groups
// or warps) per query head, then either write the output (one split) or the split's partial and,
// in the last CTA of a split sequence to finish, merge every split (a counter in the workspace
// tells which CTA is last; the CUDA guide's threadFenceReduction pattern). Scores are in log2
// units throughout (q.k scaled by scale*log2(e)), so weights are exp2 of differences.

#include <cuda/atomic>

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

// (M, L) <- the merge of softmax states (M, L) and (m, l): maxima in log2 units, sums scaled to
// them. An empty state is (-inf, 0); two empty states stay empty (no -inf - -inf = NaN).
__device__ __forceinline__ void merge_softmax_state(float& M, float& L, float m, float l) {
  const float mn = fmaxf(M, m);
  if (mn == -INFINITY) return;
  L = L * exp2f(M - mn) + l * exp2f(m - mn);
  M = mn;
}

// Writes dims 4*q4 .. 4*q4+3 of output row `row`: the merged numerators over the sum.
__device__ __forceinline__ void store_merged_quad(const DecodeAttentionArgs& a, int64_t row,
                                                  int q4, float4 A, float L) {
  const float r = L > 0.f ? 1.f / L : 0.f;
  auto* out = reinterpret_cast<__nv_bfloat162*>(a.out + row * a.head_dim + q4 * 4);
  out[0] = __floats2bfloat162_rn(A.x * r, A.y * r);
  out[1] = __floats2bfloat162_rn(A.z * r, A.w * r);
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

  // The barrier orders the CTA's partial writes before thread 0's count, whose release (device
  // scope, cumulative) publishes them; the last CTA's acquire, then its barrier, makes every
  // split's partials visible to all its threads (CUTLASS's semaphore pattern; lighter than a
  // sequentially consistent __threadfence on each side).
  __shared__ bool is_last;
  __syncthreads();
  if (threadIdx.x == 0) {
    ::cuda::atomic_ref<unsigned, ::cuda::thread_scope_device> done(
        a.split_done[static_cast<int64_t>(b) * a.kv_heads + kvh]);
    is_last = done.fetch_add(1u, ::cuda::memory_order_acq_rel) == static_cast<unsigned>(splits - 1);
    if (is_last) done.store(0u, ::cuda::memory_order_relaxed);  // ready for the next launch
  }
  __syncthreads();
  if (!is_last) return;
  // One warp per head: each lane merges the (max, sum) of its splits online, the warp merges
  // the lanes; the splits' maxima wait in the merge arrays (read above, now free) to become
  // weights exp2(m_s - M). Other CTAs' partials are read through L2 (ldcg), each once.
  constexpr int kStride = decode_merge_split_cap<HD, P>();
  float* w = &sm_acc[0][0];
  const int lane = threadIdx.x % 32;
  for (int g = threadIdx.x / 32; g < group; g += kDecodeThreads / 32) {
    const int64_t row = static_cast<int64_t>(b) * a.n_heads + head0 + g;
    const float2* ml = reinterpret_cast<const float2*>(a.partial_ml) + row * a.max_splits;
    float M = -INFINITY, L = 0.f;
    for (int s = lane; s < splits; s += 32) {
      const float2 v = __ldcg(ml + s);
      w[g * kStride + s] = v.x;
      merge_softmax_state(M, L, v.x, v.y);
    }
#pragma unroll
    for (int off = 16; off > 0; off /= 2) {
      const float m2 = __shfl_xor_sync(0xffffffffu, M, off);
      const float l2 = __shfl_xor_sync(0xffffffffu, L, off);
      merge_softmax_state(M, L, m2, l2);
    }
    for (int s = lane; s < splits; s += 32)  // this lane's own entries
      w[g * kStride + s] = M == -INFINITY ? 0.f : exp2f(w[g * kStride + s] - M);
    if (lane == 0) {
      sm_l[0][g] = L;
      if (a.row_max != nullptr) {
        a.row_max[row] = M;
        a.row_sum[row] = L;
      }
    }
  }
  __syncthreads();
  // A float4 of one head's output per thread, its splits' loads 16 at a time: the merge is a
  // few L2 round trips on the critical path of every split launch. Where the CTA has fewer
  // float4s than threads (few heads), `parts` threads share a float4's splits.
  constexpr int kQuads = HD / 4;
  __shared__ float4 part_sum[kDecodeThreads];
  const int items = group * kQuads;
  const int parts = items >= kDecodeThreads ? 1 : kDecodeThreads / items;
  for (int it = threadIdx.x; it < items * parts; it += kDecodeThreads) {
    const int item = it % items, part = it / items;
    const int g = item / kQuads, q4 = item % kQuads;
    const int64_t row = static_cast<int64_t>(b) * a.n_heads + head0 + g;
    const float4* po = reinterpret_cast<const float4*>(a.partial_o + row * a.max_splits * HD) + q4;
    const float* ws = w + g * kStride;
    float4 A = make_float4(0.f, 0.f, 0.f, 0.f);
    // Explicit batches of predicated loads: a plain loop with a run-time stride compiles to
    // one load, its use and an exit test per split, i.e. one L2 round trip per split (SASS).
    constexpr int kBatch = 16;
    for (int s0 = part; s0 < splits; s0 += kBatch * parts) {
      float4 v[kBatch];
      float x[kBatch];
#pragma unroll
      for (int u = 0; u < kBatch; ++u) {
        const int s = s0 + u * parts;
        v[u] = s < splits ? __ldcg(po + static_cast<int64_t>(s) * kQuads)
                          : make_float4(0.f, 0.f, 0.f, 0.f);
        x[u] = s < splits ? ws[s] : 0.f;
      }
#pragma unroll
      for (int u = 0; u < kBatch; ++u) {
        A.x = fmaf(v[u].x, x[u], A.x);
        A.y = fmaf(v[u].y, x[u], A.y);
        A.z = fmaf(v[u].z, x[u], A.z);
        A.w = fmaf(v[u].w, x[u], A.w);
      }
    }
    if (parts == 1) {
      store_merged_quad(a, row, q4, A, sm_l[0][g]);
    } else {
      part_sum[it] = A;
    }
  }
  if (parts == 1) return;
  __syncthreads();
  for (int item = threadIdx.x; item < items; item += kDecodeThreads) {
    float4 A = part_sum[item];
    for (int part = 1; part < parts; ++part) {
      const float4 v = part_sum[part * items + item];
      A.x += v.x;
      A.y += v.y;
      A.z += v.z;
      A.w += v.w;
    }
    const int g = item / kQuads;
    store_merged_quad(a, static_cast<int64_t>(b) * a.n_heads + head0 + g, item % kQuads, A,
                      sm_l[0][g]);
  }
}

}  // namespace squeeze::cuda
