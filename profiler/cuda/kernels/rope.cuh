#pragma once
// RoPE on the fused QKV projection and the KV-cache append, in one pass: q is rotated into the
// attention input, k is rotated and written with v straight into its cache slot, so keys are
// cached after RoPE at their absolute positions (DESIGN.md §2) and never move again.
//
// Cache layout (one layer): k_cache, v_cache are (batch, kv_heads, capacity, head_dim) bf16.
// slots[t, h] is the slot token t's key/value of KV head h goes to in its sequence's rows (the
// slot choice is the eviction kernels' job; heads may differ under H2O).

#include <cmath>
#include <string>
#include <vector>

#include "common.cuh"
#include "kernel_args.hpp"

namespace squeeze::cuda {



__device__ __forceinline__ void rope_pair_index(RopePairing pairing, int i, int head_dim, int& a,
                                                int& b) {
  if (pairing == RopePairing::Interleaved) {
    a = 2 * i;
    b = 2 * i + 1;
  } else {
    a = i;
    b = i + head_dim / 2;
  }
}

static __global__ void rope_kv_append_kernel(RopeArgs args) {
  const int t = blockIdx.x;
  const int hd = args.head_dim, half = hd / 2;
  const int q_dim = args.n_heads * hd, kv_dim = args.kv_heads * hd;
  const int row_len = q_dim + 2 * kv_dim;
  const float* row = args.qkv + static_cast<int64_t>(t) * row_len;
  const float pos = static_cast<float>(args.positions[t]);
  const int seq = args.seq_of_token[t];
  auto in = [&](int j) { return row[j] + (args.bias != nullptr ? args.bias[j] : 0.f); };
  // Rotated pairs of q (heads 0..n_heads-1) then of k (heads n_heads..).
  const int pairs = (args.n_heads + args.kv_heads) * half;
  // Grid (tokens, slices): a decode step has few tokens, so each token's heads are spread over
  // several blocks instead of one block looping over all of them.
  const int stride = gridDim.y * blockDim.x;
  for (int p = blockIdx.y * blockDim.x + threadIdx.x; p < pairs; p += stride) {
    const int head = p / half, i = p % half;
    int a, b;
    rope_pair_index(args.pairing, i, hd, a, b);
    float s, c;
    sincosf(pos * args.inv_freq[i], &s, &c);
    const int col = head * hd;  // q heads then k heads are contiguous in the row
    const float x0 = in(col + a), x1 = in(col + b);
    const float y0 = x0 * c - x1 * s, y1 = x0 * s + x1 * c;
    if (head < args.n_heads) {
      bf16* q = args.q_out + static_cast<int64_t>(t) * q_dim + col;
      q[a] = __float2bfloat16(y0);
      q[b] = __float2bfloat16(y1);
    } else {
      const int kh = head - args.n_heads;
      const int slot = args.slots[t * args.kv_heads + kh];
      bf16* k = args.k_cache +
                ((static_cast<int64_t>(seq) * args.kv_heads + kh) * args.capacity + slot) * hd;
      k[a] = __float2bfloat16(y0);
      k[b] = __float2bfloat16(y1);
    }
  }
  for (int j = blockIdx.y * blockDim.x + threadIdx.x; j < kv_dim; j += stride) {
    const int kh = j / hd, d = j % hd;
    const int slot = args.slots[t * args.kv_heads + kh];
    args.v_cache[((static_cast<int64_t>(seq) * args.kv_heads + kh) * args.capacity + slot) * hd + d] =
        __float2bfloat16(in(q_dim + kv_dim + j));
  }
}

inline cudaError_t launch_rope_kv_append(const RopeArgs& args, cudaStream_t stream) {
  if (args.tokens <= 0) return cudaSuccess;
  if (args.head_dim % 2 != 0) return cudaErrorInvalidValue;
  const int pairs = (args.n_heads + args.kv_heads) * args.head_dim / 2;
  const int slices = std::min(ceil_div(pairs, 128), 32);
  rope_kv_append_kernel<<<dim3(args.tokens, slices), 128, 0, stream>>>(args);
  return launch_status();
}


}  // namespace squeeze::cuda
