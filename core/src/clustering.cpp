#include "squeeze/core/clustering.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

namespace squeeze::core {

namespace {

// Distinct sorted values with their multiplicities, shifted by the overall mean so that the
// prefix-sum cost formula does not lose the small differences between similarities near 1.
struct WeightedValues {
  std::vector<double> original;  // distinct, ascending, as given
  std::vector<double> value;     // the same, shifted
  std::vector<double> count;
  double shift = 0.0;
};

WeightedValues group_distinct(std::span<const double> values) {
  std::map<double, int> counts;
  double sum = 0.0;
  for (double v : values) {
    ++counts[v];
    sum += v;
  }
  WeightedValues w;
  w.shift = sum / static_cast<double>(values.size());
  for (const auto& [v, c] : counts) {
    w.original.push_back(v);
    w.value.push_back(v - w.shift);
    w.count.push_back(c);
  }
  return w;
}

// Within-group sum of squares of distinct values [a, b), from prefix sums of w, w*x, w*x^2.
class SegmentCost {
 public:
  explicit SegmentCost(const WeightedValues& w) : n_(w.count.size() + 1), s0_(n_), s1_(n_), s2_(n_) {
    for (std::size_t i = 0; i < w.count.size(); ++i) {
      s0_[i + 1] = s0_[i] + w.count[i];
      s1_[i + 1] = s1_[i] + w.count[i] * w.value[i];
      s2_[i + 1] = s2_[i] + w.count[i] * w.value[i] * w.value[i];
    }
  }
  [[nodiscard]] double cost(std::size_t a, std::size_t b) const {
    const double n = s0_[b] - s0_[a], s = s1_[b] - s1_[a], q = s2_[b] - s2_[a];
    return std::max(0.0, q - s * s / n);
  }
  [[nodiscard]] double mean(std::size_t a, std::size_t b) const {
    return (s1_[b] - s1_[a]) / (s0_[b] - s0_[a]);
  }

 private:
  std::size_t n_;
  std::vector<double> s0_, s1_, s2_;
};

}  // namespace

Result<Clustering> kmeans_1d(std::span<const double> values, int k) {
  if (values.empty()) return make_error("k-means: no values to cluster", 2);
  if (k < 1) return make_error(fmt::format("k-means: the number of clusters must be at least 1, got {}", k), 2);
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      return make_error(fmt::format("k-means: value {} is {} (every value must be finite)", i, values[i]), 2);

  const WeightedValues w = group_distinct(values);
  const SegmentCost seg(w);
  const std::size_t m = w.value.size();
  const std::size_t kk = std::min<std::size_t>(static_cast<std::size_t>(k), m);

  // best[c][j]: minimum cost of the first j distinct values in c groups; cut[c][j]: where the
  // last of those groups starts. Strict '<' keeps the earliest cut among equal costs.
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<std::vector<double>> best(kk + 1, std::vector<double>(m + 1, inf));
  std::vector<std::vector<std::size_t>> cut(kk + 1, std::vector<std::size_t>(m + 1, 0));
  best[0][0] = 0.0;
  for (std::size_t c = 1; c <= kk; ++c) {
    for (std::size_t j = c; j <= m; ++j) {
      for (std::size_t i = c - 1; i < j; ++i) {
        const double d = best[c - 1][i] + seg.cost(i, j);
        if (d < best[c][j]) {
          best[c][j] = d;
          cut[c][j] = i;
        }
      }
    }
  }

  // Walk the cuts back: group c-1 covers distinct values [cut, end).
  std::vector<int> label_of_distinct(m, 0);
  Clustering out;
  out.centers.assign(kk, 0.0);
  out.sizes.assign(kk, 0);
  out.within_ss = best[kk][m];
  std::size_t end = m;
  for (std::size_t c = kk; c >= 1; --c) {
    const std::size_t start = cut[c][end];
    out.centers[c - 1] = seg.mean(start, end) + w.shift;
    for (std::size_t i = start; i < end; ++i) label_of_distinct[i] = static_cast<int>(c - 1);
    end = start;
  }
  out.labels.reserve(values.size());
  for (double v : values) {
    const auto it = std::lower_bound(w.original.begin(), w.original.end(), v);
    const int label = label_of_distinct[static_cast<std::size_t>(it - w.original.begin())];
    out.labels.push_back(label);
    ++out.sizes[static_cast<std::size_t>(label)];
  }
  return out;
}

}  // namespace squeeze::core
