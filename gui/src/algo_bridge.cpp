// Bridge to squeeze::core's clustering and budgets.
// TEMPORARY: until core/clustering.hpp and core/layer_budget.hpp land, a local copy of the
// DESIGN.md §2 algorithm so that the views can be built; replaced by calls into core.
#include "squeeze/gui/detail/algo_bridge.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace squeeze::gui::detail {

core::Result<Clustered> cluster_values(const std::vector<double>& values, int k) {
  if (values.empty()) return core::make_error("nothing to cluster");
  if (k < 1) return core::make_error("k must be at least 1");
  std::vector<int> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return values[static_cast<std::size_t>(a)] < values[static_cast<std::size_t>(b)]; });
  std::vector<double> v(values.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = values[static_cast<std::size_t>(order[i])];
  std::vector<double> distinct = v;
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  const int kk = std::min<int>(k, static_cast<int>(distinct.size()));
  const int n = static_cast<int>(v.size());
  std::vector<double> s1(static_cast<std::size_t>(n) + 1, 0), s2(static_cast<std::size_t>(n) + 1, 0);
  for (int i = 0; i < n; ++i) {
    s1[static_cast<std::size_t>(i) + 1] = s1[static_cast<std::size_t>(i)] + v[static_cast<std::size_t>(i)];
    s2[static_cast<std::size_t>(i) + 1] = s2[static_cast<std::size_t>(i)] + v[static_cast<std::size_t>(i)] * v[static_cast<std::size_t>(i)];
  }
  auto cost = [&](int a, int b) {  // SSE of v[a..b)
    const double s = s1[static_cast<std::size_t>(b)] - s1[static_cast<std::size_t>(a)];
    const double q = s2[static_cast<std::size_t>(b)] - s2[static_cast<std::size_t>(a)];
    return std::max(0.0, q - s * s / (b - a));
  };
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<std::vector<double>> dp(static_cast<std::size_t>(kk) + 1, std::vector<double>(static_cast<std::size_t>(n) + 1, inf));
  std::vector<std::vector<int>> cut(static_cast<std::size_t>(kk) + 1, std::vector<int>(static_cast<std::size_t>(n) + 1, 0));
  dp[0][0] = 0;
  for (int c = 1; c <= kk; ++c)
    for (int j = c; j <= n; ++j)
      for (int i = c - 1; i < j; ++i) {
        // Equal values must share a cluster: never cut between two equal values.
        if (i > 0 && v[static_cast<std::size_t>(i) - 1] == v[static_cast<std::size_t>(i)]) continue;
        const double d = dp[static_cast<std::size_t>(c) - 1][static_cast<std::size_t>(i)] + cost(i, j);
        if (d < dp[static_cast<std::size_t>(c)][static_cast<std::size_t>(j)]) {
          dp[static_cast<std::size_t>(c)][static_cast<std::size_t>(j)] = d;
          cut[static_cast<std::size_t>(c)][static_cast<std::size_t>(j)] = i;
        }
      }
  Clustered out;
  out.labels.assign(values.size(), 0);
  out.centers.assign(static_cast<std::size_t>(kk), 0);
  int j = n;
  for (int c = kk; c >= 1; --c) {
    const int i = cut[static_cast<std::size_t>(c)][static_cast<std::size_t>(j)];
    out.centers[static_cast<std::size_t>(c) - 1] = (s1[static_cast<std::size_t>(j)] - s1[static_cast<std::size_t>(i)]) / (j - i);
    for (int t = i; t < j; ++t) out.labels[static_cast<std::size_t>(order[static_cast<std::size_t>(t)])] = c - 1;
    j = i;
  }
  return out;
}

core::Result<std::vector<int>> squeeze_budgets(const LayerImportance& layers, int uniform_budget,
                                               double p) {
  const int L = layers.n_layers();
  if (uniform_budget < 1) return core::make_error("budget must be at least 1 token");
  std::vector<int> out(static_cast<std::size_t>(L), uniform_budget);
  if (layers.unimportant_cluster < 0) return out;
  const int small = std::max(1, static_cast<int>(std::floor(p * uniform_budget)));
  std::vector<int> others;
  int n_unimportant = 0;
  for (int l = 0; l < L; ++l) {
    if (layers.is_unimportant(l)) {
      out[static_cast<std::size_t>(l)] = small;
      ++n_unimportant;
    } else {
      others.push_back(l);
    }
  }
  if (others.empty()) return out;
  const std::int64_t remainder = static_cast<std::int64_t>(L) * uniform_budget -
                                 static_cast<std::int64_t>(n_unimportant) * small;
  const auto base = remainder / static_cast<std::int64_t>(others.size());
  auto extra = remainder % static_cast<std::int64_t>(others.size());
  // Extra tokens to the most important (lowest similarity) layers first.
  std::stable_sort(others.begin(), others.end(), [&](int a, int b) {
    return layers.mean[static_cast<std::size_t>(a)] < layers.mean[static_cast<std::size_t>(b)];
  });
  for (int l : others) out[static_cast<std::size_t>(l)] = static_cast<int>(base + (extra-- > 0 ? 1 : 0));
  return out;
}

}  // namespace squeeze::gui::detail
