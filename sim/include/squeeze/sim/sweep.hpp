#pragma once
// A grid of configurations evaluated fast: hardware x policy x budget x p x batch x prompt x gen.
// Everything that does not change inside the grid is computed once and reused: per (GPU, batch)
// decode cost tables with prefix sums over KV length, per (GPU, batch, prompt) prefill times,
// per (budget, p, prompt) layer caps. A configuration then costs O(layers) for memory and one
// longest-path pass over the compiled step graph.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "squeeze/core/kv_policy.hpp"
#include "squeeze/core/result.hpp"
#include "squeeze/sim/scenario.hpp"
#include "squeeze/sim/session.hpp"

namespace squeeze::sim {

struct SweepSpec {
  std::vector<std::string> hardware;          // hardware-table names
  std::vector<core::PolicyKind> policies;     // full, window, streaming, h2o
  std::vector<BudgetSpec> budgets;            // for the budgeted policies
  std::vector<double> ps;                     // squeeze p values; uniform is always included
  std::vector<int> batches;                   // 0 = each configuration's max batch
  std::vector<int> prompt_lens;
  std::vector<int> gen_lens;
  CacheMode mode = CacheMode::Online;
  int prefill_chunk = 512;
  int tp = 1;
};

struct SweepRow {
  int hardware = 0;                 // index into SweepSpec::hardware
  Allocation allocation = Allocation::Full;
  core::PolicyKind policy = core::PolicyKind::Full;
  int budget = -1;                  // index into SweepSpec::budgets; -1 for full
  double p = 1.0;                   // 1 unless squeeze
  int uniform_budget_tokens = 0;
  int batch = 0;
  int prompt_len = 0;
  int gen_len = 0;
  bool fits = false;
  int max_batch = 0;
  std::int64_t kv_bytes = 0;        // decode KV at the end of generation
  std::int64_t peak_bytes = 0;
  double step_ms = 0;
  double tokens_per_s = 0;
  double ttft_ms = 0;
};

class SweepEngine {
 public:
  [[nodiscard]] static core::Result<SweepEngine> create(const PlanningSession& session, SweepSpec spec);

  // Number of rows run() will produce (full cache rows do not repeat over budgets and p).
  [[nodiscard]] std::int64_t row_count() const;
  // Calls `emit` for every configuration; rows that cannot be planned (a budget below one
  // token for a short prompt, max batch 0 with 'max') are emitted with fits = false and no times.
  [[nodiscard]] core::Status run(const std::function<void(const SweepRow&)>& emit);

  [[nodiscard]] const SweepSpec& spec() const { return spec_; }

  SweepEngine(SweepEngine&&) noexcept;
  SweepEngine& operator=(SweepEngine&&) noexcept;
  ~SweepEngine();
  struct Impl;

 private:
  explicit SweepEngine(std::unique_ptr<Impl> impl, SweepSpec spec);
  std::unique_ptr<Impl> impl_;
  SweepSpec spec_;
};

// "full,window,h2o" -> kinds; errors (code 2) name the bad entry.
[[nodiscard]] core::Result<std::vector<core::PolicyKind>> parse_policy_list(const std::string& text);
[[nodiscard]] core::Result<std::vector<BudgetSpec>> parse_budget_list(const std::string& text);
[[nodiscard]] core::Result<std::vector<double>> parse_p_list(const std::string& text);
[[nodiscard]] core::Result<std::vector<int>> parse_length_list(const std::string& text, const char* what);

}  // namespace squeeze::sim
