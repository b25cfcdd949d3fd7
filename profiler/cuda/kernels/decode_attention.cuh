#pragma once
// Decode attention: split-KV flash-decoding over each sequence's own cache length in one layer.
//
// Grid (splits, kv_heads, batch); each CTA takes one KV head of one sequence and a contiguous
// chunk of its slots, and serves the query heads of that KV group at once, so every K/V row is
// read from memory once (GQA without repeating KV heads). A key row of head_dim bf16
// is split over head_dim/8 threads, each loading one 16-byte vector; a 128-thread CTA therefore
// walks 128*8/head_dim keys side by side, each key group keeping its own online-softmax state,
// merged in shared memory at the end. When a sequence is split (splits > 1) the last CTA of a
// (sequence, head group) to finish merges the chunks (a counter in the workspace tells it), so
// no second kernel waits behind the split ones (measured in bench/results/decode_attention.md).
// This file's kernel serves MHA and any head_dim; GQA groups at head_dim 64/128 go to the
// tensor-core kernel (decode_attention_mma.cuh), which shares the same grid, plan and epilogue.
// Where no split grid fits the GPU in one well-filled wave (pair counts like 136 or 544 on 132
// SMs), the tensor-core stream-K kernel gives every CTA an equal share of all pairs' keys
// instead, MHA included (launch_decode_attention_t), and where the pairs outnumber the SMs by
// up to half, a tail grid (decode_tail_plan.cuh) of whole pairs and pieces of the rest.
//
// Scores are kept in log2 units (q pre-scaled by scale*log2(e)) so softmax uses exp2.
// With H2O the raw scores of every slot and each head's final (max, sum) are written out and
// h2o_accumulate (kv_select.cuh) turns them into per-KV-head probabilities.

#include <algorithm>
#include <cfloat>

#include "common.cuh"
#include "decode_attention_merge.cuh"
#include "decode_attention_mma.cuh"
#include "decode_attention_mma_tma.cuh"
#include "kernel_args.hpp"

// Keys per key group per iteration for 4..7 query heads per KV head (register pressure vs loads
// in flight; measured in bench/results/decode_attention.md).
#ifndef SQZ_DECODE_UNROLL_GQA
#define SQZ_DECODE_UNROLL_GQA 4
#endif

namespace squeeze::cuda {

template <int HD, int G>
static __global__ void __launch_bounds__(kDecodeThreads)
    decode_attention_kernel(DecodeAttentionArgs a, int chunk, int splits) {
  constexpr int TPK = HD / 8;                // threads per key row
  constexpr int KPB = kDecodeThreads / TPK;  // key groups per CTA
  constexpr int U =
      G >= 8 ? 2 : (G >= 4 ? SQZ_DECODE_UNROLL_GQA : 4);  // keys per group per iteration
  static_assert(HD % 8 == 0 && TPK <= 32 && (TPK & (TPK - 1)) == 0, "head_dim: power of 2, 8..256");

  __shared__ float sm_m[KPB][G];
  __shared__ float sm_l[KPB][G];
  __shared__ __align__(16) float sm_acc[KPB][G * HD];

  const int split = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;
  const int group = a.n_heads / a.kv_heads;  // query heads of this CTA, <= G; the rest masked
  const int len = a.lens[b];
  const int start = split * chunk;
  const int end = min(start + chunk, len);
  const int grp = threadIdx.x / TPK, sub = threadIdx.x % TPK;
  const int head0 = kvh * group;

  float q[G][8];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    if (g < group) {
      load_bf16x8(a.q + (static_cast<int64_t>(b) * a.n_heads + head0 + g) * HD + sub * 8, q[g]);
#pragma unroll
      for (int j = 0; j < 8; ++j) q[g][j] *= a.scale * kLog2e;
    } else {
#pragma unroll
      for (int j = 0; j < 8; ++j) q[g][j] = 0.f;
    }
  }
  float m[G], l[G], acc[G][8];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    m[g] = -INFINITY;
    l[g] = 0.f;
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[g][j] = 0.f;
  }

  const int64_t head_base = (static_cast<int64_t>(b) * a.kv_heads + kvh) * a.capacity;
  const bf16* kp = a.k_cache + head_base * HD + sub * 8;
  const bf16* vp = a.v_cache + head_base * HD + sub * 8;
  // Uniform trip count for the whole CTA: the shuffles below need every lane of the warp.
  const int n_keys = max(end - start, 0);
  const int iters = (n_keys + KPB * U - 1) / (KPB * U);
  // The next iteration's K/V rows are double-buffered in registers so loads stay in flight during
  // the arithmetic at low occupancy (GQA groups need many registers per thread). A cp.async ring
  // in shared memory instead was slower (bench/results/decode_attention.md).
  uint4 kr[U], vr[U];
  auto load_rows = [&](int it_load, uint4(&kd)[U], uint4(&vd)[U]) {
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int kk = start + (it_load * U + u) * KPB + grp;
      if (kk < end) {
        kd[u] = load_kv_u4(kp + static_cast<int64_t>(kk) * HD);
        vd[u] = load_kv_u4(vp + static_cast<int64_t>(kk) * HD);
      } else {
        kd[u] = make_uint4(0, 0, 0, 0);
        vd[u] = make_uint4(0, 0, 0, 0);
      }
    }
  };
  if (iters > 0) load_rows(0, kr, vr);
  for (int it = 0; it < iters; ++it) {
    uint4 kn[U], vn[U];
    if (it + 1 < iters) load_rows(it + 1, kn, vn);
    int key[U];
#pragma unroll
    for (int u = 0; u < U; ++u) key[u] = start + (it * U + u) * KPB + grp;
    float s[U][G];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      float kf[8];
      unpack_bf16x8(kr[u], kf);
#pragma unroll
      for (int g = 0; g < G; ++g) {
        float d = 0.f;
#pragma unroll
        for (int j = 0; j < 8; ++j) d = fmaf(q[g][j], kf[j], d);
#pragma unroll
        for (int o = TPK / 2; o > 0; o >>= 1) d += __shfl_xor_sync(0xffffffffu, d, o);
        s[u][g] = key[u] < end ? d : -INFINITY;
      }
    }
    if (a.logits != nullptr && sub == 0) {
#pragma unroll
      for (int u = 0; u < U; ++u)
        if (key[u] < end)
#pragma unroll
          for (int g = 0; g < G; ++g)
            if (g < group)
              a.logits[(static_cast<int64_t>(b) * a.n_heads + head0 + g) * a.capacity + key[u]] =
                  s[u][g];
    }
#pragma unroll
    for (int g = 0; g < G; ++g) {
      float mx = s[0][g];
#pragma unroll
      for (int u = 1; u < U; ++u) mx = fmaxf(mx, s[u][g]);
      const float m_new = fmaxf(m[g], mx);
      if (m_new == -INFINITY) continue;         // nothing seen yet by this key group
      const float alpha = exp2f(m[g] - m_new);  // exp2(-inf) = 0 on the first hit
      float p[U];
      float psum = 0.f;
#pragma unroll
      for (int u = 0; u < U; ++u) {
        p[u] = exp2f(s[u][g] - m_new);
        psum += p[u];
      }
      l[g] = l[g] * alpha + psum;
      m[g] = m_new;
#pragma unroll
      for (int j = 0; j < 8; ++j) acc[g][j] *= alpha;
#pragma unroll
      for (int u = 0; u < U; ++u) {
        float vf[8];
        unpack_bf16x8(vr[u], vf);
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[g][j] = fmaf(p[u], vf[j], acc[g][j]);
      }
    }
    if (it + 1 < iters) {
#pragma unroll
      for (int u = 0; u < U; ++u) {
        kr[u] = kn[u];
        vr[u] = vn[u];
      }
    }
  }

  // Each key group's softmax state, merged per head by the shared epilogue.
#pragma unroll
  for (int g = 0; g < G; ++g) {
    if (sub == 0) {
      sm_m[grp][g] = m[g];
      sm_l[grp][g] = l[g];
    }
#pragma unroll
    for (int j = 0; j < 8; ++j) sm_acc[grp][g * HD + sub * 8 + j] = acc[g][j];
  }
  __syncthreads();
  decode_attention_epilogue<HD, G, KPB, kDecodeThreads>(a, sm_m, sm_l, sm_acc, b, kvh, head0, group,
                                                        split, splits);
}

inline int cached_sm_count() {
  static int sms = [] {
    int dev = 0, n = 0;
    if (cudaGetDevice(&dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess)
      n = 132;
    return n;
  }();
  return sms;
}

struct DecodeSplitPlan {
  int splits = 1;  // CTAs per (sequence, KV head)
  int chunk = 1;   // keys per CTA
};

// Splits so that the grid fills the resident capacity of the GPU about once (one wave of equal
// chunks finishes together; more CTAs than fit would leave a partial second wave), but no chunk
// under `min_chunk` keys (one step of all the kernel's key groups; smaller chunks leave some
// idle) and no more splits than the workspace holds.
inline DecodeSplitPlan decode_attention_plan(const DecodeAttentionArgs& a, int ctas_per_sm,
                                             int min_chunk) {
  const int work = std::max(a.batch * a.kv_heads, 1);
  const int want = std::max(1, std::max(ctas_per_sm, 1) * cached_sm_count() / work);  // <= 1 wave
  const int by_len = std::max(1, ceil_div(a.max_len, min_chunk));
  DecodeSplitPlan p;
  p.splits = std::min({want, by_len, std::max(a.max_splits, 1)});
  p.chunk = ceil_div(ceil_div(std::max(a.max_len, 1), p.splits), 64) * 64;
  p.splits = ceil_div(std::max(a.max_len, 1), p.chunk);
  return p;
}

inline int decode_ctas_per_sm(const void* kernel, int threads) {
  int n = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, threads, 0) != cudaSuccess) n = 0;
  return n;
}

template <class Kernel>
cudaError_t launch_decode_split(Kernel kernel, int threads, const DecodeSplitPlan& p,
                                const DecodeAttentionArgs& a, cudaStream_t stream,
                                size_t smem = 0) {
  if (p.splits > 1 && a.split_done == nullptr) return cudaErrorInvalidValue;
  dim3 grid(p.splits, a.kv_heads, a.batch);
  kernel<<<grid, threads, smem, stream>>>(a, p.chunk, p.splits);
  return launch_status();
}

// The scalar kernel's chunks stay at 128 keys or more (4 steps of its key groups at head_dim
// 128), the floor it was tuned with; MHA already reaches the copy bandwidth with it.
constexpr int kDecodeScalarMinChunk = 128;

template <int HD, int G>
int decode_scalar_ctas_per_sm() {
  static const int n = decode_ctas_per_sm(
      reinterpret_cast<const void*>(decode_attention_kernel<HD, G>), kDecodeThreads);
  return n;
}

// A split grid is kept when it runs in one wave with at least 90% of the GPU's CTA slots busy.
inline bool decode_grid_fits(int64_t ctas, int64_t slots) {
  return ctas <= slots && 10 * ctas >= 9 * slots;
}

// CTA slots of the stream-K kernel on this GPU (0: it cannot run).
template <int HD>
int64_t decode_stream_slots() {
  static const int per_sm = decode_ctas_per_sm(
      reinterpret_cast<const void*>(decode_attention_mma_stream_kernel<HD>), 8 * 32);
  return static_cast<int64_t>(cached_sm_count()) * per_sm;
}

// Stream-K can merge pieces: the workspace is there and holds two splits or more.
inline bool decode_can_stream(const DecodeAttentionArgs& a) {
  return a.max_splits >= 2 && a.split_done != nullptr;
}

// Launches a stream-K kernel of 8-warp CTAs whose workers are `per_cta` to a CTA (1: CTAs,
// 8: warps), planned for `slots` workers.
template <class Kernel>
cudaError_t launch_decode_stream(Kernel kernel, int64_t slots, int per_cta, int min_share,
                                 bool hybrid, const DecodeAttentionArgs& a, cudaStream_t stream) {
  if (slots == 0) return cudaErrorInvalidConfiguration;
  const int64_t pairs = static_cast<int64_t>(a.batch) * a.kv_heads;
  const DecodeStreamPlan p = decode_stream_plan(a, pairs, slots, min_share, hybrid);
  if (decode_stream_cuts_pairs(p, pairs) && a.split_done == nullptr) return cudaErrorInvalidValue;
  kernel<<<static_cast<unsigned>((p.workers + per_cta - 1) / per_cta), 8 * 32, 0, stream>>>(a, p);
  return launch_status();
}

// Stream-K over CTAs; hybrid for sequences of up to 2048 keys only (decode_stream_plan.cuh says
// why).
template <int HD>
cudaError_t launch_decode_mma_stream(const DecodeAttentionArgs& a, cudaStream_t stream) {
  return launch_decode_stream(decode_attention_mma_stream_kernel<HD>, decode_stream_slots<HD>(), 1,
                              8 * kDecodeMmaKeys, /*hybrid=*/a.max_len <= 2048, a, stream);
}

// Stream-K over single warps (decode_attention_mma_warp_stream_kernel): warp slots, each warp
// at least 4 blocks of keys.
template <int HD>
cudaError_t launch_decode_mma_warp_stream(const DecodeAttentionArgs& a, cudaStream_t stream) {
  static const int per_sm = decode_ctas_per_sm(
      reinterpret_cast<const void*>(decode_attention_mma_warp_stream_kernel<HD>), 8 * 32);
  return launch_decode_stream(decode_attention_mma_warp_stream_kernel<HD>,
                              static_cast<int64_t>(cached_sm_count()) * per_sm * 8, 8,
                              4 * kDecodeMmaKeys, /*hybrid=*/false, a, stream);
}

// A TMA-ring kernel (decode_attention_mma_tma.cuh) can run: an sm_90 GPU, and `bytes` of
// dynamic shared memory granted to it.
template <class Kernel>
bool decode_tma_grant(Kernel kernel, size_t bytes) {
  int dev = 0, major = 0;
  return cudaGetDevice(&dev) == cudaSuccess &&
         cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) == cudaSuccess &&
         major >= 9 &&
         cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                              static_cast<int>(bytes)) == cudaSuccess;
}

// Once per instantiation: the split-grid kernel, and the tail-grid one (4 warps).
template <int HD, int W, int NS>
bool decode_tma_ready() {
  static const bool ready = decode_tma_grant(decode_attention_mma_tma_kernel<HD, W, NS>,
                                             decode_mma_tma_ring_bytes<HD, W, NS>());
  return ready;
}

template <int HD, int NS>
bool decode_tma_tail_ready() {
  static const bool ready = decode_tma_grant(decode_attention_mma_tma_tail_kernel<HD, 4, NS>,
                                             decode_mma_tma_ring_bytes<HD, 4, NS>());
  return ready;
}

// Peak DRAM bandwidth per SM above 30 GB/s (an H200: 4.8 TB/s over 132 SMs, 37 GB/s; an H100
// SXM: 3.35 TB/s, 25 GB/s): each SM must keep more bytes in flight to reach it.
inline bool decode_high_bandwidth_per_sm() {
  static const bool high = [] {
    int dev = 0, khz = 0, bits = 0;
    if (cudaGetDevice(&dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&bits, cudaDevAttrGlobalMemoryBusWidth, dev) != cudaSuccess)
      return false;
    const double bytes_per_s = 2.0 * khz * 1e3 * bits / 8;  // double data rate
    return bytes_per_s / cached_sm_count() > 30e9;
  }();
  return high;
}

// Whether the TMA-ring kernel replaces the register kernel on a split grid of `ctas` CTAs of
// `warps` warps with `chunk` keys each. On a GPU of high bandwidth per SM, always: on an H200 it
// was as fast or faster at every shape measured. Elsewhere where the grid holds about one CTA per
// SM, or every warp takes at most two blocks: there the CTAs are few or short and the bytes in
// flight per warp decide, while where two CTAs share every SM with longer chunks the register
// kernel was as fast or faster on an H100. Queued µs, register -> TMA kernel, H100 / H200
// (bench/results/decode_attention.md): 8 x 16 x 256 13.5 -> 12.6 / 12.4 -> 11.1; 8 x 1 x 4k
// 15.7 -> 14.8 / 14.5 -> 13.3; 8 x 8 x 512 15.2 -> 14.4 / 13.9 -> 12.6; 8 x 16 x 32k 694 -> 695
// / 475 -> 468; 8 x 24 x 1k 41.7 -> 43.1 / 33.7 -> 32.4; 8 x 20 x 2k 66.0 -> 71.7 / 54.8 -> 52.5;
// 8 x 32 x 4k 177 -> 183 / 126 -> 126 (three stages then). With two stages, H100, register ->
// TMA: 8 x 20 x 2k 65.2 -> 66.3, 8 x 24 x 1k 41.6 -> 42.0, 8 x 32 x 4k 178.4 -> 180.2.
inline bool decode_tma_pays(int64_t ctas, int chunk, int warps) {
  return decode_high_bandwidth_per_sm() || 10 * ctas <= 11 * int64_t{cached_sm_count()} ||
         chunk <= 2 * warps * kDecodeMmaKeys;
}

// The TMA-ring tensor-core kernel on a split plan; the register kernel where it cannot run.
template <int HD, int W>
cudaError_t launch_decode_mma_tma(const DecodeSplitPlan& p, const DecodeAttentionArgs& a,
                                  cudaStream_t stream) {
  constexpr int NS = kDecodeTmaStages;
  if (!decode_tma_ready<HD, W, NS>())
    return launch_decode_split(decode_attention_mma_kernel<HD, W>, W * 32, p, a, stream);
  return launch_decode_split(decode_attention_mma_tma_kernel<HD, W, NS>, W * 32, p, a, stream,
                             decode_mma_tma_ring_bytes<HD, W, NS>());
}

// Pieces per cut pair of the tail grid when `cut` pairs are cut on `sms` SMs: as many (8, 4 or
// 2) as keep the pieces within one more 4-warp CTA per SM; below 2, no tail grid.
inline int decode_tail_parts(int64_t cut, int64_t sms) {
  int parts = 8;
  while (parts >= 2 && cut * parts > sms) parts /= 2;
  return parts;
}

// Whether a tail grid fits: S < pairs, and the pairs past S in at least halves (pairs <= 1.5 S).
inline bool decode_tail_fits(int64_t pairs, int64_t sms) {
  return pairs > sms && decode_tail_parts(pairs - sms, sms) >= 2;
}

// The tail grid for `pairs` pairs on `sms` SMs (decode_tail_plan.cuh): one whole pair per SM,
// the pairs past the SM count cut into decode_tail_parts pieces; ctas = 0 where even halves
// would not fit. So no SM holds more than a pair and one piece. Measured on an H100 (queued µs,
// forced tail grid, cut pairs in pieces of 2 / 4 / 8; cuDNN): 8 x 17 x 1k 30.9 / 30.7 / 30.5
// (30.4); 8 x 19 x 1k 34.3 / 33.0 / 36.2 (34.6), eighths a second wave; 8 x 21 x 1k 36.7 /
// 39.4 / 38.5 (38.5). Cutting twice the pairs past the SM count, so that pieces fill the SMs,
// was slower where it differed: 8 x 19 x 1k 37.5 against 33.0 (quarters). (Forced with no more
// pairs than SMs, one pair is cut, so that tests reach both kinds of CTA.)
inline DecodeTailPlan decode_tail_grid(const DecodeAttentionArgs& a, int64_t pairs, int64_t sms) {
  const int64_t cut = std::clamp<int64_t>(pairs - sms, 1, pairs);
  return decode_tail_plan(a, pairs, cut, decode_tail_parts(cut, sms));
}

// Sequences the tail grid takes where it fits, in place of stream-K or the unsplit 4-warp grid.
// Not below 256 keys: there the pieces' merges cost more than the imbalance (8 x 17 x 64 on an
// H100: 9.4 µs against 8.2 unsplit). Up to 4096 keys, measured (8 x 20 x 4k: 122.3 -> 116.7).
constexpr int kDecodeTailMinLen = 256;
constexpr int kDecodeTailMaxLen = 4096;

// The TMA-ring kernel on a tail grid (decode_tail_plan.cuh) of 4-warp CTAs.
template <int HD>
cudaError_t launch_decode_mma_tma_tail(const DecodeTailPlan& p, const DecodeAttentionArgs& a,
                                       cudaStream_t stream) {
  constexpr int NS = kDecodeTmaStages;
  decode_attention_mma_tma_tail_kernel<HD, 4, NS>
      <<<static_cast<unsigned>(p.ctas), 4 * 32, decode_mma_tma_ring_bytes<HD, 4, NS>(), stream>>>(
          a, p);
  return launch_status();
}

// Whether stream-K replaces a split grid of `grid_ctas` CTAs for `grid_slots` slots: the grid
// does not fit (decode_grid_fits) and every stream-K slot would get at least `min_keys` keys.
template <int HD>
bool decode_stream_is_better(const DecodeAttentionArgs& a, int64_t grid_ctas, int64_t grid_slots,
                             int min_keys) {
  const int64_t slots = decode_stream_slots<HD>();
  const bool fills = int64_t{a.batch} * a.kv_heads * a.max_len >= slots * min_keys;
  return slots > 0 && decode_can_stream(a) && fills && !decode_grid_fits(grid_ctas, grid_slots);
}

// The scalar kernel's split grid. MHA at head_dim 64/128 whose grid leaves its last wave less
// than 90% full (32 heads x 17 sequences: 544 CTAs for 528 slots, 0.84-0.88x cuDNN on an H100)
// goes to stream-K on tensor cores instead, when each CTA gets 1024 keys or more: on less the
// scalar kernel's finer grid wins (32 x 1 x 1k: 13.0 µs against 16.2). Whole waves are fine
// (32 x 32 x 1k: 1024 CTAs, 177 µs scalar against 185 stream-K on an H100, 130 against 132-146
// on an H200), and so is a single wave that leaves slots idle: every CTA then starts at once,
// and no SM waits on a second wave (ninth session, queued µs, stream-K -> scalar; cuDNN: H100
// 32 x 9 x 1k 59.1 -> 55.1 (62.2), 32 x 12 x 1k 75.5 -> 70.9 (73.8), 32 x 12 x 2k 142.4 -> 134.8
// (139.3); H200 32 x 12 x 1k 55.0 -> 51.4 (54.5), 32 x 12 x 512 32.0 -> 28.8 (32.0)).
// On a GPU of high bandwidth per SM sequences of up to 2048 keys stream over single warps, whose
// pieces end without a CTA barrier (32 x 34 x 1k on an H200: 138 µs against 153 over CTAs then;
// 139.5 against 139.2 in the ninth session, 32 x 34 x 512 73.8 against 77.5); longer ones over
// CTAs (32 x 17 x 4k: 269 against 264 on the H200). On an H100 CTAs were faster at every length
// in the ninth session (warps -> CTAs: 32 x 17 x 1k 102.7 -> 99.9, 32 x 34 x 1k 196.1 -> 188.8,
// 32 x 34 x 512 104.8 -> 100.0, 32 x 17 x 2k 196.9 -> 188.4; cuDNN 100.3, 191.2, 100.2, 190.8).
template <int HD, int G>
cudaError_t launch_decode_attention_t(const DecodeAttentionArgs& a, cudaStream_t stream) {
  const int ctas_per_sm = decode_scalar_ctas_per_sm<HD, G>();
  if (ctas_per_sm == 0) return cudaErrorInvalidConfiguration;
  const DecodeSplitPlan p = decode_attention_plan(a, ctas_per_sm, kDecodeScalarMinChunk);
  if constexpr (G == 1 && (HD == 64 || HD == 128)) {
    const int64_t ctas = int64_t{a.batch} * a.kv_heads * p.splits;
    const int64_t slots = static_cast<int64_t>(cached_sm_count()) * ctas_per_sm;
    const bool waves_full = 10 * ctas >= 9 * ((ctas + slots - 1) / slots) * slots;
    if (a.kernel == DecodeKernel::kAuto && ctas > slots && !waves_full &&
        decode_stream_is_better<HD>(a, ctas, slots, 1024))
      return a.max_len <= 2048 && decode_high_bandwidth_per_sm()
                 ? launch_decode_mma_warp_stream<HD>(a, stream)
                 : launch_decode_mma_stream<HD>(a, stream);
  }
  return launch_decode_split(decode_attention_kernel<HD, G>, kDecodeThreads, p, a, stream);
}

// The tensor-core kernel comes as CTAs of 4 warps (2 per SM) or 8 warps (1 per SM). 8-warp
// CTAs split a sequence half as often, so the last CTA merges half the partials, and measured
// 3-8% faster where they fill the GPU in one wave about as well as 4-warp CTAs do (8 x 1 x 4k,
// 8 x 16 x 1k, 8 x 1 x 16k on an H100; bench/results/decode_attention.md). Elsewhere 4-warp
// CTAs: twice the (sequence, KV head) pairs fit in one wave, and short sequences split into
// twice as many chunks. Where neither split grid fills one wave to 90% (pair counts that fit
// the SM count badly, e.g. 136 or 272 pairs), 8-warp CTAs share all keys equally (stream-K),
// unless unsplit 4-warp CTAs run in one wave on short sequences (below).
template <int HD>
cudaError_t launch_decode_attention_mma(const DecodeAttentionArgs& a, cudaStream_t stream) {
  static const int per_sm4 =
      decode_ctas_per_sm(reinterpret_cast<const void*>(decode_attention_mma_kernel<HD, 4>), 4 * 32);
  static const int per_sm8 =
      decode_ctas_per_sm(reinterpret_cast<const void*>(decode_attention_mma_kernel<HD, 8>), 8 * 32);
  if (per_sm4 == 0 || per_sm8 == 0) return cudaErrorInvalidConfiguration;
  const DecodeSplitPlan p4 = decode_attention_plan(a, per_sm4, 4 * kDecodeMmaKeys);
  const DecodeSplitPlan p8 = decode_attention_plan(a, per_sm8, 8 * kDecodeMmaKeys);
  const int64_t pairs = static_cast<int64_t>(a.batch) * a.kv_heads;
  const int64_t ctas4 = pairs * p4.splits, ctas8 = pairs * p8.splits;
  const int64_t sms = cached_sm_count(), slots4 = sms * per_sm4, slots8 = sms * per_sm8;
  switch (a.kernel) {
    case DecodeKernel::kTensorCore4Warps:
      return launch_decode_split(decode_attention_mma_kernel<HD, 4>, 4 * 32, p4, a, stream);
    case DecodeKernel::kTensorCore8Warps:
      return launch_decode_split(decode_attention_mma_kernel<HD, 8>, 8 * 32, p8, a, stream);
    case DecodeKernel::kTensorCoreStreamK:
      if (decode_can_stream(a)) return launch_decode_mma_stream<HD>(a, stream);
      return launch_decode_split(decode_attention_mma_kernel<HD, 8>, 8 * 32, p8, a, stream);
    case DecodeKernel::kTensorCoreWarpStreamK:
      if (decode_can_stream(a)) return launch_decode_mma_warp_stream<HD>(a, stream);
      return launch_decode_split(decode_attention_mma_kernel<HD, 8>, 8 * 32, p8, a, stream);
    case DecodeKernel::kTensorCoreTma4Warps:
      return launch_decode_mma_tma<HD, 4>(p4, a, stream);
    case DecodeKernel::kTensorCoreTma8Warps:
      return launch_decode_mma_tma<HD, 8>(p8, a, stream);
    case DecodeKernel::kTensorCoreTmaTail: {
      // Forced: at least one pair is cut even where the pairs do not outnumber the SMs, so
      // that tests reach both kinds of CTA; the 4-warp split grid where no tail grid can run.
      const DecodeTailPlan t = decode_tail_grid(a, pairs, sms);
      if (t.ctas > 0 && decode_tma_tail_ready<HD, kDecodeTmaStages>())
        return launch_decode_mma_tma_tail<HD>(t, a, stream);
      return launch_decode_mma_tma<HD, 4>(p4, a, stream);
    }
    default:
      break;
  }
  const bool eight = ctas8 <= slots8 && 10 * ctas8 >= 9 * std::min(ctas4, sms);
  // Short sequences on a quarter to one wave of 8-warp CTAs (34-132 pairs on 132 SMs): one
  // unsplit 8-warp CTA per pair, though SMs idle. The split grids there cut every pair in 2-4
  // and (4 warps) leave some SMs one CTA and others two; their merges and that imbalance cost
  // more than the idle SMs, up to 1024 keys from half a wave and up to 512 below it. Queued µs,
  // the launcher's split grid before -> unsplit 8-warp CTAs (cuDNN), ninth session:
  // - H100: 4 x 17 x 128 10.2 -> 7.9 (8.0), 4 x 17 x 512 15.1 -> 12.9 (13.0), 4 x 17 x 1k 21.3
  //   -> 19.2 (20.0), 8 x 9 x 512 14.0 -> 12.9 (13.2), 4 x 24 x 1k 25.9 -> 25.2 (23.6), 8 x 12 x
  //   1k 24.7 -> 24.9 (23.4); below half a wave 4 x 9 x 512 12.9 -> 11.2 (11.3), 4 x 12 x 512
  //   13.9 -> 11.7 (12.4), 8 x 8 x 512 14.0 -> 12.2 (12.5), 8 x 8 x 256 11.1 -> 9.6 (10.3).
  // - H200: 4 x 17 x 128 9.8 -> 7.3 (7.6), 4 x 17 x 512 14.3 -> 12.0 (12.0), 4 x 17 x 1k 18.2 ->
  //   17.1 (17.2), 4 x 24 x 1k 21.8 -> 19.2 (19.3), 8 x 12 x 1k 20.4 -> 18.9 (19.1); below half a
  //   wave 4 x 12 x 512 12.6 -> 11.1 (12.0), 8 x 8 x 512 12.8 -> 11.4 (11.5).
  // Not at 2048 keys (H200 4 x 17 x 2k 26.6 -> 26.9), nor at 1024 below half a wave (H200 8 x 8 x
  // 1k 16.1 -> 16.7, 4 x 12 x 1k 15.3 -> 16.1), nor at 32 pairs (H100 4 x 8 x 512 10.5 -> 11.1).
  const int whole_len = 2 * pairs > sms ? 1024 : 4 * pairs > sms ? 512 : 0;
  if (pairs <= slots8 && a.max_len <= whole_len) {
    DecodeAttentionArgs unsplit = a;  // the 8-warp plan with one split per pair
    unsplit.max_splits = 1;
    return launch_decode_mma_tma<HD, 8>(decode_attention_plan(unsplit, per_sm8, 8 * kDecodeMmaKeys),
                                        a, stream);
  }
  // More pairs than SMs but one wave of 4-warp CTAs (e.g. 136-264 pairs on 132 SMs): a CTA per
  // pair, unsplit, beats stream-K for short sequences although half its slots idle. Every warp
  // then has the same keys and the GPU's bandwidth is shared by warps, not SMs, so the SMs with
  // two CTAs finish with the rest, with no merges. Stream-K keeps 8 warps per SM but adds a merge
  // per cut pair. Measured on an H100 (queued µs, stream-K -> 4-warp grid; cuDNN): 8 x 17 x 256
  // 21.2 -> 15.1 (13.0), 8 x 17 x 512 24.4 -> 21.7 (18.6), 8 x 20 x 1k 41.3 -> 37.3 (36.8),
  // 8 x 24 x 2k 76.7 -> 74.1 (75.1), 8 x 28 x 1k 50.0 -> 46.3 (46.6). Not at 136 pairs with
  // 1024 keys or more (8 x 17 x 1k 33.6 -> 34.5), nor at 4096 (8 x 20 x 4k 118.8 -> 122.2).
  // Up to 1024 keys where the TMA ring (below) takes the grid: 8 x 17 x 1k 29.9 -> 27.2,
  // 8 x 18 x 1k 31.1 -> 28.1 on an H200 (three stages then); on an H100, with two stages,
  // 8 x 17 x 1k 33.8 -> 32.2. With the ring, up to 2048 keys from 1.05 pairs per SM (on 132 SMs:
  // 139): 8 x 18 x 1536 50.5 -> 46.5 / 42.7 -> 37.7 (H100 / H200), 8 x 18 x 2k 62.7 -> 58.9 /
  // 51.0 -> 47.3; but not at 136 pairs: 8 x 17 x 2k 55.5 -> 56.2 / 44.5 -> 46.8.
  // Up to 1.5 pairs per SM (133-198 on 132 SMs), a tail grid where the TMA ring runs, so that
  // SMs holding two pairs do not finish last (measured: decode_tail_grid).
  if (!eight && pairs > sms && a.max_len >= kDecodeTailMinLen && a.max_len <= kDecodeTailMaxLen &&
      decode_tma_tail_ready<HD, kDecodeTmaStages>()) {
    const DecodeTailPlan t = decode_tail_grid(a, pairs, sms);
    if (t.ctas > 0) return launch_decode_mma_tma_tail<HD>(t, a, stream);
  }
  const bool tma4 = decode_tma_pays(ctas4, p4.chunk, 4);
  const int short_len = tma4 ? 1024 : 512;
  const bool many_pairs = tma4 ? 20 * ctas4 >= 21 * sms : 20 * ctas4 >= 23 * sms;
  const bool unsplit4 = !eight && ctas4 <= slots4 && ctas4 > sms &&
                        (a.max_len <= short_len || (many_pairs && a.max_len <= 2048));
  // (Fewer keys than one step of every slot: no plan fills the GPU, the split grid is as good.)
  if (!unsplit4 && decode_stream_is_better<HD>(a, eight ? ctas8 : ctas4, eight ? slots8 : slots4,
                                               8 * kDecodeMmaKeys))
    return launch_decode_mma_stream<HD>(a, stream);
  if (eight) {
    if (decode_tma_pays(ctas8, p8.chunk, 8)) return launch_decode_mma_tma<HD, 8>(p8, a, stream);
    return launch_decode_split(decode_attention_mma_kernel<HD, 8>, 8 * 32, p8, a, stream);
  }
  if (tma4) return launch_decode_mma_tma<HD, 4>(p4, a, stream);
  return launch_decode_split(decode_attention_mma_kernel<HD, 4>, 4 * 32, p4, a, stream);
}

template <int HD>
cudaError_t launch_decode_attention_hd(const DecodeAttentionArgs& a, cudaStream_t stream) {
  const int group = a.n_heads / a.kv_heads;
  if (group > 8) return cudaErrorInvalidValue;  // groups over 8 query heads per KV head: not built
  constexpr bool kHasMma = HD == 64 || HD == 128;
  // Tensor cores for a head group (measured: bench/results/decode_attention.md). MHA too where
  // every SM gets at least one whole (sequence, head) pair of 4096 keys or more: there the
  // tensor-core kernels stream 5-7% faster than the scalar one on an H200 (32 x 4 x 32k 479 vs
  // 512 µs, 32 x 16 x 32k 1880 vs 2011) and the same on an H100 (+-2%). Shorter or fewer pairs
  // stay scalar (32 x 16 x 1k: 69.5 vs 77.8 µs on the H200; 32 x 1 x 4k 29.4 vs 31.5 on the
  // H100), but see launch_decode_attention_t. On a GPU of high bandwidth per SM the TMA-ring
  // kernel takes more MHA: one wave of 8-warp CTAs of >= 1024 keys, or sequences of >= 16384 keys
  // (queued µs on an H200, scalar -> TMA ring: 32 x 4 x 1k 23.8 -> 21.8, 32 x 1 x 16k 70.1 ->
  // 68.9, 32 x 1 x 32k 132.2 -> 127.8; not at 8192 keys, 32 x 2 x 8k 68.3 -> 69.1 and 32 x 3 x 8k
  // 100.1 -> 102.1, nor 32 x 1 x 4k 23.4 -> 24.0).
  // There too for 512-2048 keys where the launcher runs a tail grid (S < pairs <= 1.5 S for S
  // SMs) or, on a GPU of high bandwidth per SM, one wave of unsplit 4-warp CTAs (pairs <= 2 S).
  // Queued µs, scalar (or stream-K over warps, which the scalar launcher picks at 32 x 6 x 1k)
  // -> tensor cores; cuDNN. H100: 32 x 5 x 1k 35.1 -> 33.9 (37.2), 32 x 6 x 1k 43.0 -> 39.5
  // (41.1), 32 x 5 x 2k 62.3 -> 60.9 (66.7); not 32 x 8 x 1k (256 pairs) 49.7 -> 50.0 (50.6),
  // 32 x 8 x 2k 89.8 -> 93.0 (94.0). H200: 32 x 5 x 1k 27.4 -> 25.8 (26.4), 32 x 8 x 1k 38.9 ->
  // 36.4 (36.6), 32 x 8 x 2k 71.3 -> 66.8 (66.9), 32 x 8 x 512 23.2 -> 21.5 (21.9).
  const int64_t pairs = static_cast<int64_t>(a.batch) * a.kv_heads;
  const int64_t sms = cached_sm_count();
  const bool fills = 10 * pairs >= 9 * sms;
  const bool high_bw = decode_high_bandwidth_per_sm();
  const bool one_wave4 =
      a.max_len >= 512 && a.max_len <= 2048 &&
      (decode_tail_fits(pairs, sms) || (high_bw && pairs > sms && pairs <= 2 * sms));
  // And one wave of 8-warp CTAs (0.9 S <= pairs <= S) from 256 keys, on both GPUs since the
  // vector epilogue (ninth session, queued µs, scalar -> tensor cores; cuDNN): H100 32 x 4 x 256
  // 12.5 -> 11.9 (12.0), 32 x 4 x 512 18.8 -> 17.0 (17.7), 32 x 4 x 1k 29.3 -> 28.5 (28.7),
  // 32 x 4 x 2k 50.5 -> 49.6 (50.0); H200 32 x 4 x 256 11.5 -> 10.8 (11.1), 32 x 4 x 512 15.8 ->
  // 14.0 (14.5).
  const bool one_wave8 = fills && pairs <= sms && a.max_len >= 256;
  // On a GPU of high bandwidth per SM, also more pairs than three waves of 8-warp CTAs from
  // 2048 keys (ninth session, H200, queued µs, the scalar launcher's choice -> tensor cores;
  // cuDNN): 32 x 16 x 2k 129.6 -> 127.6 (126.7), 32 x 24 x 2k 194.3 -> 187.8 (185.6), 32 x 32 x
  // 2k 254.4 -> 247.2 (244.2), 32 x 16 x 3k 191.7 -> 185.9 (188.7), 32 x 32 x 3k 378.8 -> 365.6
  // (364.5); 32 x 17 x 2k 134.3 -> 135.8 (143.5). Not at three waves or fewer: 32 x 12 x 2k
  // 98.7 -> 101.0 (101.2).
  const bool many_mha = high_bw && pairs > 3 * sms && a.max_len >= 2048;
  const bool long_mha = (a.max_len >= 4096 && fills) || one_wave4 || one_wave8 || many_mha ||
                        (high_bw && a.max_len >= 16384);
  const bool mma = a.kernel == DecodeKernel::kAuto ? kHasMma && (group >= 2 || long_mha)
                                                   : a.kernel != DecodeKernel::kScalar;
  if (mma) {
    if constexpr (kHasMma) return launch_decode_attention_mma<HD>(a, stream);
    return cudaErrorInvalidValue;
  }
  if (group <= 1) return launch_decode_attention_t<HD, 1>(a, stream);
  if (group <= 2) return launch_decode_attention_t<HD, 2>(a, stream);
  if (group <= 4) return launch_decode_attention_t<HD, 4>(a, stream);
  return launch_decode_attention_t<HD, 8>(a, stream);
}

// head_dim must be a power of two in 8..256; n_heads a multiple of kv_heads with group <= 8.
inline cudaError_t launch_decode_attention(const DecodeAttentionArgs& a, cudaStream_t stream) {
  if (a.batch <= 0) return cudaSuccess;
  if (a.kv_heads <= 0 || a.n_heads % a.kv_heads != 0 || a.max_len > a.capacity)
    return cudaErrorInvalidValue;
  switch (a.head_dim) {
    case 8:
      return launch_decode_attention_hd<8>(a, stream);
    case 16:
      return launch_decode_attention_hd<16>(a, stream);
    case 32:
      return launch_decode_attention_hd<32>(a, stream);
    case 64:
      return launch_decode_attention_hd<64>(a, stream);
    case 128:
      return launch_decode_attention_hd<128>(a, stream);
    case 256:
      return launch_decode_attention_hd<256>(a, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace squeeze::cuda
