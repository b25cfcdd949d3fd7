// The CPU kernels against plain fp64 loops: every tile remainder of the matmul, dot products
// long enough to cross the fp32 block boundary, RoPE pairing and llama3 scaling bands.
#include <cmath>
#include <numbers>
#include <random>

#include <gtest/gtest.h>

#include "cpu_kernels.hpp"
#include "rope.hpp"
#include "thread_pool.hpp"

namespace squeeze::profiler::cpu {
namespace {

std::vector<float> random_vector(std::size_t n, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

TEST(CpuKernels, MatmulMatchesFp64ReferenceForEveryTileRemainder) {
  std::mt19937 rng(3);
  ThreadPool pool(2);
  for (int rows : {1, 2, 3, 5, 33, 70})
    for (int out : {1, 3, 4, 9, 130})
      for (int k : {1, 7, 8, 64, 300}) {
        const auto x = random_vector(static_cast<std::size_t>(rows * k), rng);
        const auto w = random_vector(static_cast<std::size_t>(out * k), rng);
        // Poisoned output: every element must be written.
        std::vector<float> y(static_cast<std::size_t>(rows * out), NAN);
        matmul_nt(x.data(), static_cast<std::size_t>(k), rows, w.data(), static_cast<std::size_t>(k), out, k,
                  y.data(), static_cast<std::size_t>(out), pool);
        std::vector<float> y_portable(y.size(), NAN);
        matmul_nt_portable(x.data(), static_cast<std::size_t>(k), rows, w.data(), static_cast<std::size_t>(k),
                           out, k, y_portable.data(), static_cast<std::size_t>(out));
        for (int r = 0; r < rows; ++r)
          for (int o = 0; o < out; ++o) {
            double ref = 0, mag = 0;
            for (int i = 0; i < k; ++i) {
              const double p = double(x[static_cast<std::size_t>(r * k + i)]) * w[static_cast<std::size_t>(o * k + i)];
              ref += p;
              mag += std::abs(p);
            }
            // fp32 partial sums over blocks of 256: error a few ulp of the magnitude.
            ASSERT_NEAR(y[static_cast<std::size_t>(r * out + o)], ref, 1e-6 * mag + 1e-7)
                << rows << "x" << out << "x" << k << " at " << r << "," << o;
            ASSERT_NEAR(y_portable[static_cast<std::size_t>(r * out + o)], ref, 1e-6 * mag + 1e-7)
                << "portable " << rows << "x" << out << "x" << k << " at " << r << "," << o;
          }
      }
}

TEST(CpuKernels, DotIsAccurateOverLongVectors) {
  std::mt19937 rng(5);
  const auto a = random_vector(100003, rng), b = random_vector(100003, rng);
  double ref = 0;
  for (std::size_t i = 0; i < a.size(); ++i) ref += double(a[i]) * b[i];
  EXPECT_NEAR(dot(a.data(), b.data(), static_cast<int>(a.size())), ref, 1e-3);
}

TEST(CpuKernels, RopePairsDimensionsByStyle) {
  core::ModelConfig c;
  c.head_dim = 4;
  c.rope_theta = 10000.0;
  for (auto style : {core::RopeStyle::Interleaved, core::RopeStyle::HalfSplit}) {
    c.rope_style = style;
    auto rope = Rope::create(c);
    ASSERT_TRUE(rope.ok());
    float cs[2], sn[2];
    rope->angles(3, cs, sn);
    std::vector<float> v = {1, 2, 3, 4};
    rope->apply(v.data(), 1, cs, sn);
    // Pair 0 rotates by 3 rad, pair 1 by 3 / 100 rad.
    const int a0 = 0, b0 = style == core::RopeStyle::Interleaved ? 1 : 2;
    const int a1 = style == core::RopeStyle::Interleaved ? 2 : 1, b1 = 3;
    const float x0 = float(a0 + 1), y0 = float(b0 + 1), x1 = float(a1 + 1), y1 = float(b1 + 1);
    EXPECT_NEAR(v[a0], x0 * std::cos(3.0) - y0 * std::sin(3.0), 1e-6);
    EXPECT_NEAR(v[b0], x0 * std::sin(3.0) + y0 * std::cos(3.0), 1e-6);
    EXPECT_NEAR(v[a1], x1 * std::cos(0.03) - y1 * std::sin(0.03), 1e-6);
    EXPECT_NEAR(v[b1], x1 * std::sin(0.03) + y1 * std::cos(0.03), 1e-6);
  }
}

TEST(CpuKernels, Llama3ScalingKeepsHighFrequenciesAndDividesLowOnes) {
  core::ModelConfig c;
  c.head_dim = 64;
  c.rope_theta = 500000.0;
  auto plain = Rope::create(c);
  c.rope_scaling = {"llama3", 8.0, 1.0, 4.0, 8192};
  auto scaled = Rope::create(c);
  ASSERT_TRUE(plain.ok() && scaled.ok());
  for (std::size_t i = 0; i < plain->inv_freq().size(); ++i) {
    const double f = plain->inv_freq()[i], g = scaled->inv_freq()[i];
    const double wavelen = 2 * std::numbers::pi / f;
    if (wavelen < 8192.0 / 4) EXPECT_DOUBLE_EQ(g, f);
    else if (wavelen > 8192.0) EXPECT_DOUBLE_EQ(g, f / 8.0);
    else EXPECT_TRUE(g < f && g > f / 8.0) << i;
  }
  c.rope_scaling.type = "yarn";
  EXPECT_FALSE(Rope::create(c).ok());
}

TEST(CpuKernels, ThreadPoolCoversTheRangeOnce) {
  ThreadPool pool(3);
  for (std::size_t n : {1u, 2u, 3u, 10u, 1001u}) {
    std::vector<int> hits(n);
    pool.parallel_for(n, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t i = lo; i < hi; ++i) ++hits[i];
    });
    for (int h : hits) EXPECT_EQ(h, 1);
  }
}

}  // namespace
}  // namespace squeeze::profiler::cpu
