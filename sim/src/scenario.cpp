#include "squeeze/sim/scenario.hpp"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "squeeze/core/layer_budget.hpp"
#include "squeeze/sim/step_model.hpp"

namespace squeeze::sim {

const char* allocation_name(Allocation a) {
  switch (a) {
    case Allocation::Full: return "full";
    case Allocation::Uniform: return "uniform";
    case Allocation::Squeeze: return "squeeze";
  }
  return "?";
}

const char* cache_mode_name(CacheMode m) { return m == CacheMode::Online ? "online" : "calibrated"; }

core::Result<CacheMode> parse_cache_mode(const std::string& name) {
  if (name == "online") return CacheMode::Online;
  if (name == "calibrated") return CacheMode::Calibrated;
  return core::make_error(fmt::format("unknown mode '{}' (expected online or calibrated)", name), 2);
}

core::Result<BudgetSpec> parse_budget(const std::string& text) {
  std::string number = text;
  bool tokens = false;
  if (!number.empty() && (number.back() == 't' || number.back() == 'T')) {
    tokens = true;
    number.pop_back();
  }
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (number.empty() || end == nullptr || *end != '\0' || !std::isfinite(value))
    return core::make_error(fmt::format("budget '{}' is not a number (use 0.2 for a fraction of "
                                        "the prompt or 512 / 512t for tokens)", text), 2);
  if (!(value > 0))
    return core::make_error(fmt::format("budget must be positive, got '{}'", text), 2);
  if (value >= 1.0 && !tokens && value != std::floor(value))
    return core::make_error(fmt::format("budget '{}': a fraction must be in (0, 1); tokens must "
                                        "be a whole number", text), 2);
  return BudgetSpec{value, !tokens && value < 1.0};
}

std::string budget_label(const BudgetSpec& b) {
  return b.is_fraction ? fmt::format("{:g}", b.value) : fmt::format("{}t", static_cast<long>(b.value));
}

core::Status validate_scenario(const Scenario& s) {
  auto bad = [](std::string message) { return core::make_error(std::move(message), 2); };
  if (s.batch < 1) return bad(fmt::format("batch must be at least 1, got {}", s.batch));
  if (s.prompt_len < 1) return bad(fmt::format("prompt length must be at least 1, got {}", s.prompt_len));
  if (s.gen_len < 1) return bad(fmt::format("generation length must be at least 1, got {}", s.gen_len));
  if (s.tp < 1) return bad(fmt::format("--tp must be at least 1, got {}", s.tp));
  if (s.mode == CacheMode::Calibrated && s.prefill_chunk < 1)
    return bad(fmt::format("prefill chunk must be at least 1, got {}", s.prefill_chunk));
  if (s.allocation != Allocation::Full) {
    if (!(s.budget.value > 0)) return bad(fmt::format("budget must be positive, got {}", s.budget.value));
    if (s.policy == core::PolicyKind::Full)
      return bad("a budgeted allocation needs a sequence policy: window, streaming or h2o");
  }
  if (s.allocation == Allocation::Squeeze && !(s.p > 0 && s.p <= 1))
    return bad(fmt::format("p must be in (0, 1], got {}", s.p));
  return {};
}

core::Result<KvPlan> plan_kv(const Scenario& s, int n_layers, std::span<const double> similarities) {
  SQZ_CHECK(validate_scenario(s));
  KvPlan plan;
  if (s.allocation == Allocation::Full) {
    plan.caps.assign(static_cast<std::size_t>(n_layers), kUnboundedCap);
    return plan;
  }
  int budget = 0;
  if (s.budget.is_fraction) {
    SQZ_TRY(b, core::budget_from_fraction(s.budget.value, s.prompt_len));
    budget = b;
  } else {
    budget = static_cast<int>(s.budget.value);
  }
  plan.uniform_budget = budget;
  if (s.allocation == Allocation::Uniform) {
    plan.caps.assign(static_cast<std::size_t>(n_layers), budget);
    return plan;
  }
  if (static_cast<int>(similarities.size()) != n_layers)
    return core::make_error(fmt::format("squeeze budgets need one similarity per layer: have {}, "
                                        "model has {} layers", similarities.size(), n_layers));
  SQZ_TRY(budgets, core::squeeze_budgets(similarities, budget, s.p, s.clusters));
  plan.caps = std::move(budgets.budgets);
  plan.unimportant = std::move(budgets.unimportant);
  return plan;
}

}  // namespace squeeze::sim
