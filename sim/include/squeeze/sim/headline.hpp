#pragma once
// The paper's headline as a planner sees it: on each GPU, full cache, a uniform budget and
// SqueezeAttention budgets each run at their own max batch; how much KV memory squeeze saves and
// how many more tokens per second it serves.

#include <string>
#include <vector>

#include "squeeze/core/result.hpp"
#include "squeeze/sim/predictor.hpp"
#include "squeeze/sim/session.hpp"

namespace squeeze::sim {

struct HeadlineSpec {
  std::vector<std::string> hardware;
  std::vector<CacheMode> modes{CacheMode::Online, CacheMode::Calibrated};
  core::PolicyKind policy = core::PolicyKind::H2O;
  BudgetSpec squeeze_budget{0.2, true};
  BudgetSpec uniform_budget{0.2, true};  // the paper compares squeeze at B with uniform at a larger B
  double p = 0.35;
  int prompt_len = 1024;
  int gen_len = 256;
  int prefill_chunk = 512;
  int tp = 1;
};

struct HeadlineEntry {
  std::string hardware;
  CacheMode mode = CacheMode::Online;
  Prediction full, uniform, squeeze;   // each at its own max batch (batch 1 when it does not fit)
  // KV per sequence at the end of generation, as fractions saved (0.8 = 80 % less).
  double kv_saved_vs_full = 0, kv_saved_vs_uniform = 0;
  // tokens/s ratios at max batch (1.0 = equal; 0 when the baseline does not fit).
  double speedup_vs_full = 0, speedup_vs_uniform = 0;
};

[[nodiscard]] core::Result<std::vector<HeadlineEntry>> compute_headline(const PlanningSession& session,
                                                                       const HeadlineSpec& spec);

}  // namespace squeeze::sim
