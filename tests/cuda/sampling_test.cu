// Greedy argmax (ties to the lowest index) and top-p sampling against a sort-based reference.
#include <algorithm>
#include <numeric>

#include "cuda_test_util.hpp"
#include "kernels/sampling.cuh"

namespace squeeze::cuda::test {
namespace {

TEST(CudaSampling, ArgmaxPicksLowestIndexOfTheMaximum) {
  SQZ_REQUIRE_GPU();
  std::mt19937 rng(400);
  const int batch = 4, vocab = 32003;
  auto logits = random_bf16_values(size_t(batch) * vocab, rng, -10.f, 10.f);
  logits[0 * vocab + 5000] = 50.f;   // unique max
  logits[1 * vocab + 31999] = 60.f;  // tie: lowest index wins
  logits[1 * vocab + 12] = 60.f;
  logits[2 * vocab + 0] = 70.f;      // first element
  logits[3 * vocab + vocab - 1] = 80.f;  // last element
  DeviceBuffer<float> d_logits(logits);
  DeviceBuffer<int32_t> d_out(batch);
  SQZ_CUDA_OK(launch_argmax(d_logits.get(), d_out.get(), batch, vocab, 0));
  const auto got = d_out.download();
  for (int b = 0; b < batch; ++b) {
    const auto row = logits.begin() + ptrdiff_t(b) * vocab;
    EXPECT_EQ(got[b], std::max_element(row, row + vocab) - row) << "row " << b;
  }
}

// Reference: kept set = the fewest most-probable tokens whose mass reaches top_p; sample the
// first index (vocabulary order) where the running kept mass exceeds u * kept mass. Returns -1
// when the draw sits within `margin` of a boundary, where fp32 vs fp64 may legitimately differ.
int reference_top_p(const float* logits, int vocab, double temperature, double top_p, double u,
                    double margin) {
  std::vector<double> p(vocab);
  const double mx = *std::max_element(logits, logits + vocab) / temperature;
  double z = 0;
  for (int i = 0; i < vocab; ++i) z += (p[i] = std::exp(logits[i] / temperature - mx));
  for (auto& x : p) x /= z;
  std::vector<int> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return p[a] > p[b]; });
  double cum = 0;
  size_t n = 0;
  while (n < order.size() && cum < top_p) cum += p[order[n++]];
  if (n < order.size() && std::fabs(cum - p[order[n - 1]] - top_p) < margin) return -1;
  const double tau = p[order[n - 1]];
  double mass = 0;
  for (int i = 0; i < vocab; ++i) if (p[i] >= tau) mass += p[i];
  const double target = u * mass;
  double run = 0;
  for (int i = 0; i < vocab; ++i) {
    if (p[i] < tau) continue;
    const double next = run + p[i];
    if (next > target) return std::fabs(next - target) < margin || std::fabs(run - target) < margin ? -1 : i;
    run = next;
  }
  return -1;
}

TEST(CudaSampling, TopPMatchesSortedReference) {
  SQZ_REQUIRE_GPU();
  std::mt19937 rng(401);
  const int batch = 16, vocab = 5003;
  const float temperature = 0.8f, top_p = 0.9f;
  auto logits = random_bf16_values(size_t(batch) * vocab, rng, -6.f, 6.f);
  std::vector<float> u(batch);
  std::uniform_real_distribution<float> ud(0.f, 1.f);
  for (auto& x : u) x = ud(rng);
  DeviceBuffer<float> d_logits(logits), d_u(u);
  DeviceBuffer<int32_t> d_out(batch);
  SQZ_CUDA_OK(launch_top_p(d_logits.get(), d_u.get(), d_out.get(), batch, vocab, temperature,
                           top_p, 0));
  const auto got = d_out.download();
  int compared = 0;
  for (int b = 0; b < batch; ++b) {
    // Margin: fp32 probabilities (__expf, ~1e-6 relative) summed over ~5000 tokens.
    const int want = reference_top_p(&logits[size_t(b) * vocab], vocab, temperature, top_p, u[b],
                                      1e-5);
    ASSERT_GE(got[b], 0);
    ASSERT_LT(got[b], vocab);
    if (want < 0) continue;
    ++compared;
    EXPECT_EQ(got[b], want) << "row " << b;
  }
  EXPECT_GE(compared, batch - 2);
}

TEST(CudaSampling, TopPWithTinyPIsGreedy) {
  SQZ_REQUIRE_GPU();
  std::mt19937 rng(402);
  const int batch = 3, vocab = 1000;
  auto logits = random_bf16_values(size_t(batch) * vocab, rng, -5.f, 5.f);
  // bf16 values repeat: make each row's maximum unique, or ties at the top are (rightly) all kept.
  for (int b = 0; b < batch; ++b) logits[size_t(b) * vocab + (b * 331 + 17) % vocab] = 6.f;
  DeviceBuffer<float> d_logits(logits), d_u(std::vector<float>{0.1f, 0.5f, 0.99f});
  DeviceBuffer<int32_t> d_out(batch);
  SQZ_CUDA_OK(launch_top_p(d_logits.get(), d_u.get(), d_out.get(), batch, vocab, 1.f, 1e-6f, 0));
  const auto got = d_out.download();
  for (int b = 0; b < batch; ++b) {
    const auto row = logits.begin() + ptrdiff_t(b) * vocab;
    EXPECT_EQ(got[b], std::max_element(row, row + vocab) - row);
  }
}

}  // namespace
}  // namespace squeeze::cuda::test
