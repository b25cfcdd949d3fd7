#pragma once
// Stream-K for decode attention: how the keys of the (sequence, KV head) pairs
// p = b * kv_heads + kvh are dealt to `workers` (CTAs, or single warps) when the pair count fits
// the GPU badly, so that every worker has the same work.
//
// The pairs lie end to end, `stride` keys each, and worker w takes keys [w * share, + share) of
// that line. A share may end one pair and start the next; each such piece is merged like a
// split, so at 8 KV heads x 17 sequences (136 pairs on 132 CTAs) every pair is cut in two and
// merged at the very end of the kernel.
//
// Hybrid, as in the Stream-K paper (Osama et al. 2023), when asked: with `whole` =
// floor(pairs / workers), only the pairs past whole * workers form the line; worker w takes its
// share of it first, then the whole pairs w, w + workers, ... The merges then happen early,
// while the other workers stream, and no worker ends on one. Measured against the plain line,
// full tables on an H200 (bench/results/decode_attention.md): better where pairs are short
// (8 x 17 x 1k 30.8 -> 29.8 µs, 8 x 34 x 1k 48.3 -> 47.1), worse at 4k keys (8 x 17 x 4k
// 76.6 -> 78.8, 32 x 17 x 4k 264.6 -> 270.4) and over single warps (32 x 34 x 1k 136.5 ->
// 144.6), where every worker's small first piece ends in the same counter wait at once.

#include <algorithm>
#include <cstdint>

#include "common.cuh"
#include "kernel_args.hpp"

namespace squeeze::cuda {

constexpr int kDecodeStreamBlock = 16;  // keys: shares and strides are multiples of this

struct DecodeStreamPlan {
  int stride = 1;        // keys per pair in the line: the longest sequence, rounded up
  int share = 1;         // keys of the line per worker
  int whole = 0;         // whole pairs per worker after its share (hybrid)
  int64_t workers = 1;   // to launch
};

// For `slots` workers, each share at least `min_share` keys and large enough that no pair is cut
// into more pieces than the workspace holds (a pair spans at most ceil(stride / share) + 1
// shares). Needs max_splits >= 2 where a share cuts a pair.
inline DecodeStreamPlan decode_stream_plan(const DecodeAttentionArgs& a, int64_t pairs,
                                           int64_t slots, int min_share, bool hybrid) {
  DecodeStreamPlan p;
  p.stride = ceil_div(std::max(a.max_len, 1), kDecodeStreamBlock) * kDecodeStreamBlock;
  p.whole = hybrid ? static_cast<int>(pairs / slots) : 0;
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

// One piece of a worker's work: keys [start, stop) of pair (b, kvh), piece `split` of the
// `splits` its pair is cut into.
struct DecodeStreamPiece {
  int b = 0, kvh = 0, start = 0, stop = 0, split = 0, splits = 1;
};

// Worker w's piece number i in the order it takes them (its share of the line, then its whole
// pairs); false past its last piece. Indexed rather than iterated so that a kernel can issue the
// next piece's first loads before it finishes the current one.
__host__ __device__ __forceinline__ bool decode_stream_piece(const DecodeStreamPlan& p,
                                                            int64_t pairs, int kv_heads,
                                                            int64_t w, int i,
                                                            DecodeStreamPiece& out) {
  const int64_t first_cut = int64_t{p.whole} * p.workers;  // the line's first pair
  const int64_t line = (pairs - first_cut) * p.stride;
  const int64_t g0 = w * p.share, g1 = std::min(g0 + p.share, line);
  const int64_t q_first = g0 / p.stride;
  const int64_t in_line = g1 > g0 ? (g1 + p.stride - 1) / p.stride - q_first : 0;
  if (i < in_line) {
    const int64_t q = q_first + i, q0 = q * p.stride;
    const int64_t first = q0 / p.share, last = (q0 + p.stride - 1) / p.share;
    const int64_t pair = first_cut + q;
    out = {static_cast<int>(pair / kv_heads), static_cast<int>(pair % kv_heads),
           static_cast<int>(std::max(g0, q0) - q0),
           static_cast<int>(std::min(g1, q0 + p.stride) - q0), static_cast<int>(w - first),
           static_cast<int>(last - first + 1)};
    return true;
  }
  const int64_t k = i - in_line;
  if (k >= p.whole) return false;
  const int64_t pair = k * p.workers + w;
  out = {static_cast<int>(pair / kv_heads), static_cast<int>(pair % kv_heads), 0, p.stride, 0, 1};
  return true;
}

// Calls f(piece) for worker w's pieces in the order it takes them (host side: the tests walk
// the plan with it).
template <typename F>
void decode_stream_pieces(const DecodeStreamPlan& p,
                                                              int64_t pairs, int kv_heads,
                                                              int64_t w, F&& f) {
  DecodeStreamPiece pc;
  for (int i = 0; decode_stream_piece(p, pairs, kv_heads, w, i, pc); ++i) f(pc);
}

}  // namespace squeeze::cuda
