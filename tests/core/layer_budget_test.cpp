// SqueezeAttention layer budgets (DESIGN.md §2): hand cases, the original code's README example,
// properties over random profiles, and the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "squeeze/core/clustering.hpp"
#include "squeeze/core/layer_budget.hpp"

using squeeze::core::budget_from_fraction;
using squeeze::core::kmeans_1d;
using squeeze::core::LayerBudgets;
using squeeze::core::squeeze_budgets;
using squeeze::core::squeezed_budget;

namespace {

std::int64_t sum(const std::vector<int>& v) { return std::accumulate(v.begin(), v.end(), std::int64_t{0}); }

// The invariants of §2 for any successful result.
void expect_budget_rules(const std::vector<double>& sims, int B, double p, const LayerBudgets& r) {
  const int L = static_cast<int>(sims.size());
  ASSERT_EQ(r.n_layers(), L);
  EXPECT_EQ(r.total, std::int64_t{L} * B);
  EXPECT_EQ(sum(r.budgets), std::int64_t{L} * B) << "the total must stay exactly L * B";
  EXPECT_EQ(r.squeezed_budget, static_cast<int>(std::floor(p * B * (1 + 1e-12))));
  EXPECT_TRUE(std::is_sorted(r.unimportant.begin(), r.unimportant.end()));
  const int top = static_cast<int>(r.centers.size()) - 1;
  std::vector<int> others;
  for (int l = 0; l < L; ++l) {
    const bool in_u = r.is_unimportant(l);
    if (r.centers.size() > 1) {
      EXPECT_EQ(in_u, r.clusters[l] == top) << "layer " << l;
    }
    if (in_u) {
      EXPECT_EQ(r.budgets[l], r.squeezed_budget);
    } else {
      others.push_back(l);
    }
  }
  if (others.empty()) return;
  const auto [lo, hi] = std::minmax_element(others.begin(), others.end(), [&](int a, int b) {
    return r.budgets[a] < r.budgets[b];
  });
  EXPECT_LE(r.budgets[*hi] - r.budgets[*lo], 1) << "important layers differ by at most one token";
  for (int a : others)
    for (int b : others)
      if (sims[a] < sims[b]) {
        EXPECT_GE(r.budgets[a], r.budgets[b]) << "lower similarity, more tokens";
      }
}

TEST(LayerBudget, HandComputedFiveLayers) {
  // Clusters {0.2}, {0.45, 0.5}, {0.9, 0.91}. B = 10, p = 0.35 -> U = {3, 4} get 3 each; the
  // remaining 44 over three layers is 14 r 2: the two lowest similarities (0.2, 0.45) get 15.
  const std::vector<double> sims = {0.2, 0.5, 0.45, 0.9, 0.91};
  auto r = squeeze_budgets(sims, 10, 0.35);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->budgets, (std::vector<int>{15, 14, 15, 3, 3}));
  EXPECT_EQ(r->clusters, (std::vector<int>{0, 1, 1, 2, 2}));
  EXPECT_EQ(r->unimportant, (std::vector<int>{3, 4}));
  EXPECT_EQ(r->squeezed_budget, 3);
  EXPECT_EQ(r->total, 50);
  expect_budget_rules(sims, 10, 0.35, *r);
}

TEST(LayerBudget, ReadmeExample32LayersBudget21PercentUnimportant8Percent) {
  // The original SqueezeAttention README: 32 layers, budget 21% of the prompt, unimportant layers
  // 8% of the prompt, i.e. p = 0.08 / 0.21. A Llama-2-7B-like profile: the first layers and the
  // last rewrite the residual stream most; layers 12-30 barely touch it.
  std::vector<double> sims;
  sims.push_back(0.55);
  sims.push_back(0.78);
  for (int l = 2; l < 12; ++l) sims.push_back(0.90 + 0.002 * (l - 2));   // 0.900 .. 0.918
  for (int l = 12; l < 31; ++l) sims.push_back(0.96 + 0.001 * (l - 12));  // 0.960 .. 0.978
  sims.push_back(0.85);
  ASSERT_EQ(sims.size(), 32u);
  const int prompt = 2000;
  auto B = budget_from_fraction(0.21, prompt);
  ASSERT_TRUE(B.ok());
  EXPECT_EQ(*B, 420);
  const double p = 0.08 / 0.21;
  auto r = squeeze_budgets(sims, *B, p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->squeezed_budget, 160) << "8% of 2000 tokens";
  ASSERT_FALSE(r->unimportant.empty());
  // U is exactly the highest cluster of an independent clustering call, and holds the deep,
  // high-similarity layers only.
  auto c = kmeans_1d(sims, 3);
  ASSERT_TRUE(c.ok());
  for (int l = 0; l < 32; ++l) EXPECT_EQ(r->is_unimportant(l), c->labels[l] == c->k() - 1);
  // By hand (k-means optimum {0.55} | {0.78 .. 0.918} | {0.96 ..}): U = layers 12..30, and the
  // 32 * 420 - 19 * 160 = 10400 remaining tokens give the 13 other layers 800 each.
  std::vector<int> deep(19);
  std::iota(deep.begin(), deep.end(), 12);
  EXPECT_EQ(r->unimportant, deep);
  for (int l : {0, 1, 2, 11, 31}) EXPECT_EQ(r->budgets[l], 800) << "layer " << l;
  const auto n_u = static_cast<std::int64_t>(r->unimportant.size());
  const std::int64_t remainder = 32 * 420 - n_u * 160;
  std::int64_t others = 0;
  for (int l = 0; l < 32; ++l) {
    if (r->is_unimportant(l)) continue;
    others += r->budgets[l];
    EXPECT_GE(r->budgets[l], remainder / (32 - n_u));
    EXPECT_LE(r->budgets[l], remainder / (32 - n_u) + 1);
  }
  EXPECT_EQ(others, remainder) << "the other layers share exactly the remainder";
  expect_budget_rules(sims, 420, p, *r);
}

TEST(LayerBudget, PropertiesOverRandomProfiles) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> sim(0.3, 1.0), pdist(0.05, 1.0);
  std::uniform_int_distribution<int> layers(1, 48), budget(20, 3000), kdist(1, 5);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<double> sims(layers(rng));
    for (auto& s : sims) s = sim(rng);
    const int B = budget(rng), k = kdist(rng);
    const double p = pdist(rng);
    auto r = squeeze_budgets(sims, B, p, k);
    ASSERT_TRUE(r.ok()) << r.error().message;
    expect_budget_rules(sims, B, p, *r);
    if (k >= 2 && sims.size() >= 2) {
      EXPECT_FALSE(r->unimportant.empty());
    }
  }
}

TEST(LayerBudget, RatioPRecoversTheIntegerItMeans) {
  // 3% of the prompt under a 7% budget: (0.03 / 0.07) * 140 is 59.999999999999986 in doubles.
  auto q = squeezed_budget(140, 0.03 / 0.07);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, 60);
  EXPECT_EQ(*squeezed_budget(10, 0.35), 3);   // genuine fractions still round down
  EXPECT_EQ(*squeezed_budget(999, 0.999), 998);
}

TEST(LayerBudget, PEqualOneIsUniform) {
  const std::vector<double> sims = {0.5, 0.9, 0.7, 0.95, 0.6};
  auto r = squeeze_budgets(sims, 37, 1.0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->budgets, std::vector<int>(5, 37));
}

TEST(LayerBudget, SingleClusterIsUniform) {
  auto equal = squeeze_budgets(std::vector<double>{0.9, 0.9, 0.9, 0.9}, 100, 0.3);
  ASSERT_TRUE(equal.ok());
  EXPECT_EQ(equal->budgets, std::vector<int>(4, 100));
  EXPECT_TRUE(equal->unimportant.empty());
  auto one_layer = squeeze_budgets(std::vector<double>{0.7}, 100, 0.3);
  ASSERT_TRUE(one_layer.ok());
  EXPECT_EQ(one_layer->budgets, std::vector<int>{100});
  auto k1 = squeeze_budgets(std::vector<double>{0.1, 0.9}, 100, 0.3, 1);
  ASSERT_TRUE(k1.ok());
  EXPECT_EQ(k1->budgets, (std::vector<int>{100, 100}));
}

TEST(LayerBudget, BudgetFromFractionRounds) {
  EXPECT_EQ(*budget_from_fraction(0.21, 2000), 420);
  EXPECT_EQ(*budget_from_fraction(0.5, 3), 2);  // 1.5 rounds half away from zero
  EXPECT_EQ(*budget_from_fraction(0.33, 10), 3);
  EXPECT_EQ(*budget_from_fraction(1.5, 100), 150);  // decode may outgrow the prompt
  EXPECT_FALSE(budget_from_fraction(0.001, 100).ok());
  EXPECT_FALSE(budget_from_fraction(0.0, 100).ok());
  EXPECT_FALSE(budget_from_fraction(-0.2, 100).ok());
  EXPECT_FALSE(budget_from_fraction(std::nan(""), 100).ok());
  EXPECT_FALSE(budget_from_fraction(0.2, 0).ok());
}

TEST(LayerBudget, ZeroSqueezedBudgetIsAnErrorNamingPAndB) {
  auto r = squeeze_budgets(std::vector<double>{0.2, 0.9}, 2, 0.3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 2);
  EXPECT_NE(r.error().message.find("p = 0.3"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("2 tokens"), std::string::npos) << r.error().message;
}

TEST(LayerBudget, RejectsBadInput) {
  const std::vector<double> sims = {0.2, 0.9, 0.5};
  auto expect_error = [](const squeeze::core::Result<LayerBudgets>& r, const char* needle) {
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_EQ(r.error().code, 2);
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  expect_error(squeeze_budgets(std::vector<double>{}, 10, 0.3), "no layer");
  expect_error(squeeze_budgets(std::vector<double>{0.2, std::nan("")}, 10, 0.3), "layer 1");
  expect_error(squeeze_budgets(std::vector<double>{INFINITY, 0.2}, 10, 0.3), "layer 0");
  expect_error(squeeze_budgets(sims, 10, 0.0), "p must be in (0, 1]");
  expect_error(squeeze_budgets(sims, 10, 1.01), "p must be in (0, 1]");
  expect_error(squeeze_budgets(sims, 10, std::nan("")), "p must be in (0, 1]");
  expect_error(squeeze_budgets(sims, 0, 0.5), "at least 1 token");
  expect_error(squeeze_budgets(sims, -4, 0.5), "at least 1 token");
  expect_error(squeeze_budgets(sims, 10, 0.5, 0), "clusters");
  EXPECT_FALSE(squeezed_budget(10, -0.5).ok());
}

}  // namespace
