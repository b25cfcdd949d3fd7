// cuBLASLt linear layers: y = x · wᵀ for decode-like (rows 1, 3) and prefill-like rows, bf16 and
// fp32 outputs, against fp64.
#include "cuda_test_util.hpp"
#include "gemm.hpp"

namespace squeeze::cuda::test {
namespace {

TEST(CudaGemm, LinearMatchesReference) {
  SQZ_REQUIRE_GPU();
  auto gemm = LtGemm::create();
  ASSERT_TRUE(gemm.ok()) << gemm.error().message;
  std::mt19937 rng(500);
  const int in = 200, out = 136;
  for (int rows : {1, 3, 77}) {
    auto x = random_bf16_values(size_t(rows) * in, rng);
    auto w = random_bf16_values(size_t(out) * in, rng);
    DeviceBuffer<__nv_bfloat16> d_x(to_bf16(x)), d_w(to_bf16(w)), d_yb(size_t(rows) * out);
    DeviceBuffer<float> d_yf(size_t(rows) * out);
    ASSERT_EQ(gemm->linear(d_x.get(), d_w.get(), d_yf.get(), GemmOut::F32, rows, in, out, 0),
              cudaSuccess) << gemm->last_error();
    ASSERT_EQ(gemm->linear(d_x.get(), d_w.get(), d_yb.get(), GemmOut::BF16, rows, in, out, 0),
              cudaSuccess) << gemm->last_error();
    std::vector<double> ref(size_t(rows) * out);
    for (int r = 0; r < rows; ++r)
      for (int o = 0; o < out; ++o) {
        double s = 0;
        for (int i = 0; i < in; ++i) s += double(x[r * in + i]) * w[o * in + i];
        ref[r * out + o] = s;
      }
    // Exact bf16 products, fp32 accumulation of 200 terms of |.| <= 1: ~1e-5 absolute.
    EXPECT_TRUE(all_close(d_yf.download(), ref, 1e-4, 1e-5, "fp32 out rows=" + std::to_string(rows)));
    EXPECT_TRUE(all_close(to_float(d_yb.download()), ref, 1e-3, 8e-3,
                          "bf16 out rows=" + std::to_string(rows)));
  }
}

}  // namespace
}  // namespace squeeze::cuda::test
