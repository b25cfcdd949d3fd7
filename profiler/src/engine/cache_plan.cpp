// Backend-independent parts of the engine interface: plan checks, budget resolution, the
// single-sequence conveniences and the device switch.
#include <cmath>

#include <fmt/format.h>

#include "squeeze/core/layer_budget.hpp"
#include "squeeze/profiler/cpu_engine.hpp"
#include "squeeze/profiler/device_info.hpp"
#include "squeeze/profiler/engine.hpp"
#ifdef SQUEEZE_HAVE_CUDA
#include "squeeze/profiler/cuda/cuda_engine.hpp"
#endif

namespace squeeze::profiler {

using core::make_error;
using core::Result;
using core::Status;

Status validate_cache_plan(const CachePlan& plan, int n_layers) {
  if (plan.policy.kind == core::PolicyKind::Full) return {};
  const char* name = core::policy_name(plan.policy.kind);
  if (!plan.layer_budgets.empty()) {
    if (static_cast<int>(plan.layer_budgets.size()) != n_layers)
      return make_error(fmt::format("policy {}: {} layer budgets given for a model of {} layers",
                                    name, plan.layer_budgets.size(), n_layers), 2);
    for (std::size_t l = 0; l < plan.layer_budgets.size(); ++l)
      if (plan.layer_budgets[l] < 1)
        return make_error(fmt::format("policy {}: layer {} budget {} (must be at least 1 token)",
                                      name, l, plan.layer_budgets[l]), 2);
    return {};
  }
  if (plan.budget_tokens < 0)
    return make_error(fmt::format("policy {}: budget of {} tokens (must be positive)", name,
                                  plan.budget_tokens), 2);
  if (plan.budget_tokens == 0 && !(std::isfinite(plan.budget_fraction) && plan.budget_fraction > 0))
    return make_error(fmt::format("policy {} needs a budget: a fraction of the prompt in (0, 1] "
                                  "or tokens (got fraction {})", name, plan.budget_fraction), 2);
  if (!(plan.p > 0 && plan.p <= 1))
    return make_error(fmt::format("p must be in (0, 1], got {}", plan.p), 2);
  if (plan.clusters < 1)
    return make_error(fmt::format("clusters must be at least 1, got {}", plan.clusters), 2);
  return {};
}

Result<std::vector<int>> resolve_layer_budgets(const CachePlan& plan,
                                               std::span<const double> layer_similarity,
                                               int prompt_len) {
  const int n_layers = static_cast<int>(layer_similarity.size());
  SQZ_CHECK(validate_cache_plan(plan, n_layers));
  if (plan.policy.kind == core::PolicyKind::Full) return std::vector<int>{};
  if (!plan.layer_budgets.empty()) return plan.layer_budgets;
  int uniform = plan.budget_tokens;
  if (uniform == 0) {
    SQZ_TRY(b, core::budget_from_fraction(plan.budget_fraction, prompt_len));
    uniform = b;
  }
  if (plan.p >= 1.0) return std::vector<int>(static_cast<std::size_t>(n_layers), uniform);
  SQZ_TRY(budgets, core::squeeze_budgets(layer_similarity, uniform, plan.p, plan.clusters));
  return budgets.budgets;
}

Result<PrefillOutput> Engine::prefill(SequenceId id, std::span<const int> prompt,
                                      const PrefillOptions& options) {
  const SequenceId ids[1] = {id};
  const std::vector<int> prompts[1] = {std::vector<int>(prompt.begin(), prompt.end())};
  SQZ_TRY(outputs, prefill(ids, prompts, options));
  return std::move(outputs.front());
}

Result<std::vector<float>> Engine::decode(SequenceId id, int token) {
  const SequenceId ids[1] = {id};
  const int tokens[1] = {token};
  SQZ_TRY(logits, decode(ids, tokens));
  return std::move(logits.front());
}

Result<std::unique_ptr<Engine>> make_engine(const std::string& device, ModelWeights weights) {
  if (device == "cpu") return make_cpu_engine(std::move(weights));
  if (device == "cuda") {
#ifdef SQUEEZE_HAVE_CUDA
    // Errors (no device, unsupported shape, out of memory) come back from the engine itself.
    SQZ_TRY(engine, make_cuda_engine(std::move(weights)));
    return std::unique_ptr<Engine>(std::move(engine));
#else
    return make_error("--device cuda: this build has no CUDA backend (configure with "
                      "-DSQUEEZE_BUILD_CUDA=ON on a machine with the CUDA toolkit), use --device cpu", 2);
#endif
  }
  return make_error(fmt::format("unknown device '{}' (expected cpu or cuda)", device), 2);
}

}  // namespace squeeze::profiler
