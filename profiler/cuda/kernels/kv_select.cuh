#pragma once
// KV-cache slot choice on the device, reproducing core::LayerKvSelector's decisions slot for slot
// (core/include/squeeze/core/kv_policy.hpp holds the slot model):
//  - not full (or policy full): the token goes to slot len;
//  - window / StreamingLLM: the ring slot, next_ring advancing over [ring_start, budget) — no
//    copying, the sinks (slots < ring_start) never move;
//  - H2O: per KV head, the lowest accumulated score among slots whose position is not one of the
//    r-1 most recent held positions, ties to the oldest position.
// Decode positions arrive consecutively and the r-1 latest are never evicted, so the protected
// positions are exactly [pos - (r-1), pos): the kernel checks that this holds (count of held
// positions >= the threshold equals r-1) and raises *error otherwise instead of guessing.

#include <climits>

#include "common.cuh"
#include "kernel_args.hpp"

namespace squeeze::cuda {




// One block per sequence; warp w handles KV heads w, w + warps, ...
static __global__ void kv_admit_kernel(KvAdmitArgs a) {
  const int b = blockIdx.x;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, n_warps = blockDim.x >> 5;
  const int len = a.state.lens[b];
  const int pos = a.new_pos[b];
  const int cap = a.state.capacity;
  const int budget = a.budget[b], protect = a.protect[b];
  const bool full = a.policy != KvPolicy::Full && len >= budget;
  if (!full && len >= cap) {  // no room: the arena was sized wrongly
    if (threadIdx.x == 0) atomicExch(a.error, 1);
    return;
  }
  for (int h = warp; h < a.kv_heads; h += n_warps) {
    const int64_t base = (static_cast<int64_t>(b) * a.kv_heads + h) * cap;
    int slot;
    if (!full) {
      slot = len;
    } else if (a.policy != KvPolicy::H2O) {
      slot = a.state.ring[b];
    } else {
      const int threshold = protect > 0 ? pos - protect : INT_MAX;
      double best_score = INFINITY;
      int best_pos = INT_MAX, best_slot = -1, protected_held = 0;
      for (int i = lane; i < len; i += 32) {
        const int p = a.state.positions[base + i];
        if (p >= threshold) {
          ++protected_held;
          continue;
        }
        const double s = a.state.scores[base + i];
        if (s < best_score || (s == best_score && p < best_pos)) {
          best_score = s;
          best_pos = p;
          best_slot = i;
        }
      }
      for (int o = 16; o > 0; o >>= 1) {
        const double os = __shfl_xor_sync(0xffffffffu, best_score, o);
        const int op = __shfl_xor_sync(0xffffffffu, best_pos, o);
        const int oi = __shfl_xor_sync(0xffffffffu, best_slot, o);
        protected_held += __shfl_xor_sync(0xffffffffu, protected_held, o);
        if (oi >= 0 && (best_slot < 0 || os < best_score || (os == best_score && op < best_pos))) {
          best_score = os;
          best_pos = op;
          best_slot = oi;
        }
      }
      if (best_slot < 0 || protected_held != protect) {
        if (lane == 0) atomicExch(a.error, 2);
        best_slot = max(best_slot, 0);
      }
      slot = best_slot;
    }
    if (lane == 0) {
      a.slots[b * a.kv_heads + h] = slot;
      a.state.positions[base + slot] = pos;
      if (a.state.scores != nullptr) a.state.scores[base + slot] = 0.0;  // null unless H2O
    }
  }
  __syncthreads();  // every head has read lens/ring before they move
  if (threadIdx.x == 0) {
    if (!full) {
      a.state.lens[b] = len + 1;
    } else if (a.policy != KvPolicy::H2O) {
      const int r = a.state.ring[b];
      a.state.ring[b] = r + 1 < budget ? r + 1 : a.ring_start[b];
    }
  }
}

inline cudaError_t launch_kv_admit(const KvAdmitArgs& a, cudaStream_t stream) {
  if (a.batch <= 0) return cudaSuccess;
  kv_admit_kernel<<<a.batch, 256, 0, stream>>>(a);
  return launch_status();
}

// H2O: scores[b, h, slot] += sum over the group's query heads of exp2(logit - max) / sum, the
// probabilities decode attention gave each held slot (fp32 each, summed in fp64 like the
// reference's accumulate()).
static __global__ void h2o_accumulate_kernel(const float* __restrict__ logits,   // (batch, n_heads, capacity)
                                      const float* __restrict__ row_max,  // (batch, n_heads)
                                      const float* __restrict__ row_sum,  // (batch, n_heads)
                                      const int32_t* __restrict__ lens,   // (batch)
                                      double* __restrict__ scores,  // (batch, kv_heads, capacity)
                                      int n_heads, int kv_heads, int capacity) {
  const int b = blockIdx.z, h = blockIdx.y;
  const int slot = blockIdx.x * blockDim.x + threadIdx.x;
  if (slot >= lens[b]) return;
  const int group = n_heads / kv_heads;
  double sum = 0.0;
  for (int g = 0; g < group; ++g) {
    const int64_t row = static_cast<int64_t>(b) * n_heads + h * group + g;
    const float p = exp2f(logits[row * capacity + slot] - row_max[row]) / row_sum[row];
    sum += static_cast<double>(p);
  }
  scores[(static_cast<int64_t>(b) * kv_heads + h) * capacity + slot] += sum;
}

inline cudaError_t launch_h2o_accumulate(const float* logits, const float* row_max,
                                         const float* row_sum, const int32_t* lens, double* scores,
                                         int batch, int n_heads, int kv_heads, int capacity,
                                         int max_len, cudaStream_t stream) {
  if (batch <= 0 || max_len <= 0) return cudaSuccess;
  dim3 grid(ceil_div(max_len, 256), kv_heads, batch);
  h2o_accumulate_kernel<<<grid, 256, 0, stream>>>(logits, row_max, row_sum, lens, scores, n_heads,
                                                   kv_heads, capacity);
  return launch_status();
}

// Compaction after an online prefill: slot i of (b, h) in the budget arena receives prompt
// position src_pos[b, h, i] of the full prefill cache (-1: slot left empty). The kept positions
// come from the reference selector's prefill() on the host, so they match it by construction.
static __global__ void kv_gather_kernel(const bf16* __restrict__ k_src,  // (batch, kv_heads, src_cap, hd)
                                 const bf16* __restrict__ v_src,  // (batch, kv_heads, src_cap, hd)
                                 const int32_t* __restrict__ src_pos,  // (batch, kv_heads, dst_cap)
                                 bf16* __restrict__ k_dst,  // (batch, kv_heads, dst_cap, hd)
                                 bf16* __restrict__ v_dst,  // (batch, kv_heads, dst_cap, hd)
                                 int src_cap, int dst_cap, int head_dim) {
  const int64_t bh = blockIdx.y;
  const int slot = blockIdx.x;
  const int p = src_pos[bh * dst_cap + slot];
  if (p < 0) return;
  const int64_t s = (bh * src_cap + p) * head_dim, d = (bh * dst_cap + slot) * head_dim;
  for (int i = threadIdx.x; i < head_dim; i += blockDim.x) {
    k_dst[d + i] = k_src[s + i];
    v_dst[d + i] = v_src[s + i];
  }
}

inline cudaError_t launch_kv_gather(const bf16* k_src, const bf16* v_src, const int32_t* src_pos,
                                    bf16* k_dst, bf16* v_dst, int batch, int kv_heads, int src_cap,
                                    int dst_cap, int head_dim, cudaStream_t stream) {
  if (batch <= 0 || dst_cap <= 0) return cudaSuccess;
  dim3 grid(dst_cap, batch * kv_heads);
  kv_gather_kernel<<<grid, std::min(head_dim, 128), 0, stream>>>(k_src, v_src, src_pos, k_dst, v_dst,
                                                                  src_cap, dst_cap, head_dim);
  return launch_status();
}

}  // namespace squeeze::cuda
