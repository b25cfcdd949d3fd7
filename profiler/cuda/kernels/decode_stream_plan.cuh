#pragma once
// Stream-K for decode attention: how the keys of the (sequence, KV head) pairs
// p = b * kv_heads + kvh are dealt to `workers` (CTAs, or single warps) when the pair count fits
// the GPU badly, so that every worker has the same work.
//
// Hybrid, as in the Stream-K paper (Osama et al. 2023): with `whole` = floor(pairs / workers),
// worker w first takes its `share` of the keys of the last pairs - those past whole * workers,
// laid end to end, `stride` keys each - then the whole pairs w, w + workers, ... A share may end
// one pair and start the next; each such piece is merged like a split. Taking the share first
// puts those merges early, while the other workers still stream; the last piece of every worker
// is then a whole pair, which needs none. (Before: shares over all pairs, so at 8 KV heads x 17
// sequences, 136 pairs on 132 CTAs, every pair was cut in two and merged at the very end.)

#include <algorithm>
#include <cstdint>

#include "common.cuh"
#include "kernel_args.hpp"

namespace squeeze::cuda {

constexpr int kDecodeStreamBlock = 16;  // keys: shares and strides are multiples of this

struct DecodeStreamPlan {
  int stride = 1;        // keys per pair in the line: the longest sequence, rounded up
  int share = 1;         // keys of the line per worker
  int whole = 0;         // whole pairs per worker after its share
  int64_t workers = 1;   // to launch
};

// For `slots` workers, each share at least `min_share` keys and large enough that no pair is cut
// into more pieces than the workspace holds (a pair spans at most ceil(stride / share) + 1
// shares). Needs max_splits >= 2 where a share cuts a pair.
inline DecodeStreamPlan decode_stream_plan(const DecodeAttentionArgs& a, int64_t pairs,
                                           int64_t slots, int min_share) {
  DecodeStreamPlan p;
  p.stride = ceil_div(std::max(a.max_len, 1), kDecodeStreamBlock) * kDecodeStreamBlock;
  p.whole = static_cast<int>(pairs / slots);
  const int64_t line = (pairs - int64_t{p.whole} * slots) * p.stride;
  int64_t share = (line + slots - 1) / slots;
  share = std::max<int64_t>({share, min_share, ceil_div(p.stride, std::max(a.max_splits - 1, 1))});
  p.share = static_cast<int>((share + kDecodeStreamBlock - 1) / kDecodeStreamBlock *
                             kDecodeStreamBlock);
  p.workers = p.whole > 0 ? slots : std::max<int64_t>((line + p.share - 1) / p.share, 1);
  return p;
}

// Whether some share cuts a pair, so that pieces are merged through the workspace.
inline bool decode_stream_cuts_pairs(const DecodeStreamPlan& p, int64_t pairs) {
  return pairs > int64_t{p.whole} * p.workers && p.share % p.stride != 0;
}

// Calls f(b, kvh, start, stop, split, splits) for worker w's pieces in the order it takes them:
// keys [start, stop) of pair (b, kvh), piece `split` of the `splits` its pair is cut into.
template <typename F>
__host__ __device__ __forceinline__ void decode_stream_pieces(const DecodeStreamPlan& p,
                                                              int64_t pairs, int kv_heads,
                                                              int64_t w, F&& f) {
  const int64_t first_cut = int64_t{p.whole} * p.workers;  // the line's first pair
  const int64_t line = (pairs - first_cut) * p.stride;
  const int64_t g0 = w * p.share, g1 = std::min(g0 + p.share, line);
  for (int64_t q = g0 / p.stride; q * p.stride < g1; ++q) {  // the same trip count per worker
    const int64_t q0 = q * p.stride;
    const int64_t first = q0 / p.share, last = (q0 + p.stride - 1) / p.share;
    const int64_t pair = first_cut + q;
    f(static_cast<int>(pair / kv_heads), static_cast<int>(pair % kv_heads),
      static_cast<int>(std::max(g0, q0) - q0), static_cast<int>(std::min(g1, q0 + p.stride) - q0),
      static_cast<int>(w - first), static_cast<int>(last - first + 1));
  }
  for (int k = 0; k < p.whole; ++k) {
    const int64_t pair = k * p.workers + w;
    f(static_cast<int>(pair / kv_heads), static_cast<int>(pair % kv_heads), 0, p.stride, 0, 1);
  }
}

}  // namespace squeeze::cuda
