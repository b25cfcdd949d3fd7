#pragma once
// The one place where the GUI calls squeeze::core's clustering and budget code, so that an API
// change there touches one file here.

#include <vector>

#include "squeeze/core/result.hpp"
#include "squeeze/gui/analysis.hpp"

namespace squeeze::gui::detail {

struct Clustered {
  std::vector<int> labels;     // per value, 0..k-1 by ascending center
  std::vector<double> centers; // ascending
};

[[nodiscard]] core::Result<Clustered> cluster_values(const std::vector<double>& values, int k);

// Per-layer SqueezeAttention budgets for uniform budget B and fraction p (DESIGN.md §2), from
// the layers' mean similarities clustered into `clusters` groups.
[[nodiscard]] core::Result<std::vector<int>> squeeze_budgets(const LayerImportance& layers,
                                                             int uniform_budget, double p,
                                                             int clusters);

}  // namespace squeeze::gui::detail
