#pragma once
// The tensor-core decode kernel of decode_attention_mma.cuh with K and V streamed through shared
// memory by TMA bulk copies instead of loaded into registers: each warp keeps up to
// kDecodeTmaStages blocks of 16 keys in flight (8 KB each at head_dim 128) where the register
// pipeline keeps one. cuDNN's decode kernel (one 4-warp CTA per sequence and KV head, cp.async
// stages in 86 KB of shared memory) streams a pair 20-25% faster than the register kernel on the
// same grid when the GPU holds few CTAs (8 x 20 x 2k on an H200: 42.7 against 53.1 µs, CUPTI).
//
// Per warp: a ring of NS stages (16 K rows, then 16 V rows, each contiguous in the cache: two
// bulk copies by lane 0) and an mbarrier per stage. The copies are bounded by the cache's
// capacity, not by lens[b], so the first ones need not wait for the length; rows past the length
// are masked as in the register kernel, and copies issued past it are waited for before the ring
// is reused for the CTA's epilogue. A stage is refilled once the warp is done with its block.

#include "decode_attention_mma.cuh"
#include "decode_tail_plan.cuh"

namespace squeeze::cuda {

// Stages per warp. Two beat three on every shape measured (forced 4-warp grid, queued µs, two
// / three stages): 8 x 17 x 1k 32.2 / 34.6 on an H100, 27.5 / 29.0 on an H200; 8 x 20 x 2k
// 66.3 / 73.1 and 48.9 / 53.8; 8 x 17 x 256 13.2 / 14.7 and 12.4 / 13.4. One stage was slower
// (35.8 and 32.9 at 8 x 17 x 1k), and so were four (45.9 on the H100) and the refill issued
// before the block's arithmetic instead of after it (three stages: 34.4 -> 35.0). So bytes in
// flight past two blocks per warp do not pay; why is not known: without its arithmetic the ring
// ran 29.1 µs at three stages and 28.9 at two (H100, 8 x 17 x 1k).
constexpr int kDecodeTmaStages = 2;

__device__ __forceinline__ unsigned smem_address(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void mbarrier_init(uint64_t* bar, unsigned count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(smem_address(bar)), "r"(count));
}

// Arrives on the barrier (its count is 1) and arms the phase for `bytes` of async copies.
__device__ __forceinline__ void mbarrier_expect_bytes(uint64_t* bar, unsigned bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(
                   smem_address(bar)),
               "r"(bytes)
               : "memory");
}

__device__ __forceinline__ void mbarrier_wait(uint64_t* bar, unsigned parity) {
  asm volatile(
      "{\n"
      ".reg .pred done;\n"
      "WAIT_%=:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra WAIT_%=;\n"
      "}\n" ::"r"(smem_address(bar)),
      "r"(parity)
      : "memory");
}

// One TMA bulk copy global -> shared, its completion counted on `bar`.
__device__ __forceinline__ void bulk_copy_to_shared(void* dst, const void* src, unsigned bytes,
                                                    uint64_t* bar) {
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n" ::
          "r"(smem_address(dst)),
      "l"(src), "r"(bytes), "r"(smem_address(bar))
      : "memory");
}

// Dynamic shared memory of the ring: W warps x NS stages x (16 K rows + 16 V rows).
template <int HD, int W, int NS>
constexpr size_t decode_mma_tma_ring_bytes() {
  return size_t{W} * NS * 2 * kDecodeMmaKeys * HD * sizeof(bf16);
}

// One CTA's piece pc: keys [pc.start, pc.stop) of its pair, split `split` of `splits` (merged
// by the last to finish when splits > 1).
template <int HD, int W, int NS>
__device__ __forceinline__ void decode_mma_tma_piece(const DecodeAttentionArgs& a,
                                                     const DecodeMmaPiece& pc, int split,
                                                     int splits) {
  static_assert(HD == 64 || HD == 128, "tensor-core decode: head_dim 64 or 128");
  static_assert(NS >= 2, "a ring of at least two stages");
  constexpr int kRows = kDecodeMmaKeys;
  constexpr int kStage = 2 * kRows * HD;  // bf16 per stage
  constexpr int kStep = W * kRows;        // keys per round of the CTA's warps
  static_assert(decode_mma_tma_ring_bytes<HD, W, NS>() >= sizeof(float) * W * kDecodeMmaRows * HD,
                "the ring is reused for the epilogue's accumulators");
  extern __shared__ __align__(128) unsigned char ring_bytes[];
  __shared__ uint64_t bars[W][NS];
  __shared__ float sm_m[W][kDecodeMmaRows];
  __shared__ float sm_l[W][kDecodeMmaRows];

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int gid = lane / 4, tig = lane % 4;
  const int group = a.n_heads / a.kv_heads;
  const int head0 = pc.kvh * group;
  const bool head_ok = gid < group;

  bf16* ring = reinterpret_cast<bf16*>(ring_bytes) + warp * NS * kStage;
  uint64_t* bar = bars[warp];
  if (lane == 0) {
    for (int s = 0; s < NS; ++s) mbarrier_init(&bar[s], 1);
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncwarp();

  const bf16* kp = decode_kv_head<HD>(a, a.k_cache, pc.b, pc.kvh);
  const bf16* vp = decode_kv_head<HD>(a, a.v_cache, pc.b, pc.kvh);
  const int bound = min(pc.stop, a.capacity);
  const int kb0 = pc.start + warp * kRows;
  // Block n of this warp: keys kb0 + n * kStep, in stage n % NS, use n / NS of that stage.
  const int blocks = kb0 < bound ? (bound - kb0 + kStep - 1) / kStep : 0;
  auto issue = [&](int n) {
    const int kb = kb0 + n * kStep;
    const unsigned bytes = static_cast<unsigned>(min(kRows, bound - kb)) * HD * sizeof(bf16);
    bf16* dst = ring + (n % NS) * kStage;
    mbarrier_expect_bytes(&bar[n % NS], 2 * bytes);
    bulk_copy_to_shared(dst, kp + static_cast<int64_t>(kb) * HD, bytes, &bar[n % NS]);
    bulk_copy_to_shared(dst + kRows * HD, vp + static_cast<int64_t>(kb) * HD, bytes,
                        &bar[n % NS]);
  };
  if (lane == 0)
    for (int n = 0; n < min(NS, blocks); ++n) issue(n);

  uint4 qa[HD / 32];
  decode_mma_load_q<HD>(a, pc, qa);
  const int end = min(bound, a.lens[pc.b]);
  const float qk_scale = a.scale * kLog2e;
  DecodeMmaState<HD> st;

  int n = 0;
  for (int kb = kb0; kb < end; kb += kStep, ++n) {
    mbarrier_wait(&bar[n % NS], (n / NS) & 1);
    // The stage's rows are keys kb..: fragments as the register kernel loads them, rows past
    // the length (stale in the ring) zero.
    const bf16* src = ring + (n % NS) * kStage;
    uint4 kr[2][HD / 32];
    decode_mma_load_k<HD>(src, 0, end - kb, kr, DecodeKvFromShared{});
    float s[2][2];
    decode_mma_scores<HD>(qa, kr, kb, end, qk_scale, s);  // masks keys past end
    uint4 vr[4][HD / 64];
    decode_mma_load_v<HD>(src + kRows * HD, 0, end - kb, vr, DecodeKvFromShared{});
    decode_mma_softmax_pv<HD>(a, s, vr, kb, end, pc.b, head0, gid, tig, head_ok, st.m, st.l,
                              st.o);
    // This stage's values are in registers: refill it NS blocks ahead, the warp's generic-proxy
    // reads ordered before the copy's async-proxy writes.
    __syncwarp();
    if (lane == 0 && n + NS < blocks) {
      asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
      issue(n + NS);
    }
  }
  // Copies issued past the length (bounded by capacity) land before the ring is reused.
  for (int k = n; k < min(n + NS, blocks); ++k) mbarrier_wait(&bar[k % NS], (k / NS) & 1);
  st.l += __shfl_xor_sync(0xffffffffu, st.l, 1);
  st.l += __shfl_xor_sync(0xffffffffu, st.l, 2);
  __syncthreads();  // every warp is done with the ring
  auto& sm_acc = *reinterpret_cast<float(*)[W][kDecodeMmaRows * HD]>(ring_bytes);
  decode_mma_cta_epilogue<HD, W>(a, pc, split, splits, st, sm_m, sm_l, sm_acc);
}

// Grid (splits, kv_heads, batch) as decode_attention_mma_kernel.
template <int HD, int W, int NS>
static __global__ void __launch_bounds__(W * 32, kDecodeMmaWarpsPerSm / W)
    decode_attention_mma_tma_kernel(DecodeAttentionArgs a, int chunk, int splits) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
  __trap();  // bulk copies need sm_90; the launcher only picks this kernel there
#else
  const int split = blockIdx.x;
  const DecodeMmaPiece pc{static_cast<int>(blockIdx.z), static_cast<int>(blockIdx.y),
                          split * chunk, split * chunk + chunk};
  decode_mma_tma_piece<HD, W, NS>(a, pc, split, splits);
#endif
}

// A 1-D tail grid (decode_tail_plan.cuh): whole pairs, then the pieces of the cut ones.
template <int HD, int W, int NS>
static __global__ void __launch_bounds__(W * 32, kDecodeMmaWarpsPerSm / W)
    decode_attention_mma_tma_tail_kernel(DecodeAttentionArgs a, DecodeTailPlan p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
  __trap();
#else
  const DecodeStreamPiece t = decode_tail_piece(p, a.kv_heads, static_cast<int>(blockIdx.x));
  decode_mma_tma_piece<HD, W, NS>(a, decode_mma_piece(t), t.split, t.splits);
#endif
}

}  // namespace squeeze::cuda
