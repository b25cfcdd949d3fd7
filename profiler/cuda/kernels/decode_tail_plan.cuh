#pragma once
// A tail grid for decode attention when the (sequence, KV head) pairs only just outnumber the
// SMs (8 KV heads x 17 sequences = 136 pairs on 132 SMs). One CTA per pair leaves a few SMs
// holding two pairs, and a per-CTA timeline of the TMA-ring kernel showed those SMs finishing
// about 4 µs after the rest (H100, 8 x 17 x 1k: 30.1-31.1 µs against a median 26.9;
// bench/experiments/decode_timeline). The tail grid runs most pairs whole, one CTA each, and
// cuts the rest into `parts` pieces, merged like splits (the last piece of a pair to finish
// merges), so no SM holds much more than its share.
//
// CTA c < whole takes pair c whole; CTA whole + k takes piece k % parts of pair
// whole + k / parts. Pairs are p = b * kv_heads + kvh, as in the split and stream-K grids.

#include <algorithm>
#include <cstdint>

#include "common.cuh"
#include "decode_stream_plan.cuh"
#include "kernel_args.hpp"

namespace squeeze::cuda {

struct DecodeTailPlan {
  int whole = 0;   // pairs run unsplit, one CTA each
  int parts = 1;   // pieces per pair of the rest
  int piece = 1;   // keys per piece, a multiple of kDecodeStreamBlock (the last ones of a pair
                   // may be short or empty)
  int64_t ctas = 0;
};

// For `pairs` pairs on `sms` SMs, `cut` of them cut into `parts` pieces (bounded by the
// workspace's max_splits, so pieces never write past a row's partial slots). ctas = 0: no tail
// grid (no pair to cut, or no workspace to merge in).
inline DecodeTailPlan decode_tail_plan(const DecodeAttentionArgs& a, int64_t pairs, int64_t cut,
                                       int parts) {
  DecodeTailPlan p;
  parts = std::min(parts, a.max_splits);
  if (cut <= 0 || cut > pairs || parts < 2 || a.split_done == nullptr) return p;
  const int stride = ceil_div(std::max(a.max_len, 1), kDecodeStreamBlock) * kDecodeStreamBlock;
  p.whole = static_cast<int>(pairs - cut);
  p.parts = parts;
  p.piece = ceil_div(ceil_div(stride, parts), kDecodeStreamBlock) * kDecodeStreamBlock;
  p.ctas = p.whole + cut * parts;
  return p;
}

// CTA c's piece: keys [start, stop) of its pair, piece `split` of `splits` (the stream-K
// kernels' piece, so the kernels share decode_mma_piece).
__host__ __device__ __forceinline__ DecodeStreamPiece decode_tail_piece(const DecodeTailPlan& p,
                                                                       int kv_heads, int c) {
  DecodeStreamPiece out;
  int pair = c;
  if (c < p.whole) {
    out.stop = p.piece * p.parts;  // >= every sequence's length
  } else {
    const int k = c - p.whole;
    pair = p.whole + k / p.parts;
    out.split = k % p.parts;
    out.splits = p.parts;
    out.start = out.split * p.piece;
    out.stop = out.start + p.piece;
  }
  out.b = pair / kv_heads;
  out.kvh = pair % kv_heads;
  return out;
}

}  // namespace squeeze::cuda
