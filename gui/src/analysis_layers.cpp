// Layer importance and budgets for the views: statistics over prompts here, clustering and
// budgets delegated to squeeze::core.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "squeeze/gui/analysis.hpp"
#include "squeeze/gui/detail/algo_bridge.hpp"

namespace squeeze::gui {

int AnalysisParams::uniform_budget() const {
  int b = unit == BudgetUnit::Fraction
              ? static_cast<int>(std::lround(budget_fraction * static_cast<double>(prompt_len)))
              : budget_tokens;
  return std::clamp(b, 1, std::max(1, prompt_len));
}

namespace {

// Jaccard index of two layer sets; two empty sets agree fully.
double jaccard(const std::set<int>& a, const std::set<int>& b) {
  if (a.empty() && b.empty()) return 1.0;
  int inter = 0;
  for (int x : a) inter += b.count(x) ? 1 : 0;
  const auto uni = a.size() + b.size() - static_cast<std::size_t>(inter);
  return static_cast<double>(inter) / static_cast<double>(uni);
}

std::set<int> unimportant_set(const std::vector<int>& labels, int n_clusters) {
  std::set<int> out;
  if (n_clusters < 2) return out;
  for (std::size_t l = 0; l < labels.size(); ++l)
    if (labels[l] == n_clusters - 1) out.insert(static_cast<int>(l));
  return out;
}

}  // namespace

core::Result<LayerImportance> analyze_layers(const core::SimilarityMatrix& sims, int clusters) {
  if (sims.n_layers <= 0 || sims.rows() == 0)
    return core::make_error("the trace holds no layer similarities");
  if (clusters < 1) return core::make_error("cluster count must be at least 1");
  LayerImportance out;
  const auto n = static_cast<std::size_t>(sims.n_layers);
  out.mean.assign(n, 0.0);
  out.lo.assign(n, std::numeric_limits<double>::infinity());
  out.hi.assign(n, -std::numeric_limits<double>::infinity());
  std::vector<int> counts(n, 0);
  for (int r = 0; r < sims.rows(); ++r) {
    for (int l = 0; l < sims.n_layers; ++l) {
      const double v = sims.value(r, l);
      if (std::isnan(v)) continue;  // a prompt captured only partly
      const auto i = static_cast<std::size_t>(l);
      out.mean[i] += v;
      out.lo[i] = std::min(out.lo[i], v);
      out.hi[i] = std::max(out.hi[i], v);
      ++counts[i];
    }
  }
  for (std::size_t l = 0; l < n; ++l) {
    if (counts[l] == 0)
      return core::make_error("layer " + std::to_string(l) + " has no similarity in any prompt");
    out.mean[l] /= counts[l];
  }
  out.prompts = sims.rows();

  SQZ_TRY(clustered, detail::cluster_values(out.mean, clusters));
  out.cluster = std::move(clustered.labels);
  out.centers = std::move(clustered.centers);
  out.n_clusters = static_cast<int>(out.centers.size());
  out.unimportant_cluster = out.n_clusters >= 2 ? out.n_clusters - 1 : -1;

  // Agreement: does each prompt alone pick the same unimportant layers as the average?
  const auto reference = unimportant_set(out.cluster, out.n_clusters);
  double sum = 0;
  int used = 0;
  for (int r = 0; r < sims.rows(); ++r) {
    std::vector<double> row(n);
    bool complete = true;
    for (int l = 0; l < sims.n_layers; ++l) {
      row[static_cast<std::size_t>(l)] = sims.value(r, l);
      complete = complete && !std::isnan(row[static_cast<std::size_t>(l)]);
    }
    if (!complete) continue;
    auto own = detail::cluster_values(row, clusters);
    if (!own.ok()) continue;
    sum += jaccard(reference, unimportant_set(own->labels, static_cast<int>(own->centers.size())));
    ++used;
  }
  out.agreement = used > 0 ? sum / used : 1.0;
  return out;
}

core::Result<BudgetPlan> plan_budgets(const LayerImportance& layers, const AnalysisParams& params) {
  if (layers.n_layers() == 0) return core::make_error("no layers to budget");
  if (!(params.p > 0.0 && params.p <= 1.0))
    return core::make_error("p must be in (0, 1], got " + std::to_string(params.p));
  BudgetPlan plan;
  plan.uniform_budget = params.uniform_budget();
  plan.uniform.assign(static_cast<std::size_t>(layers.n_layers()), plan.uniform_budget);
  SQZ_TRY(squeeze, detail::squeeze_budgets(layers, plan.uniform_budget, params.p, std::max(1, layers.n_clusters)));
  plan.squeeze = std::move(squeeze);
  for (int b : plan.uniform) plan.total_uniform += b;
  for (int b : plan.squeeze) plan.total_squeeze += b;
  return plan;
}

}  // namespace squeeze::gui
