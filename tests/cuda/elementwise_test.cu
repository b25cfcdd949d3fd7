// Embedding, RMSNorm, residual add + cosine + RMSNorm, SwiGLU against fp64 CPU references.
#include "cuda_test_util.hpp"
#include "kernels/embedding.cuh"
#include "kernels/rmsnorm.cuh"
#include "kernels/swiglu.cuh"

namespace squeeze::cuda::test {
namespace {

// bf16 outputs: one rounding of a value computed in fp32 -> relative 2^-8 = 0.0039 at most,
// plus fp32-vs-fp64 summation noise; 1e-2 relative with a small absolute floor covers it.
constexpr double kBf16Rtol = 1e-2, kBf16Atol = 1e-3;

TEST(CudaElementwise, EmbeddingCopiesRows) {
  SQZ_REQUIRE_GPU();
  std::mt19937 rng(1);
  const int vocab = 37, hidden = 100, tokens = 9;
  auto table = random_bf16_values(static_cast<size_t>(vocab) * hidden, rng);
  std::vector<int32_t> ids(tokens);
  for (int t = 0; t < tokens; ++t) ids[t] = static_cast<int32_t>((t * 7 + 3) % vocab);
  DeviceBuffer<__nv_bfloat16> d_table(to_bf16(table));
  DeviceBuffer<int32_t> d_ids(ids);
  DeviceBuffer<float> d_out(static_cast<size_t>(tokens) * hidden);
  SQZ_CUDA_OK(launch_embedding(d_ids.get(), d_table.get(), d_out.get(), tokens, vocab, hidden, 0));
  std::vector<double> ref(d_out.size());
  for (int t = 0; t < tokens; ++t)
    for (int i = 0; i < hidden; ++i) ref[t * hidden + i] = table[ids[t] * hidden + i];
  EXPECT_TRUE(all_close(d_out.download(), ref, 0.0, 0.0, "embedding"));  // exact copy
}

TEST(CudaElementwise, RmsNormMatchesReference) {
  SQZ_REQUIRE_GPU();
  std::mt19937 rng(2);
  const int tokens = 5, hidden = 1000;  // not a multiple of the block size
  const float eps = 1e-5f;
  auto x = random_bf16_values(static_cast<size_t>(tokens) * hidden, rng, -3.f, 3.f);
  auto w = random_bf16_values(hidden, rng, 0.5f, 1.5f);
  DeviceBuffer<float> d_x(x), d_w(w);
  DeviceBuffer<__nv_bfloat16> d_out(x.size());
  SQZ_CUDA_OK(launch_rmsnorm(d_x.get(), d_w.get(), d_out.get(), tokens, hidden, eps, 0));
  std::vector<double> ref(x.size());
  for (int t = 0; t < tokens; ++t) {
    double ss = 0;
    for (int i = 0; i < hidden; ++i) ss += double(x[t * hidden + i]) * x[t * hidden + i];
    const double inv = 1.0 / std::sqrt(ss / hidden + eps);
    for (int i = 0; i < hidden; ++i) ref[t * hidden + i] = x[t * hidden + i] * inv * w[i];
  }
  EXPECT_TRUE(all_close(to_float(d_out.download()), ref, kBf16Atol, kBf16Rtol, "rmsnorm"));
}

TEST(CudaElementwise, ResidualAddCosineAndNorm) {
  SQZ_REQUIRE_GPU();
  std::mt19937 rng(3);
  const int tokens = 7, hidden = 777;
  const float eps = 1e-6f;
  auto x = random_bf16_values(static_cast<size_t>(tokens) * hidden, rng, -2.f, 2.f);
  auto delta = random_bf16_values(x.size(), rng, -0.5f, 0.5f);
  auto w = random_bf16_values(hidden, rng, 0.5f, 1.5f);
  DeviceBuffer<float> d_x(x), d_delta(delta), d_w(w), d_cos(tokens);
  DeviceBuffer<__nv_bfloat16> d_out(x.size());
  SQZ_CUDA_OK(launch_residual_add(d_x.get(), d_delta.get(), d_w.get(), d_out.get(), d_cos.get(),
                                  tokens, hidden, eps, 0));
  std::vector<double> ref_y(x.size()), ref_norm(x.size()), ref_cos(tokens);
  for (int t = 0; t < tokens; ++t) {
    double dot = 0, xx = 0, yy = 0;
    for (int i = 0; i < hidden; ++i) {
      const double a = x[t * hidden + i], b = a + delta[t * hidden + i];
      ref_y[t * hidden + i] = b;
      dot += a * b;
      xx += a * a;
      yy += b * b;
    }
    ref_cos[t] = dot / std::sqrt(xx * yy);
    const double inv = 1.0 / std::sqrt(yy / hidden + eps);
    for (int i = 0; i < hidden; ++i) ref_norm[t * hidden + i] = ref_y[t * hidden + i] * inv * w[i];
  }
  // y: one fp32 add of two bf16 values -> exact to fp32 rounding (2^-24 relative).
  EXPECT_TRUE(all_close(d_x.download(), ref_y, 1e-6, 1e-6, "residual y"));
  // cosine: fp32 products summed in fp64; DESIGN wants similarities to ~1e-6 to rank layers.
  EXPECT_TRUE(all_close(d_cos.download(), ref_cos, 1e-6, 1e-6, "cosine"));
  EXPECT_TRUE(all_close(to_float(d_out.download()), ref_norm, kBf16Atol, kBf16Rtol, "norm(y)"));
}

TEST(CudaElementwise, ResidualAddOnlyLeavesNoNormOutput) {
  SQZ_REQUIRE_GPU();
  std::mt19937 rng(4);
  const int tokens = 3, hidden = 65;
  auto x = random_bf16_values(static_cast<size_t>(tokens) * hidden, rng);
  auto delta = random_bf16_values(x.size(), rng);
  DeviceBuffer<float> d_x(x), d_delta(delta);
  SQZ_CUDA_OK(launch_residual_add(d_x.get(), d_delta.get(), nullptr, nullptr, nullptr, tokens,
                                  hidden, 1e-5f, 0));
  std::vector<double> ref(x.size());
  for (size_t i = 0; i < x.size(); ++i) ref[i] = double(x[i]) + delta[i];
  EXPECT_TRUE(all_close(d_x.download(), ref, 1e-6, 1e-6, "x + delta"));
}

TEST(CudaElementwise, SwiGluMatchesReference) {
  SQZ_REQUIRE_GPU();
  std::mt19937 rng(5);
  const int tokens = 3, inter = 301;
  auto gu = random_bf16_values(static_cast<size_t>(tokens) * 2 * inter, rng, -4.f, 4.f);
  DeviceBuffer<float> d_gu(gu);
  DeviceBuffer<__nv_bfloat16> d_out(static_cast<size_t>(tokens) * inter);
  SQZ_CUDA_OK(launch_swiglu(d_gu.get(), d_out.get(), tokens, inter, 0));
  std::vector<double> ref(d_out.size());
  for (int t = 0; t < tokens; ++t)
    for (int j = 0; j < inter; ++j) {
      const double g = gu[t * 2 * inter + j], u = gu[t * 2 * inter + inter + j];
      ref[t * inter + j] = g / (1.0 + std::exp(-g)) * u;
    }
  EXPECT_TRUE(all_close(to_float(d_out.download()), ref, kBf16Atol, kBf16Rtol, "swiglu"));
}

}  // namespace
}  // namespace squeeze::cuda::test
