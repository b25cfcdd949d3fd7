// RoPE + KV append: both pairing styles, GQA, biases, two sequences, per-head slots.
#include "cuda_test_util.hpp"
#include "kernels/rope.cuh"

namespace squeeze::cuda::test {
namespace {

void run_rope_case(RopePairing pairing, bool with_bias) {
  std::mt19937 rng(static_cast<unsigned>(11 + static_cast<int>(pairing) * 2 + with_bias));
  const int n_heads = 8, kv_heads = 2, hd = 64, capacity = 40, batch = 2;
  const int q_dim = n_heads * hd, kv_dim = kv_heads * hd, row = q_dim + 2 * kv_dim;
  // Sequence 0: 3 tokens at positions 0..2; sequence 1: 2 tokens at positions 1500, 1501.
  const std::vector<int32_t> seq = {0, 0, 0, 1, 1};
  const std::vector<int32_t> pos = {0, 1, 2, 1500, 1501};
  const int tokens = static_cast<int>(seq.size());
  std::vector<int32_t> slots(static_cast<size_t>(tokens) * kv_heads);
  for (int t = 0; t < tokens; ++t)
    for (int h = 0; h < kv_heads; ++h) slots[t * kv_heads + h] = (t * 7 + h * 13) % capacity;
  auto qkv = random_bf16_values(static_cast<size_t>(tokens) * row, rng, -2.f, 2.f);
  std::vector<float> bias;
  if (with_bias) bias = random_bf16_values(row, rng, -0.5f, 0.5f);
  const auto inv_freq = rope_inv_freq(hd, 10000.0, "none", 1, 1, 4, 8192);

  DeviceBuffer<float> d_qkv(qkv), d_inv(inv_freq);
  DeviceBuffer<float> d_bias(with_bias ? bias : std::vector<float>{});
  DeviceBuffer<int32_t> d_pos(pos), d_seq(seq), d_slots(slots);
  DeviceBuffer<__nv_bfloat16> d_q(static_cast<size_t>(tokens) * q_dim);
  DeviceBuffer<__nv_bfloat16> d_k(static_cast<size_t>(batch) * kv_heads * capacity * hd);
  DeviceBuffer<__nv_bfloat16> d_v(d_k.size());
  RopeArgs args{d_qkv.get(), with_bias ? d_bias.get() : nullptr, d_pos.get(), d_seq.get(),
                d_slots.get(), d_inv.get(), d_q.get(), d_k.get(), d_v.get(), tokens, n_heads,
                kv_heads, hd, capacity, pairing};
  SQZ_CUDA_OK(launch_rope_kv_append(args, 0));

  auto in = [&](int t, int j) { return double(qkv[t * row + j]) + (with_bias ? bias[j] : 0.0); };
  std::vector<double> ref_q(d_q.size());
  std::vector<double> ref_k(d_k.size(), std::nan("")), ref_v(d_v.size(), std::nan(""));
  for (int t = 0; t < tokens; ++t) {
    for (int head = 0; head < n_heads + kv_heads; ++head) {
      for (int i = 0; i < hd / 2; ++i) {
        const int a = pairing == RopePairing::Interleaved ? 2 * i : i;
        const int b = pairing == RopePairing::Interleaved ? 2 * i + 1 : i + hd / 2;
        const double ang = pos[t] * double(inv_freq[i]);
        const double x0 = in(t, head * hd + a), x1 = in(t, head * hd + b);
        const double y0 = x0 * std::cos(ang) - x1 * std::sin(ang);
        const double y1 = x0 * std::sin(ang) + x1 * std::cos(ang);
        if (head < n_heads) {
          ref_q[t * q_dim + head * hd + a] = y0;
          ref_q[t * q_dim + head * hd + b] = y1;
        } else {
          const int kh = head - n_heads;
          const size_t base =
              ((size_t(seq[t]) * kv_heads + kh) * capacity + slots[t * kv_heads + kh]) * hd;
          ref_k[base + a] = y0;
          ref_k[base + b] = y1;
        }
      }
    }
    for (int kh = 0; kh < kv_heads; ++kh) {
      const size_t base =
          ((size_t(seq[t]) * kv_heads + kh) * capacity + slots[t * kv_heads + kh]) * hd;
      for (int d = 0; d < hd; ++d) ref_v[base + d] = in(t, q_dim + kv_dim + kh * hd + d);
    }
  }
  // bf16 storage of values |x| <= ~5: one rounding, 2^-8 relative; angles in fp32 at position
  // 1500 carry ~1e-4 rad of error, hence the absolute term.
  EXPECT_TRUE(all_close(to_float(d_q.download()), ref_q, 2e-3, 8e-3, "q"));
  // Unwritten slots must still hold the poison: compare only written rows, then check the rest.
  auto k = to_float(d_k.download()), v = to_float(d_v.download());
  std::vector<float> kw, vw;
  std::vector<double> rkw, rvw;
  size_t untouched_nan = 0, untouched = 0;
  for (size_t i = 0; i < k.size(); ++i) {
    if (std::isnan(ref_k[i])) {
      ++untouched;
      untouched_nan += std::isnan(k[i]) && std::isnan(v[i]);
      continue;
    }
    kw.push_back(k[i]);
    vw.push_back(v[i]);
    rkw.push_back(ref_k[i]);
    rvw.push_back(ref_v[i]);
  }
  EXPECT_EQ(kw.size(), size_t(tokens) * kv_dim);
  EXPECT_TRUE(all_close(kw, rkw, 2e-3, 8e-3, "k cache"));
  EXPECT_TRUE(all_close(vw, rvw, 0.0, 4e-3, "v cache"));
  EXPECT_EQ(untouched_nan, untouched) << "the kernel wrote cache slots it was not given";
}

TEST(CudaRope, InterleavedWithBias) { SQZ_REQUIRE_GPU(); run_rope_case(RopePairing::Interleaved, true); }
TEST(CudaRope, InterleavedNoBias) { SQZ_REQUIRE_GPU(); run_rope_case(RopePairing::Interleaved, false); }
TEST(CudaRope, HalfSplitWithBias) { SQZ_REQUIRE_GPU(); run_rope_case(RopePairing::HalfSplit, true); }
TEST(CudaRope, HalfSplitNoBias) { SQZ_REQUIRE_GPU(); run_rope_case(RopePairing::HalfSplit, false); }

TEST(CudaRope, Llama3ScalingLeavesHighFrequenciesAlone) {
  // Host-only: needs no GPU. High-frequency pairs (short wavelengths) are unscaled, the lowest
  // frequencies are divided by the factor.
  const auto plain = rope_inv_freq(128, 500000.0, "none", 1, 1, 4, 8192);
  const auto scaled = rope_inv_freq(128, 500000.0, "llama3", 8, 1, 4, 8192);
  EXPECT_FLOAT_EQ(scaled[0], plain[0]);
  EXPECT_NEAR(scaled[63], plain[63] / 8, plain[63] * 1e-5);
}

}  // namespace
}  // namespace squeeze::cuda::test
