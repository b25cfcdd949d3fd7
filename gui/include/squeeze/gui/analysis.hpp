#pragma once
// The analyses behind every view and the report, as plain functions over plain structs (no Qt),
// so the report, the tests and the window compute exactly the same numbers. They are thin
// adapters: clustering and budgets come from squeeze::core, memory and throughput from
// squeeze::sim; this file only shapes their answers for plotting.

#include <cstdint>
#include <string>
#include <vector>

#include "squeeze/core/result.hpp"
#include "squeeze/gui/snapshot.hpp"

namespace squeeze::gui {

// What the controls panel sets. Every view recomputes from these.
struct AnalysisParams {
  enum class BudgetUnit { Fraction, Tokens };
  BudgetUnit unit = BudgetUnit::Fraction;
  double budget_fraction = 0.2;  // B = round(f * prompt_len) when unit == Fraction
  int budget_tokens = 512;       // B when unit == Tokens
  double p = 0.35;               // unimportant cluster keeps floor(p * B)
  int clusters = 3;
  std::string policy = "h2o";    // eviction policy of budgeted runs: window, streaming, h2o
  std::string mode = "online";   // online (prefill with the full cache) or calibrated
  int prompt_len = 2048;
  int gen_len = 256;
  std::string gpu = "h100-sxm";  // simulator hardware table name
  int max_batch = 1024;          // sweep upper limit (the sweep stops a little past the max batch)

  [[nodiscard]] int uniform_budget() const;  // B in tokens, at least 1, at most prompt_len
};

// Starting knobs for a trace: its first squeeze run's budget, p, policy, mode and lengths, its
// typical prompt length, the GPU it was captured on when the hardware table knows it; the
// rest from `params`.
[[nodiscard]] AnalysisParams params_from_trace(const TraceSnapshot& trace, AnalysisParams params);

// Per-layer similarity over the trace's prompts, and its clusters (DESIGN.md §2).
struct LayerImportance {
  std::vector<double> mean;   // (n_layers) c_l averaged over prompts
  std::vector<double> lo;     // (n_layers) minimum over prompts
  std::vector<double> hi;     // (n_layers) maximum over prompts
  std::vector<int> cluster;   // (n_layers) 0..n_clusters-1 by ascending center
  std::vector<double> centers;
  int n_clusters = 0;
  int unimportant_cluster = -1;  // the highest center; -1 when fewer than 2 clusters
  int prompts = 0;
  // Mean over prompts of the Jaccard agreement between that prompt's own unimportant set and
  // the set from the averaged similarities: 1 = calibrated mode is safe.
  double agreement = 1.0;

  [[nodiscard]] int n_layers() const { return static_cast<int>(mean.size()); }
  [[nodiscard]] bool is_unimportant(int layer) const {
    return unimportant_cluster >= 0 && cluster[static_cast<std::size_t>(layer)] == unimportant_cluster;
  }
};

[[nodiscard]] core::Result<LayerImportance> analyze_layers(const core::SimilarityMatrix& sims,
                                                           int clusters);

// Uniform vs SqueezeAttention budgets per layer (tokens kept per sequence).
struct BudgetPlan {
  int uniform_budget = 0;          // B
  std::vector<int> uniform;        // (n_layers) all B
  std::vector<int> squeeze;        // (n_layers)
  std::int64_t total_uniform = 0;  // sum over layers; equal to total_squeeze by construction
  std::int64_t total_squeeze = 0;
};

[[nodiscard]] core::Result<BudgetPlan> plan_budgets(const LayerImportance& layers,
                                                    const AnalysisParams& params);

// A GPU the capacity views can plan for.
struct GpuChoice {
  std::string name;
  std::int64_t memory_bytes = 0;
  double bandwidth_bytes_per_s = 0;
  double peak_flops = 0;  // dense bf16
};

[[nodiscard]] std::vector<GpuChoice> available_gpus();
[[nodiscard]] core::Result<GpuChoice> find_gpu(const std::string& name);

// Memory and throughput against batch for one GPU (DESIGN.md §5).
struct CapacityCurves {
  GpuChoice gpu;
  std::vector<int> batches;                   // x values, ascending
  std::int64_t weights_bytes = 0;
  std::vector<std::vector<double>> kv_squeeze_by_cluster;  // (clusters, batches) bytes
  std::vector<double> workspace_bytes;        // (batches) activations + fitted workspace
  std::vector<double> total_full;             // (batches) bytes
  std::vector<double> total_uniform;          // (batches)
  std::vector<double> total_squeeze;          // (batches)
  std::vector<double> tput_full;              // (batches) tokens/s; NaN past the memory limit
  std::vector<double> tput_uniform;
  std::vector<double> tput_squeeze;
  int max_batch_full = 0;                     // 0: not even batch 1 fits
  int max_batch_uniform = 0;
  int max_batch_squeeze = 0;
  double tput_at_max_full = 0;
  double tput_at_max_uniform = 0;
  double tput_at_max_squeeze = 0;
  bool prefill_is_peak = false;               // squeeze's peak is the (online) prefill
  std::string method;                         // how the numbers were made, for captions
  std::vector<std::string> notes;             // the simulator's caveats (synthetic trace, ...)
};

[[nodiscard]] core::Result<CapacityCurves> compute_capacity(const TraceSnapshot& trace,
                                                            const LayerImportance& layers,
                                                            const BudgetPlan& plan,
                                                            const AnalysisParams& params);

// The simulator's error on the trace's measured runs.
struct ValidationRow {
  std::string label;
  double measured_tokens_per_s = 0;
  double predicted_tokens_per_s = 0;
  double measured_peak_bytes = 0;
  double predicted_peak_bytes = 0;
};
struct ValidationSummary {
  std::vector<ValidationRow> rows;
  std::string method;
  double mape_tokens_per_s = 0;  // percent
  double mape_peak_bytes = 0;    // percent
};

[[nodiscard]] core::Result<ValidationSummary> validate_runs(const TraceSnapshot& trace);

}  // namespace squeeze::gui
