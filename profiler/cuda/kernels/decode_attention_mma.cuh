#pragma once
// Decode attention on tensor cores, for GQA (query heads per KV head >= 2) at head_dim 64 or 128,
// and for MHA too in the stream-K kernel at the end of this file.
//
// The scalar kernel (decode_attention.cuh) spends ~60 warp instructions per key on a head group
// of 4 (dot products split over 16 lanes and reduced by shuffles) and is issue-bound at the 2
// CTAs per SM its registers allow (ncu, bench/results/decode_attention.md). Here each warp takes
// 16 keys at a time and does the group's work with mma.sync.m16n8k16 (bf16 in, fp32 accumulate),
// the query heads of the group as the M rows (padded to 16 with zeros):
//   S (heads x 16 keys) = Q (heads x HD) . K^T        2 n-tiles x HD/16 k-steps
//   O (heads x HD)     += P (heads x 16 keys) . V      HD/8 n-tiles, one k-step
// about 10 instructions per key instead of 60. Layout tricks that let every thread load whole
// 16-byte vectors straight from the cache (no shared memory staging):
// - q.k sums over head dims, so the dims may be permuted as long as Q and K agree: in the k-step
//   pair j, the thread with tig = lane % 4 holds dims j*32 + tig*8 .. +7 of its key (one uint4),
//   as k slots {2tig, 2tig+1, 2tig+8, 2tig+9} of k-step 2j then of 2j+1.
// - P V's output columns may be permuted too: n-tile t, column n is dim (t/8)*64 + n*8 + t%8, so
//   a thread needs dims (h*64 + gid*8 .. +7) of its four keys: one uint4 per key per 64 dims;
//   pairs of keys are interleaved into bf16x2 with byte_perm.
// - S's accumulator fragment is P's A fragment (FlashAttention-2's register reuse).
// Softmax is online per warp (scores in log2 units), P rounded to bf16 for the second product
// and summed in fp32 for the denominator, warps merged by the shared epilogue.

#include <cfloat>

#include "common.cuh"
#include "decode_attention_merge.cuh"
#include "decode_stream_plan.cuh"
#include "kernel_args.hpp"

namespace squeeze::cuda {

// 8 warps per SM, as 2 CTAs of 4 warps or 1 of 8 (the launcher picks, decode_attention.cuh):
// 208 registers, no spills. Asking for 12 warps caps registers at 168, spills the pipelined K/V
// registers and was much slower on an H100 (bench/results/decode_attention.md).
constexpr int kDecodeMmaWarpsPerSm = 8;
constexpr int kDecodeMmaKeys = 16;  // keys per warp per iteration
static_assert(kDecodeStreamBlock % kDecodeMmaKeys == 0, "stream-K shares: whole key blocks");

// d = a . b + c for one m16n8k16 tile; rows 8..15 of A are zero here (at most 8 heads), so
// their accumulators are passed as zero and dropped.
__device__ __forceinline__ void mma_bf16_16816(float& d0, float& d1, uint32_t a0, uint32_t a2,
                                               uint32_t b0, uint32_t b1) {
  [[maybe_unused]] float d2, d3;  // rows 8..15: zero
  asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%10,%11,%12,%13};\n"
      : "=f"(d0), "=f"(d1), "=f"(d2), "=f"(d3)
      : "r"(a0), "r"(0u), "r"(a2), "r"(0u), "r"(b0), "r"(b1), "f"(d0), "f"(d1), "f"(0.f), "f"(0.f));
}

__device__ __forceinline__ uint32_t uint4_word(const uint4& v, int i) {
  return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
  const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&h);
}

// S = Q K^T for 16 keys from kb: s[nt][e] is head gid, key kb + nt*8 + 2*tig + e, in log2
// units; keys at or past end are -inf.
template <int HD>
__device__ __forceinline__ void decode_mma_scores(const uint4 (&qa)[HD / 32],
                                                  const uint4 (&kr)[2][HD / 32], int kb, int end,
                                                  float qk_scale, float (&s)[2][2]) {
  const int tig = threadIdx.x % 4;
#pragma unroll
  for (int nt = 0; nt < 2; ++nt) {
    float d0 = 0.f, d1 = 0.f;
#pragma unroll
    for (int j = 0; j < HD / 32; ++j) {
      mma_bf16_16816(d0, d1, qa[j].x, qa[j].y, kr[nt][j].x, kr[nt][j].y);
      mma_bf16_16816(d0, d1, qa[j].z, qa[j].w, kr[nt][j].z, kr[nt][j].w);
    }
    s[nt][0] = kb + nt * 8 + 2 * tig < end ? d0 * qk_scale : -INFINITY;
    s[nt][1] = kb + nt * 8 + 2 * tig + 1 < end ? d1 * qk_scale : -INFINITY;
  }
}

// Records the scores when asked (H2O), updates head gid's online softmax (m, l) and does
// O += P V for the 16 keys from kb.
template <int HD>
__device__ __forceinline__ void decode_mma_softmax_pv(const DecodeAttentionArgs& a,
                                                      const float (&s)[2][2],
                                                      const uint4 (&vr)[4][HD / 64], int kb,
                                                      int end, int b, int head0, int gid, int tig,
                                                      bool head_ok, float& m, float& l,
                                                      float (&o)[HD / 8][2]) {
  if (a.logits != nullptr && head_ok) {
    float* lg = a.logits + (static_cast<int64_t>(b) * a.n_heads + head0 + gid) * a.capacity;
#pragma unroll
    for (int nt = 0; nt < 2; ++nt)
#pragma unroll
      for (int e = 0; e < 2; ++e)
        if (kb + nt * 8 + 2 * tig + e < end) lg[kb + nt * 8 + 2 * tig + e] = s[nt][e];
  }

  // Online softmax for head gid; the four lanes of a row (same gid) share m.
  float mx = fmaxf(fmaxf(s[0][0], s[0][1]), fmaxf(s[1][0], s[1][1]));
  mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
  mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
  const float m_new = fmaxf(m, mx);
  // Nothing seen yet (every key so far masked): keep zeros; exp2(-inf - -inf) would be NaN.
  const bool none = m_new == -INFINITY;
  const float alpha = none ? 1.f : exp2f(m - m_new);
  float p[2][2];
#pragma unroll
  for (int nt = 0; nt < 2; ++nt)
#pragma unroll
    for (int e = 0; e < 2; ++e) p[nt][e] = none ? 0.f : exp2f(s[nt][e] - m_new);
  l = l * alpha + (p[0][0] + p[0][1]) + (p[1][0] + p[1][1]);
  m = m_new;
  const uint32_t pa0 = pack_bf16x2(p[0][0], p[0][1]);  // keys 2tig, 2tig+1
  const uint32_t pa2 = pack_bf16x2(p[1][0], p[1][1]);  // keys 2tig+8, 2tig+9

  // O += P V. B fragment of n-tile t: (keys 2tig, 2tig+1 | 2tig+8, 2tig+9) x dim
  // (t/8)*64 + gid*8 + t%8, i.e. half t%2 of word (t%8)/2 of the uint4s loaded above.
#pragma unroll
  for (int t = 0; t < HD / 8; ++t) {
    const int h = t / 8, w = (t % 8) / 2;
    const uint32_t sel = (t % 2) ? 0x7632u : 0x5410u;
    const uint32_t b0 = __byte_perm(uint4_word(vr[0][h], w), uint4_word(vr[1][h], w), sel);
    const uint32_t b1 = __byte_perm(uint4_word(vr[2][h], w), uint4_word(vr[3][h], w), sel);
    o[t][0] *= alpha;
    o[t][1] *= alpha;
    mma_bf16_16816(o[t][0], o[t][1], pa0, pa2, b0, b1);
  }
}

constexpr int kDecodeMmaRows = 8;  // M rows the heads may use (group <= 8)

// A warp's registers for one block of 16 keys (K as score B fragments, V as P V B fragments)
// and the group's Q as A fragments.
template <int HD>
struct DecodeMmaRegs {
  uint4 qa[HD / 32];     // per k-step pair j: dims j*32 + tig*8 .. +7 of head gid
  uint4 kr[2][HD / 32];  // key kb + nt*8 + gid, the same dims
  uint4 vr[4][HD / 64];  // keys kb + {2tig, 2tig+1, 2tig+8, 2tig+9}, dims h*64 + gid*8 .. +7
};

// One piece of work: keys [start, stop) of sequence b's KV head kvh.
struct DecodeMmaPiece {
  int b, kvh, start, stop;
};

__device__ __forceinline__ DecodeMmaPiece decode_mma_piece(const DecodeStreamPiece& p) {
  return {p.b, p.kvh, p.start, p.stop};
}

template <int HD>
__device__ __forceinline__ const bf16* decode_kv_head(const DecodeAttentionArgs& a,
                                                      const bf16* cache, int b, int kvh) {
  return cache + (static_cast<int64_t>(b) * a.kv_heads + kvh) * a.capacity * HD;
}

// Where a warp's K/V fragments come from: the cache in global memory (read once, load_kv_u4),
// or a block staged in shared memory (decode_attention_mma_tma.cuh).
struct DecodeKvFromGlobal {
  __device__ __forceinline__ uint4 operator()(const bf16* p) const { return load_kv_u4(p); }
};
struct DecodeKvFromShared {
  __device__ __forceinline__ uint4 operator()(const bf16* p) const {
    return *reinterpret_cast<const uint4*>(p);
  }
};

// K of the 16 keys from kb (rows kb.. of kp) as score B fragments; keys at or past lim are zero.
template <int HD, class Load = DecodeKvFromGlobal>
__device__ __forceinline__ void decode_mma_load_k(const bf16* kp, int kb, int lim,
                                                  uint4 (&kr)[2][HD / 32], Load load = {}) {
  const int gid = threadIdx.x % 32 / 4, tig = threadIdx.x % 4;
#pragma unroll
  for (int nt = 0; nt < 2; ++nt) {
    const int key = kb + nt * 8 + gid;
#pragma unroll
    for (int j = 0; j < HD / 32; ++j)
      kr[nt][j] = key < lim ? load(kp + static_cast<int64_t>(key) * HD + j * 32 + tig * 8)
                            : make_uint4(0, 0, 0, 0);
  }
}

// V of the 16 keys from kb as P V B fragments; keys at or past lim are zero, not garbage
// (0 * NaN = NaN).
template <int HD, class Load = DecodeKvFromGlobal>
__device__ __forceinline__ void decode_mma_load_v(const bf16* vp, int kb, int lim,
                                                  uint4 (&vr)[4][HD / 64], Load load = {}) {
  const int gid = threadIdx.x % 32 / 4, tig = threadIdx.x % 4;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int key = kb + 2 * tig + (i & 1) + (i >> 1) * 8;
#pragma unroll
    for (int h = 0; h < HD / 64; ++h)
      vr[i][h] = key < lim ? load(vp + static_cast<int64_t>(key) * HD + h * 64 + gid * 8)
                           : make_uint4(0, 0, 0, 0);
  }
}

// The group's Q as A fragments: dims j*32 + tig*8 .. +7 of head gid (zero rows past the group).
template <int HD>
__device__ __forceinline__ void decode_mma_load_q(const DecodeAttentionArgs& a,
                                                  const DecodeMmaPiece& pc, uint4 (&qa)[HD / 32]) {
  const int group = a.n_heads / a.kv_heads;
  const int lane = threadIdx.x % 32, gid = lane / 4, tig = lane % 4;
#pragma unroll
  for (int j = 0; j < HD / 32; ++j)
    qa[j] = gid < group ? *reinterpret_cast<const uint4*>(
                              a.q + (static_cast<int64_t>(pc.b) * a.n_heads + pc.kvh * group +
                                     gid) * HD + j * 32 + tig * 8)
                        : make_uint4(0, 0, 0, 0);
}

// Issues the loads of a piece's Q and of the key block from kb0. They are bounded by the cache's
// capacity, not by the sequence length, so they need not wait for lens[b] to arrive (one memory
// latency less at the start of every piece); rows past the length are masked in
// decode_mma_warp_keys once it has.
template <int HD>
__device__ __forceinline__ void decode_mma_load_first(const DecodeAttentionArgs& a,
                                                      const DecodeMmaPiece& pc, int kb0,
                                                      DecodeMmaRegs<HD>& r) {
  decode_mma_load_q<HD>(a, pc, r.qa);
  const int bound = min(pc.stop, a.capacity);
  if (kb0 < bound) {
    decode_mma_load_k<HD>(decode_kv_head<HD>(a, a.k_cache, pc.b, pc.kvh), kb0, bound, r.kr);
    decode_mma_load_v<HD>(decode_kv_head<HD>(a, a.v_cache, pc.b, pc.kvh), kb0, bound, r.vr);
  }
}

// One warp's online softmax state for query head gid: (m, l) and the P V numerators o, where
// o[t][e] is column 2tig + e of n-tile t: dim decode_mma_dim(t, tig) + 8e.
__device__ __forceinline__ int decode_mma_dim(int t, int tig) {
  return (t / 8) * 64 + 2 * tig * 8 + t % 8;  // (t/8)*64 + (2tig+e)*8 + t%8 at e = 0
}

template <int HD>
struct DecodeMmaState {
  float m = -INFINITY, l = 0.f;  // l summed over the row's four lanes once the keys are done
  float o[HD / 8][2] = {};
};

// One warp's keys of piece pc: the blocks kb0, kb0 + step, ... below the piece's end, with r
// holding what decode_mma_load_first loaded for kb0.
template <int HD>
__device__ __forceinline__ void decode_mma_warp_keys(const DecodeAttentionArgs& a,
                                                     const DecodeMmaPiece& pc, int kb0, int step,
                                                     DecodeMmaRegs<HD>& r,
                                                     DecodeMmaState<HD>& st) {
  constexpr int VH = HD / 64;
  const int group = a.n_heads / a.kv_heads;  // <= 8
  const int head0 = pc.kvh * group;
  const int end = min(min(pc.stop, a.capacity), a.lens[pc.b]);
  const int lane = threadIdx.x % 32, gid = lane / 4, tig = lane % 4;  // fragment row / column pair
  const bool head_ok = gid < group;
  const float qk_scale = a.scale * kLog2e;
  const bf16* kp = decode_kv_head<HD>(a, a.k_cache, pc.b, pc.kvh);
  const bf16* vp = decode_kv_head<HD>(a, a.v_cache, pc.b, pc.kvh);
  if (kb0 < end && kb0 + kDecodeMmaKeys > end) {  // the first block passes the length: zero V
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int h = 0; h < VH; ++h)
        if (kb0 + 2 * tig + (i & 1) + (i >> 1) * 8 >= end) r.vr[i][h] = make_uint4(0, 0, 0, 0);
  }
  // Software pipeline without extra registers: K of the next block is loaded as soon as this
  // block's scores are done with K, V of the next block once P V is done with V; so each load
  // is in flight during the other half of the arithmetic.
  for (int kb = kb0; kb < end; kb += step) {
    float s[2][2];
    decode_mma_scores<HD>(r.qa, r.kr, kb, end, qk_scale, s);  // masks keys past end
    if (kb + step < end) decode_mma_load_k<HD>(kp, kb + step, end, r.kr);
    decode_mma_softmax_pv<HD>(a, s, r.vr, kb, end, pc.b, head0, gid, tig, head_ok, st.m, st.l,
                              st.o);
    if (kb + step < end) decode_mma_load_v<HD>(vp, kb + step, end, r.vr);
  }
  // The row's denominator is spread over its four lanes.
  st.l += __shfl_xor_sync(0xffffffffu, st.l, 1);
  st.l += __shfl_xor_sync(0xffffffffu, st.l, 2);
}

// The end of a piece the CTA's W warps took together: their states are merged through the CTA's
// shared arrays (free on entry and again on return) and written as split `split` of `splits`.
template <int HD, int W>
__device__ __forceinline__ void decode_mma_cta_epilogue(const DecodeAttentionArgs& a,
                                                        const DecodeMmaPiece& pc, int split,
                                                        int splits, const DecodeMmaState<HD>& st,
                                                        float (&sm_m)[W][kDecodeMmaRows],
                                                        float (&sm_l)[W][kDecodeMmaRows],
                                                        float (&sm_acc)[W][kDecodeMmaRows * HD]) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int gid = lane / 4, tig = lane % 4;
  const int group = a.n_heads / a.kv_heads;
  if (tig == 0) {
    sm_m[warp][gid] = st.m;
    sm_l[warp][gid] = st.l;
  }
#pragma unroll
  for (int t = 0; t < HD / 8; ++t) {
    const int d = decode_mma_dim(t, tig);
    sm_acc[warp][gid * HD + d] = st.o[t][0];
    sm_acc[warp][gid * HD + d + 8] = st.o[t][1];
  }
  __syncthreads();
  decode_attention_epilogue<HD, kDecodeMmaRows, W, W * 32>(a, sm_m, sm_l, sm_acc, pc.b, pc.kvh,
                                                           pc.kvh * group, group, split, splits);
}

// Piece `split` of the `splits` that cover its pair, taken by the CTA's W warps together (warp w
// from block w on).
template <int HD, int W>
__device__ __forceinline__ void decode_mma_segment(const DecodeAttentionArgs& a,
                                                   const DecodeMmaPiece& pc, int split,
                                                   int splits, float (&sm_m)[W][kDecodeMmaRows],
                                                   float (&sm_l)[W][kDecodeMmaRows],
                                                   float (&sm_acc)[W][kDecodeMmaRows * HD]) {
  const int kb0 = pc.start + threadIdx.x / 32 * kDecodeMmaKeys;
  DecodeMmaRegs<HD> r;
  decode_mma_load_first<HD>(a, pc, kb0, r);
  DecodeMmaState<HD> st;
  decode_mma_warp_keys<HD>(a, pc, kb0, W * kDecodeMmaKeys, r, st);
  decode_mma_cta_epilogue<HD, W>(a, pc, split, splits, st, sm_m, sm_l, sm_acc);
}

// Grid (splits, kv_heads, batch): CTA (split, kvh, b) takes keys [split * chunk, + chunk) of
// sequence b's KV head kvh.
template <int HD, int W>
static __global__ void __launch_bounds__(W * 32, kDecodeMmaWarpsPerSm / W)
    decode_attention_mma_kernel(DecodeAttentionArgs a, int chunk, int splits) {
  static_assert(HD == 64 || HD == 128, "tensor-core decode: head_dim 64 or 128");
  __shared__ float sm_m[W][kDecodeMmaRows];
  __shared__ float sm_l[W][kDecodeMmaRows];
  __shared__ __align__(16) float sm_acc[W][kDecodeMmaRows * HD];
  const int split = blockIdx.x;
  const DecodeMmaPiece pc{static_cast<int>(blockIdx.z), static_cast<int>(blockIdx.y),
                          split * chunk, split * chunk + chunk};
  decode_mma_segment<HD, W>(a, pc, split, splits, sm_m, sm_l, sm_acc);
}

// Stream-K over CTAs of 8 warps (decode_stream_plan.cuh), for pair counts that fit the SM count
// badly. A separate kernel: the loop over pieces costs the split grid's kernel 24 registers and
// was 2-7% slower there (H100).
template <int HD>
static __global__ void __launch_bounds__(8 * 32, 1)
    decode_attention_mma_stream_kernel(DecodeAttentionArgs a, DecodeStreamPlan plan) {
  static_assert(HD == 64 || HD == 128, "tensor-core decode: head_dim 64 or 128");
  constexpr int W = 8;
  __shared__ float sm_m[W][kDecodeMmaRows];
  __shared__ float sm_l[W][kDecodeMmaRows];
  __shared__ __align__(16) float sm_acc[W][kDecodeMmaRows * HD];
  const int64_t pairs = int64_t{a.batch} * a.kv_heads;
  const int warp = threadIdx.x / 32;
  DecodeStreamPiece pc;
  if (!decode_stream_piece(plan, pairs, a.kv_heads, blockIdx.x, 0, pc)) return;  // whole CTA
  DecodeMmaRegs<HD> r;
  decode_mma_load_first<HD>(a, decode_mma_piece(pc), pc.start + warp * kDecodeMmaKeys, r);
  for (int i = 1;; ++i) {
    DecodeMmaState<HD> st;
    decode_mma_warp_keys<HD>(a, decode_mma_piece(pc), pc.start + warp * kDecodeMmaKeys,
                             W * kDecodeMmaKeys, r, st);
    // The next piece's first block is loaded before this one's merge, so that it is in flight
    // while the warps meet at the barrier and count the split.
    DecodeStreamPiece next;
    const bool more = decode_stream_piece(plan, pairs, a.kv_heads, blockIdx.x, i, next);
    if (more)
      decode_mma_load_first<HD>(a, decode_mma_piece(next), next.start + warp * kDecodeMmaKeys, r);
    decode_mma_cta_epilogue<HD, W>(a, decode_mma_piece(pc), pc.split, pc.splits, st, sm_m, sm_l,
                                   sm_acc);
    if (!more) break;
    __syncthreads();  // the epilogue's last reads of the shared arrays, before the next piece
    pc = next;
  }
}

// The end of a piece a warp took alone: its state is the piece's (no merge across warps); one
// split written as the CTA epilogue writes it, and the warp whose count finishes the pair merges
// the splits. Needs no barrier, so the other warps of the CTA stream on meanwhile.
template <int HD>
__device__ __forceinline__ void decode_mma_warp_epilogue(const DecodeAttentionArgs& a,
                                                         const DecodeMmaPiece& pc, int split,
                                                         int splits,
                                                         const DecodeMmaState<HD>& st) {
  const int lane = threadIdx.x % 32, gid = lane / 4, tig = lane % 4;
  const int group = a.n_heads / a.kv_heads;
  const int head0 = pc.kvh * group;
  const int64_t row = static_cast<int64_t>(pc.b) * a.n_heads + head0 + gid;
  if (gid < group) {
    if (splits == 1) {
      const float inv = st.l > 0.f ? 1.f / st.l : 0.f;
#pragma unroll
      for (int t = 0; t < HD / 8; ++t) {
        const int d = decode_mma_dim(t, tig);
        a.out[row * HD + d] = __float2bfloat16(st.o[t][0] * inv);
        a.out[row * HD + d + 8] = __float2bfloat16(st.o[t][1] * inv);
      }
      if (tig == 0 && a.row_max != nullptr) {
        a.row_max[row] = st.m;
        a.row_sum[row] = st.l;
      }
    } else {
      float* po = a.partial_o + (row * a.max_splits + split) * HD;
#pragma unroll
      for (int t = 0; t < HD / 8; ++t) {
        const int d = decode_mma_dim(t, tig);
        po[d] = st.o[t][0];
        po[d + 8] = st.o[t][1];
      }
      if (tig == 0) {
        a.partial_ml[(row * a.max_splits + split) * 2] = st.m;
        a.partial_ml[(row * a.max_splits + split) * 2 + 1] = st.l;
      }
    }
  }
  if (splits == 1) return;
  // As in decode_attention_epilogue, with the warp's barrier for the CTA's.
  __syncwarp();
  const unsigned last = lane == 0 && decode_count_split(a, pc.b, pc.kvh, splits);
  if (__shfl_sync(0xffffffffu, last, 0) == 0) return;
  __syncwarp();
  decode_attention_merge_splits<HD, 32>(a, pc.b, head0, group, splits);
}

// Stream-K over single warps, for MHA with short sequences: every warp takes its own share and
// waits for no other. In the CTA kernel the 8 warps meet at a barrier at the end of every piece,
// where the early ones idle until the slowest has drawn its 8 blocks' memory latencies: 2.3 µs
// of 22 per 1024-key piece at 32 x 16 x 1k on an H100 (per-CTA %globaltimer probe). With one
// query head per KV head a piece's merge is one row, cheap for one warp; a GQA group's 8 rows
// are not (the CTA kernel merges them with 256 threads).
template <int HD>
static __global__ void __launch_bounds__(8 * 32, 1)
    decode_attention_mma_warp_stream_kernel(DecodeAttentionArgs a, DecodeStreamPlan plan) {
  static_assert(HD == 64 || HD == 128, "tensor-core decode: head_dim 64 or 128");
  const int64_t w = int64_t{blockIdx.x} * 8 + threadIdx.x / 32;  // this warp's share
  if (w >= plan.workers) return;  // no barrier below: a spare warp may leave
  const int64_t pairs = int64_t{a.batch} * a.kv_heads;
  DecodeStreamPiece pc;
  if (!decode_stream_piece(plan, pairs, a.kv_heads, w, 0, pc)) return;
  DecodeMmaRegs<HD> r;
  decode_mma_load_first<HD>(a, decode_mma_piece(pc), pc.start, r);
  for (int i = 1;; ++i) {
    DecodeMmaState<HD> st;
    decode_mma_warp_keys<HD>(a, decode_mma_piece(pc), pc.start, kDecodeMmaKeys, r, st);
    DecodeStreamPiece next;  // its first block in flight during this piece's epilogue
    const bool more = decode_stream_piece(plan, pairs, a.kv_heads, w, i, next);
    if (more) decode_mma_load_first<HD>(a, decode_mma_piece(next), next.start, r);
    decode_mma_warp_epilogue<HD>(a, decode_mma_piece(pc), pc.split, pc.splits, st);
    if (!more) break;
    pc = next;
  }
}

}  // namespace squeeze::cuda
