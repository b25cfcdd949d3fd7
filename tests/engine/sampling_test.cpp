// Sampling: greedy is argmax, a seed reproduces a run, top-p truncates, frequencies follow softmax.
#include <cmath>

#include <gtest/gtest.h>

#include "squeeze/profiler/sampling.hpp"

namespace squeeze::profiler {
namespace {

TEST(Sampling, GreedyIsArgmaxWithLowestIndexOnTies) {
  const std::vector<float> logits = {0.1f, 2.0f, -1.0f, 2.0f};
  EXPECT_EQ(argmax(logits), 1);
  Sampler greedy({.temperature = 0.0, .top_p = 0.9, .seed = 3});
  EXPECT_EQ(greedy.sample(logits), 1);
}

TEST(Sampling, SameSeedSameTokensDifferentSeedDifferentTokens) {
  std::vector<float> logits(50);
  for (int i = 0; i < 50; ++i) logits[static_cast<std::size_t>(i)] = std::sin(0.7f * i);
  auto draw = [&](std::uint64_t seed) {
    Sampler s({.temperature = 1.0, .top_p = 1.0, .seed = seed});
    std::vector<int> out;
    for (int i = 0; i < 40; ++i) out.push_back(s.sample(logits));
    return out;
  };
  EXPECT_EQ(draw(42), draw(42));
  EXPECT_NE(draw(42), draw(43));
}

TEST(Sampling, FrequenciesFollowTheTemperedSoftmax) {
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  Sampler s({.temperature = 1.0, .top_p = 1.0, .seed = 1});
  std::vector<int> counts(3);
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++counts[static_cast<std::size_t>(s.sample(logits))];
  // Binomial standard deviation at n = 20000 is <= 0.0036: 0.015 is four of them.
  EXPECT_NEAR(counts[0] / double(n), 0.5, 0.015);
  EXPECT_NEAR(counts[1] / double(n), 0.3, 0.015);
  EXPECT_NEAR(counts[2] / double(n), 0.2, 0.015);
}

TEST(Sampling, TopPKeepsOnlyTheNucleus) {
  // Mass 0.5, 0.3, 0.2: top_p 0.7 keeps {0, 1} (0.5 alone does not exceed 0.7).
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  Sampler s({.temperature = 1.0, .top_p = 0.7, .seed = 5});
  std::vector<int> counts(3);
  for (int i = 0; i < 5000; ++i) ++counts[static_cast<std::size_t>(s.sample(logits))];
  EXPECT_EQ(counts[2], 0);
  EXPECT_GT(counts[1], 1000);  // renormalised: 0.375 of the draws
  Sampler tiny({.temperature = 1.0, .top_p = 0.01, .seed = 5});
  for (int i = 0; i < 100; ++i) EXPECT_EQ(tiny.sample(logits), 0);
}

TEST(Sampling, RejectsBadParameters) {
  EXPECT_FALSE(validate_sampling({.temperature = -0.1}).ok());
  EXPECT_FALSE(validate_sampling({.temperature = 1.0, .top_p = 0.0}).ok());
  EXPECT_FALSE(validate_sampling({.temperature = 1.0, .top_p = 1.5}).ok());
  EXPECT_EQ(validate_sampling({.temperature = NAN}).error().code, 2);
  EXPECT_TRUE(validate_sampling({.temperature = 0.8, .top_p = 0.95}).ok());
}

}  // namespace
}  // namespace squeeze::profiler
