#pragma once
// What is being predicted: a KV allocation (full, uniform budget, SqueezeAttention budgets), a
// sequence policy, a batch, prompt and generation lengths, a prefill mode and tensor parallelism;
// and the per-layer KV caps that follow from it.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "squeeze/core/kv_policy.hpp"
#include "squeeze/core/result.hpp"

namespace squeeze::sim {

enum class Allocation { Full, Uniform, Squeeze };
[[nodiscard]] const char* allocation_name(Allocation a);  // "full", "uniform", "squeeze"

// Online (the paper): prefill with the full cache, then compress. Calibrated: budgets known
// before the prompt, applied during chunked prefill, so the prefill peak is bounded.
enum class CacheMode { Online, Calibrated };
[[nodiscard]] const char* cache_mode_name(CacheMode m);
[[nodiscard]] core::Result<CacheMode> parse_cache_mode(const std::string& name);

// The uniform budget B: a fraction of the prompt (B = round(f * prompt_len)) or tokens.
struct BudgetSpec {
  double value = 0.2;
  bool is_fraction = true;
};
// "0.2" -> fraction 0.2; "512" or "512t" -> 512 tokens. Values >= 1 without a suffix are tokens.
[[nodiscard]] core::Result<BudgetSpec> parse_budget(const std::string& text);
[[nodiscard]] std::string budget_label(const BudgetSpec& b);

struct Scenario {
  Allocation allocation = Allocation::Full;
  core::PolicyKind policy = core::PolicyKind::Full;  // window/streaming/h2o when budgeted
  BudgetSpec budget;
  double p = 0.35;           // SqueezeAttention fraction for the unimportant cluster
  int batch = 1;
  int prompt_len = 512;
  int gen_len = 128;
  CacheMode mode = CacheMode::Online;
  int prefill_chunk = 512;   // calibrated mode: tokens per prefill chunk
  int tp = 1;
  int clusters = 3;
  bool h2o_side_stream = false;  // H2O scoring on a second stream, overlapping the next layer
};

// Per-layer KV caps (tokens per sequence) of a scenario. Full: kUnboundedCap everywhere.
struct KvPlan {
  std::vector<int> caps;          // (layers)
  int uniform_budget = 0;         // B in tokens; 0 for full
  std::vector<int> unimportant;   // squeeze: layers given floor(p * B)
};

// similarities: one per layer of the target model (already resampled); needed for Squeeze only.
[[nodiscard]] core::Result<KvPlan> plan_kv(const Scenario& s, int n_layers,
                                           std::span<const double> similarities);

// Checks ranges a user can get wrong (batch >= 1, lengths >= 1, budget > 0, p in (0, 1], tp >= 1);
// errors carry exit code 2.
[[nodiscard]] core::Status validate_scenario(const Scenario& s);

}  // namespace squeeze::sim
