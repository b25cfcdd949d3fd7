// Exact 1-D k-means: hand-computed cases and a brute-force enumeration of every contiguous
// partition of small random inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "squeeze/core/clustering.hpp"

using squeeze::core::Clustering;
using squeeze::core::kmeans_1d;

namespace {

double sum_of_squares(const std::vector<double>& v) {
  if (v.empty()) return 0;
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return ss;
}

// Minimum within-cluster sum of squares over all ways to cut sorted `values` into exactly `k`
// non-empty contiguous groups (equal values may be split here: the brute force assumes nothing).
double brute_force_min_ss(std::vector<double> values, int k) {
  std::sort(values.begin(), values.end());
  const int n = static_cast<int>(values.size());
  double best = std::numeric_limits<double>::infinity();
  for (unsigned mask = 0; mask < (1u << (n - 1)); ++mask) {  // bit i: cut after element i
    if (__builtin_popcount(mask) != k - 1) continue;
    double ss = 0;
    std::vector<double> group;
    for (int i = 0; i < n; ++i) {
      group.push_back(values[i]);
      if (i == n - 1 || (mask >> i & 1u)) {
        ss += sum_of_squares(group);
        group.clear();
      }
    }
    best = std::min(best, ss);
  }
  return best;
}

// Structural checks any valid result must pass, independent of optimality.
void expect_well_formed(const std::vector<double>& values, const Clustering& c) {
  ASSERT_EQ(c.labels.size(), values.size());
  ASSERT_EQ(c.sizes.size(), c.centers.size());
  EXPECT_TRUE(std::is_sorted(c.centers.begin(), c.centers.end()));
  double ss = 0;
  for (int label = 0; label < c.k(); ++label) {
    std::vector<double> members;
    for (std::size_t i = 0; i < values.size(); ++i)
      if (c.labels[i] == label) members.push_back(values[i]);
    ASSERT_FALSE(members.empty()) << "label " << label << " is empty";
    EXPECT_EQ(c.sizes[label], static_cast<int>(members.size()));
    double mean = 0;
    for (double x : members) mean += x;
    EXPECT_NEAR(c.centers[label], mean / static_cast<double>(members.size()), 1e-12);
    ss += sum_of_squares(members);
  }
  EXPECT_NEAR(c.within_ss, ss, 1e-9);
  // Contiguous in sorted order, labels ascending with value; equal values share a label.
  for (std::size_t i = 0; i < values.size(); ++i) {
    for (std::size_t j = 0; j < values.size(); ++j) {
      if (values[i] < values[j]) {
        EXPECT_LE(c.labels[i], c.labels[j]);
      } else if (values[i] == values[j]) {
        EXPECT_EQ(c.labels[i], c.labels[j]);
      }
    }
  }
}

TEST(KMeans1D, HandComputedThreeGroups) {
  const std::vector<double> v = {100, 1, 11, 2, 101, 3, 10, 12};
  auto c = kmeans_1d(v, 3);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->labels, (std::vector<int>{2, 0, 1, 0, 2, 0, 1, 1}));
  EXPECT_EQ(c->centers, (std::vector<double>{2, 11, 100.5}));
  EXPECT_DOUBLE_EQ(c->within_ss, 2 + 2 + 0.5);
  expect_well_formed(v, *c);
}

TEST(KMeans1D, HandComputedTwoGroupsAndDefaultK) {
  const std::vector<double> v = {0.0, 0.1, 0.9, 1.0};
  auto two = kmeans_1d(v, 2);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->labels, (std::vector<int>{0, 0, 1, 1}));
  EXPECT_NEAR(two->within_ss, 0.01, 1e-12);
  auto dflt = kmeans_1d(v);  // k = 3: the optimum splits one pair (0.0|0.1 and 0.9|1.0 tie)
  ASSERT_TRUE(dflt.ok());
  EXPECT_EQ(dflt->k(), 3);
  EXPECT_NEAR(dflt->within_ss, 0.005, 1e-12);
}

TEST(KMeans1D, SeparatesCloseSimilaritiesNearOne) {
  // Real similarities differ in the 4th-6th decimal; the shifted prefix sums must still see it.
  const std::vector<double> v = {0.999001, 0.999999, 0.999002, 0.999510, 0.999003, 0.999520};
  auto c = kmeans_1d(v, 3);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->labels, (std::vector<int>{0, 2, 0, 1, 0, 1}));
  expect_well_formed(v, *c);
}

TEST(KMeans1D, MatchesBruteForceOnRandomInputs) {
  std::mt19937 rng(2024);
  std::uniform_real_distribution<double> u(0.5, 1.0);
  std::uniform_int_distribution<int> len(1, 10), kdist(1, 5), coarse(0, 4);
  for (int trial = 0; trial < 300; ++trial) {
    const int n = len(rng), k = kdist(rng);
    std::vector<double> v(n);
    // Every third trial draws from five values so duplicates and "fewer distinct than k" occur.
    for (auto& x : v) x = trial % 3 == 0 ? 0.5 + 0.1 * coarse(rng) : u(rng);
    auto c = kmeans_1d(v, k);
    ASSERT_TRUE(c.ok());
    std::vector<double> distinct = v;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    const int expected_k = std::min<int>(k, static_cast<int>(distinct.size()));
    EXPECT_EQ(c->k(), expected_k);
    EXPECT_NEAR(c->within_ss, brute_force_min_ss(v, expected_k), 1e-9) << "trial " << trial;
    expect_well_formed(v, *c);
  }
}

TEST(KMeans1D, DeterministicAndOrderIndependent) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0.8, 1.0);
  std::vector<double> v(32);
  for (auto& x : v) x = u(rng);
  auto a = kmeans_1d(v, 3), b = kmeans_1d(v, 3);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->labels, b->labels);
  EXPECT_EQ(a->centers, b->centers);
  // Shuffling the input moves labels with their values and changes nothing else.
  std::vector<int> order(v.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<double> shuffled;
  for (int i : order) shuffled.push_back(v[i]);
  auto s = kmeans_1d(shuffled, 3);
  ASSERT_TRUE(s.ok());
  for (std::size_t i = 0; i < order.size(); ++i) EXPECT_EQ(s->labels[i], a->labels[order[i]]);
  EXPECT_EQ(s->centers, a->centers);
}

TEST(KMeans1D, FewerDistinctValuesThanKGiveFewerClusters) {
  auto two = kmeans_1d(std::vector<double>{5, 7, 5, 7}, 3);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->k(), 2);
  EXPECT_EQ(two->labels, (std::vector<int>{0, 1, 0, 1}));
  EXPECT_EQ(two->within_ss, 0.0);
  auto one = kmeans_1d(std::vector<double>{0.9, 0.9, 0.9}, 3);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->k(), 1);
  EXPECT_EQ(one->labels, (std::vector<int>{0, 0, 0}));
  auto single = kmeans_1d(std::vector<double>{0.4}, 3);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->centers, std::vector<double>{0.4});
}

TEST(KMeans1D, RejectsBadInput) {
  EXPECT_FALSE(kmeans_1d(std::vector<double>{}, 3).ok());
  auto k0 = kmeans_1d(std::vector<double>{1, 2}, 0);
  ASSERT_FALSE(k0.ok());
  EXPECT_NE(k0.error().message.find("at least 1"), std::string::npos);
  auto nan = kmeans_1d(std::vector<double>{1, std::nan(""), 2}, 2);
  ASSERT_FALSE(nan.ok());
  EXPECT_NE(nan.error().message.find("value 1"), std::string::npos) << nan.error().message;
  EXPECT_EQ(nan.error().code, 2);
  EXPECT_FALSE(kmeans_1d(std::vector<double>{1, INFINITY}, 2).ok());
}

}  // namespace
