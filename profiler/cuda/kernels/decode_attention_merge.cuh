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

// Writes dims 4*q4 .. 4*q4+3 of output row `row`: the merged numerators over the sum; the
// thread of dims 0..3 also writes the row's final (max, sum) where H2O asks for them.
__device__ __forceinline__ void store_merged_quad(const DecodeAttentionArgs& a, int64_t row, int q4,
                                                  float4 A, float M, float L) {
  const float r = L > 0.f ? 1.f / L : 0.f;
  auto* out = reinterpret_cast<__nv_bfloat162*>(a.out + row * a.head_dim + q4 * 4);
  out[0] = __floats2bfloat162_rn(A.x * r, A.y * r);
  out[1] = __floats2bfloat162_rn(A.z * r, A.w * r);
  if (q4 == 0 && a.row_max != nullptr) {
    a.row_max[row] = M;
    a.row_sum[row] = L;
  }
}

// The last CTA of a split sequence to finish: out = the merge of every split's partial state of
// the CTA's `group` query heads. Each thread takes a float4 of one head's output and reads each
// split's (max, sum) and numerators together, merging online as it goes: one pass of L2 round
// trips, 16 splits' loads in flight at a time (a loop with a run-time stride would compile to
// one load, its use and an exit test per split: one L2 round trip per split, SASS). Where the
// CTA has more threads than float4s (few heads), `parts` threads share a float4's splits and
// their states are merged in shared memory. Run by the whole CTA (kThreads = its size) or by one
// warp (kThreads = 32; threads are then numbered within the warp).
template <int HD, int kThreads>
__device__ __forceinline__ void decode_attention_merge_splits(const DecodeAttentionArgs& a, int b,
                                                              int head0, int group, int splits) {
  constexpr int kQuads = HD / 4;
  constexpr int kBatch = 16;
  __shared__ float4 part_acc[kThreads];
  __shared__ float part_m[kThreads], part_l[kThreads];
  const int items = group * kQuads;
  // A lone warp (kThreads 32: other warps of its CTA may be merging too) never shares: the
  // shared arrays are the CTA's.
  const int parts = kThreads == 32 || items >= kThreads ? 1 : kThreads / items;
  for (int it = threadIdx.x % kThreads; it < items * parts; it += kThreads) {
    const int item = it % items, part = it / items;
    const int g = item / kQuads, q4 = item % kQuads;
    const int64_t row = static_cast<int64_t>(b) * a.n_heads + head0 + g;
    const float4* po = reinterpret_cast<const float4*>(a.partial_o + row * a.max_splits * HD) + q4;
    const float2* pml = reinterpret_cast<const float2*>(a.partial_ml) + row * a.max_splits;
    float M = -INFINITY, L = 0.f;
    float4 A = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int s0 = part; s0 < splits; s0 += kBatch * parts) {
      float4 v[kBatch];
      float2 ml[kBatch];
#pragma unroll
      for (int u = 0; u < kBatch; ++u) {
        const int s = s0 + u * parts;
        v[u] = s < splits ? __ldcg(po + static_cast<int64_t>(s) * kQuads)
                          : make_float4(0.f, 0.f, 0.f, 0.f);
        ml[u] = s < splits ? __ldcg(pml + s) : make_float2(-INFINITY, 0.f);
      }
      float mx = M;
#pragma unroll
      for (int u = 0; u < kBatch; ++u) mx = fmaxf(mx, ml[u].x);
      if (mx == -INFINITY) continue;  // nothing but empty splits so far
      const float r = exp2f(M - mx);  // 0 while M is -inf
      L *= r;
      A.x *= r;
      A.y *= r;
      A.z *= r;
      A.w *= r;
#pragma unroll
      for (int u = 0; u < kBatch; ++u) {
        const float w = exp2f(ml[u].x - mx);  // empty split: exp2(-inf) = 0
        L = fmaf(ml[u].y, w, L);
        A.x = fmaf(v[u].x, w, A.x);
        A.y = fmaf(v[u].y, w, A.y);
        A.z = fmaf(v[u].z, w, A.z);
        A.w = fmaf(v[u].w, w, A.w);
      }
      M = mx;
    }
    if (parts > 1) {
      part_acc[it] = A;
      part_m[it] = M;
      part_l[it] = L;
      continue;
    }
    store_merged_quad(a, row, q4, A, M, L);
  }
  if (parts == 1) return;
  __syncthreads();
  for (int item = threadIdx.x % kThreads; item < items; item += kThreads) {
    float M = -INFINITY;
    for (int part = 0; part < parts; ++part) M = fmaxf(M, part_m[part * items + item]);
    float L = 0.f;
    float4 A = make_float4(0.f, 0.f, 0.f, 0.f);
    if (M != -INFINITY) {
      for (int part = 0; part < parts; ++part) {
        const int it = part * items + item;
        const float w = exp2f(part_m[it] - M);
        const float4 v = part_acc[it];
        L = fmaf(part_l[it], w, L);
        A.x = fmaf(v.x, w, A.x);
        A.y = fmaf(v.y, w, A.y);
        A.z = fmaf(v.z, w, A.z);
        A.w = fmaf(v.w, w, A.w);
      }
    }
    const int g = item / kQuads, q4 = item % kQuads;
    const int64_t row = static_cast<int64_t>(b) * a.n_heads + head0 + g;
    store_merged_quad(a, row, q4, A, M, L);
  }
}

// Counts one finished split of pair (b, kvh); true for the last of its `splits`, which also
// resets the counter for the next launch. One thread calls it, after a barrier over the threads
// that wrote the split's partials: its release (device scope, cumulative) publishes them, and
// the last one's acquire, then a barrier, makes every split's partials visible to its group.
__device__ __forceinline__ bool decode_count_split(const DecodeAttentionArgs& a, int b, int kvh,
                                                   int splits) {
  ::cuda::atomic_ref<unsigned, ::cuda::thread_scope_device> done(
      a.split_done[static_cast<int64_t>(b) * a.kv_heads + kvh]);
  const bool last =
      done.fetch_add(1u, ::cuda::memory_order_acq_rel) == static_cast<unsigned>(splits - 1);
  if (last) done.store(0u, ::cuda::memory_order_relaxed);  // ready for the next launch
  return last;
}

// sm_m/sm_l/sm_acc: state p of query head g (heads of this CTA: g < group <= G), written by
// the caller before a __syncthreads. The caller's CTA has kThreads threads.
template <int HD, int G, int P, int kThreads>
__device__ __forceinline__ void decode_attention_epilogue(const DecodeAttentionArgs& a,
                                                          float (&sm_m)[P][G], float (&sm_l)[P][G],
                                                          float (&sm_acc)[P][G * HD], int b,
                                                          int kvh, int head0, int group, int split,
                                                          int splits) {
  // V consecutive dims per thread where the CTA has fewer threads than the G heads' dims (the
  // tensor-core kernels' 8 rows): each head's weights are then computed once per V dims, not
  // once per dim, and the loads and stores are vectors.
  constexpr int V = G * HD / kThreads >= 8 ? 8 : (G * HD / kThreads >= 4 ? 4 : 1);
  static_assert(HD % V == 0, "a thread's dims lie in one head");
  for (int o = threadIdx.x * V; o < G * HD; o += kThreads * V) {
    const int g = o / HD, d = o % HD;
    if (g >= group) continue;
    float M = -INFINITY;
    for (int k = 0; k < P; ++k) M = fmaxf(M, sm_m[k][g]);
    float L = 0.f, A[V] = {};
    if (M != -INFINITY) {
      for (int k = 0; k < P; ++k) {
        const float w = exp2f(sm_m[k][g] - M);
        L += sm_l[k][g] * w;
        float x[V];
        if constexpr (V >= 4) {
#pragma unroll
          for (int j = 0; j < V; j += 4) {
            const float4 q = *reinterpret_cast<const float4*>(&sm_acc[k][o + j]);
            x[j] = q.x, x[j + 1] = q.y, x[j + 2] = q.z, x[j + 3] = q.w;
          }
        } else {
          x[0] = sm_acc[k][o];
        }
#pragma unroll
        for (int j = 0; j < V; ++j) A[j] += x[j] * w;
      }
    }
    const int64_t row = static_cast<int64_t>(b) * a.n_heads + head0 + g;
    if (splits == 1) {
      float y[V];
#pragma unroll
      for (int j = 0; j < V; ++j) y[j] = L > 0.f ? A[j] / L : 0.f;
      if constexpr (V == 8) {
        store_bf16x8(a.out + row * HD + d, y);
      } else {
#pragma unroll
        for (int j = 0; j < V; ++j) a.out[row * HD + d + j] = __float2bfloat16(y[j]);
      }
      if (d == 0 && a.row_max != nullptr) {
        a.row_max[row] = M;
        a.row_sum[row] = L;
      }
    } else {
      float* po = a.partial_o + (row * a.max_splits + split) * HD + d;
      if constexpr (V >= 4) {
#pragma unroll
        for (int j = 0; j < V; j += 4)
          *reinterpret_cast<float4*>(po + j) = make_float4(A[j], A[j + 1], A[j + 2], A[j + 3]);
      } else {
        po[0] = A[0];
      }
      if (d == 0) {
        a.partial_ml[(row * a.max_splits + split) * 2] = M;
        a.partial_ml[(row * a.max_splits + split) * 2 + 1] = L;
      }
    }
  }
  if (splits == 1) return;

  // Barrier, count, barrier (decode_count_split): CUTLASS's semaphore pattern, lighter than a
  // sequentially consistent __threadfence on each side.
  __shared__ bool is_last;
  __syncthreads();
  if (threadIdx.x == 0) is_last = decode_count_split(a, b, kvh, splits);
  __syncthreads();
  if (is_last) decode_attention_merge_splits<HD, kThreads>(a, b, head0, group, splits);
}

}  // namespace squeeze::cuda
