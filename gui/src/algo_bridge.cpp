// Bridge to squeeze::core's clustering (kmeans_1d) and budgets (squeeze_budgets).
#include "squeeze/gui/detail/algo_bridge.hpp"

#include "squeeze/core/clustering.hpp"
#include "squeeze/core/layer_budget.hpp"

namespace squeeze::gui::detail {

core::Result<Clustered> cluster_values(const std::vector<double>& values, int k) {
  SQZ_TRY(c, core::kmeans_1d(values, k));
  return Clustered{std::move(c.labels), std::move(c.centers)};
}

core::Result<std::vector<int>> squeeze_budgets(const LayerImportance& layers, int uniform_budget,
                                               double p, int clusters) {
  SQZ_TRY(b, core::squeeze_budgets(layers.mean, uniform_budget, p, clusters));
  return std::move(b.budgets);
}

}  // namespace squeeze::gui::detail
