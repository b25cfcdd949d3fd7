// Causal prefill attention with GQA and H2O column sums, two prompts of different lengths.
#include "cuda_test_util.hpp"
#include "kernels/prefill_attention.cuh"

namespace squeeze::cuda::test {
namespace {

struct PrefillCase {
  int head_dim, n_heads, kv_heads;
};
class CudaPrefillAttention : public ::testing::TestWithParam<PrefillCase> {};

TEST_P(CudaPrefillAttention, MatchesReferenceWithColumnSums) {
  SQZ_REQUIRE_GPU();
  const auto c = GetParam();
  std::mt19937 rng(static_cast<unsigned>(200 + c.head_dim + c.n_heads + c.kv_heads));
  const int hd = c.head_dim, group = c.n_heads / c.kv_heads;
  const std::vector<int32_t> starts = {0, 45, 45 + 131};  // lengths 45 and 131
  const int batch = 2, tokens = starts.back(), capacity = 140, max_len = 131;
  const float scale = 1.f / std::sqrt(float(hd));
  auto q = random_bf16_values(size_t(tokens) * c.n_heads * hd, rng, -3.f, 3.f);
  auto k = random_bf16_values(size_t(batch) * c.kv_heads * capacity * hd, rng);
  auto v = random_bf16_values(k.size(), rng);
  DeviceBuffer<__nv_bfloat16> d_q(to_bf16(q)), d_k(to_bf16(k)), d_v(to_bf16(v)), d_out(q.size());
  DeviceBuffer<int32_t> d_starts(starts);
  DeviceBuffer<double> d_cols(std::vector<double>(size_t(batch) * c.kv_heads * capacity, 0.0));
  PrefillAttentionArgs a{d_q.get(), d_k.get(), d_v.get(), d_starts.get(), d_out.get(),
                         d_cols.get(), batch, c.n_heads, c.kv_heads, hd, capacity, max_len, scale};
  SQZ_CUDA_OK(launch_prefill_attention(a, 0));
  SQZ_CUDA_OK(cudaDeviceSynchronize());

  std::vector<double> ref_out(q.size()), ref_cols(d_cols.size(), 0.0);
  for (int b = 0; b < batch; ++b) {
    const int len = starts[b + 1] - starts[b];
    for (int h = 0; h < c.n_heads; ++h) {
      const size_t base = (size_t(b) * c.kv_heads + h / group) * capacity;
      for (int i = 0; i < len; ++i) {
        const size_t qrow = (size_t(starts[b] + i) * c.n_heads + h) * hd;
        std::vector<double> s(i + 1);
        double mx = -1e300, z = 0;
        for (int j = 0; j <= i; ++j) {
          double d = 0;
          for (int e = 0; e < hd; ++e) d += double(q[qrow + e]) * k[(base + j) * hd + e];
          mx = std::max(mx, s[j] = d * scale);
        }
        for (auto& x : s) z += (x = std::exp(x - mx));
        for (int j = 0; j <= i; ++j) {
          ref_cols[base + j] += s[j] / z;
          for (int e = 0; e < hd; ++e) ref_out[qrow + e] += s[j] / z * v[(base + j) * hd + e];
        }
      }
    }
  }
  EXPECT_TRUE(all_close(to_float(d_out.download()), ref_out, 2e-3, 1e-2, "prefill out"));
  // Column sums of fp32 probabilities (~1e-6 relative each) over up to 131 queries x group heads.
  // Entries past each prompt stay 0 (the buffer was zeroed, as the launcher requires).
  auto cols = d_cols.download();
  EXPECT_TRUE(all_close(std::vector<float>(cols.begin(), cols.end()), ref_cols, 1e-5, 1e-4,
                        "column sums"));
}

INSTANTIATE_TEST_SUITE_P(Shapes, CudaPrefillAttention,
                         ::testing::Values(PrefillCase{128, 8, 8}, PrefillCase{64, 8, 2},
                                           PrefillCase{32, 16, 2}, PrefillCase{8, 8, 4}),
                         [](const auto& info) {
                           return "hd" + std::to_string(info.param.head_dim) + "_q" +
                                  std::to_string(info.param.n_heads) + "_kv" +
                                  std::to_string(info.param.kv_heads);
                         });

}  // namespace
}  // namespace squeeze::cuda::test
