#pragma once
// Exact, deterministic 1-D k-means (DESIGN.md §2): the partition of the sorted values into at most
// k contiguous groups with the minimum within-cluster sum of squares, found by dynamic
// programming. Unlike Lloyd's algorithm with random starts (the seed code's scikit-learn KMeans),
// the same input always gives the same clusters.

#include <span>
#include <vector>

#include "squeeze/core/result.hpp"

namespace squeeze::core {

struct Clustering {
  std::vector<int> labels;      // per input value (input order): 0..centers.size()-1
  std::vector<double> centers;  // ascending; label i has center centers[i]
  std::vector<int> sizes;       // members per label
  double within_ss = 0.0;       // total within-cluster sum of squares
  [[nodiscard]] int k() const { return static_cast<int>(centers.size()); }
};

// Clusters `values` into min(k, number of distinct values) groups; equal values always share a
// cluster. Ties between equally good partitions go to the one whose cuts come earliest in sorted
// order. Errors (code 2): no values, a NaN or infinite value (named by index), k < 1.
[[nodiscard]] Result<Clustering> kmeans_1d(std::span<const double> values, int k = 3);

}  // namespace squeeze::core
