#include "squeeze/core/layer_budget.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "squeeze/core/clustering.hpp"

namespace squeeze::core {

bool LayerBudgets::is_unimportant(int layer) const {
  return std::binary_search(unimportant.begin(), unimportant.end(), layer);
}

Result<int> budget_from_fraction(double fraction, int prompt_len) {
  if (!std::isfinite(fraction) || fraction <= 0.0)
    return make_error(fmt::format("budget fraction must be a positive number, got {}", fraction), 2);
  if (prompt_len < 1)
    return make_error(fmt::format("prompt length must be at least 1 token, got {}", prompt_len), 2);
  const double tokens = std::round(fraction * prompt_len);
  if (tokens < 1.0)
    return make_error(fmt::format("budget fraction {} of a {}-token prompt rounds to {} tokens; a "
                                  "layer needs at least one", fraction, prompt_len, tokens), 2);
  if (tokens > 1e9) return make_error(fmt::format("budget of {} tokens is too large", tokens), 2);
  return static_cast<int>(tokens);
}

Result<int> squeezed_budget(int uniform_budget, double p) {
  if (!(p > 0.0 && p <= 1.0))
    return make_error(fmt::format("p must be in (0, 1] (the fraction of the uniform budget that "
                                  "unimportant layers keep), got {}", p), 2);
  if (uniform_budget < 1)
    return make_error(fmt::format("uniform budget must be at least 1 token, got {}", uniform_budget), 2);
  // A p given as a ratio of percentages (0.08 / 0.21) lands a few ulps below the integer it
  // means; a relative nudge far below one token recovers it without moving genuine fractions.
  const double exact = p * uniform_budget;
  const int squeezed = static_cast<int>(std::floor(exact * (1.0 + 1e-12)));
  if (squeezed < 1)
    return make_error(fmt::format("p = {} of a budget of {} tokens leaves unimportant layers "
                                  "floor({}) = 0 tokens; a layer with no cache cannot attend "
                                  "(raise p or the budget)", p, uniform_budget, exact), 2);
  return std::min(squeezed, uniform_budget);
}

Result<LayerBudgets> squeeze_budgets(std::span<const double> similarities, int uniform_budget,
                                     double p, int clusters) {
  if (similarities.empty()) return make_error("budgets: no layer similarities given", 2);
  for (std::size_t l = 0; l < similarities.size(); ++l)
    if (!std::isfinite(similarities[l]))
      return make_error(fmt::format("budgets: similarity of layer {} is {} (must be a finite "
                                    "number)", l, similarities[l]), 2);
  SQZ_TRY(squeezed, squeezed_budget(uniform_budget, p));
  SQZ_TRY(clustering, kmeans_1d(similarities, clusters));

  const int n_layers = static_cast<int>(similarities.size());
  LayerBudgets out;
  out.uniform_budget = uniform_budget;
  out.squeezed_budget = squeezed;
  out.p = p;
  out.clusters = clustering.labels;
  out.centers = clustering.centers;
  out.total = std::int64_t{n_layers} * uniform_budget;
  out.budgets.assign(static_cast<std::size_t>(n_layers), uniform_budget);
  if (clustering.k() < 2) return out;  // one cluster: nothing is less important than the rest

  const int top = clustering.k() - 1;
  std::vector<int> important;
  for (int l = 0; l < n_layers; ++l) {
    if (clustering.labels[static_cast<std::size_t>(l)] == top) out.unimportant.push_back(l);
    else important.push_back(l);
  }
  for (int l : out.unimportant) out.budgets[static_cast<std::size_t>(l)] = squeezed;

  // Spread the remainder evenly; the leftover tokens go to the layers that change their input
  // most (lowest similarity), earlier layers first on equal similarity.
  const std::int64_t remainder =
      out.total - std::int64_t{squeezed} * static_cast<std::int64_t>(out.unimportant.size());
  const auto n_important = static_cast<std::int64_t>(important.size());
  if (remainder / n_important + 1 > std::numeric_limits<int>::max())
    return make_error(fmt::format("budgets: {} tokens over {} important layers overflow a "
                                  "per-layer budget", remainder, n_important), 2);
  const auto base = static_cast<int>(remainder / n_important);
  const auto extra = remainder % n_important;
  std::stable_sort(important.begin(), important.end(), [&](int a, int b) {
    return similarities[static_cast<std::size_t>(a)] < similarities[static_cast<std::size_t>(b)];
  });
  for (std::int64_t i = 0; i < n_important; ++i)
    out.budgets[static_cast<std::size_t>(important[static_cast<std::size_t>(i)])] =
        base + (i < extra ? 1 : 0);
  return out;
}

}  // namespace squeeze::core
