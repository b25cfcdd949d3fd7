#pragma once
// Builds the step DAG of a Llama-family decoder and prices it with a CostModel: prefill time
// (TTFT) and the mean decode step over a generation whose per-layer KV lengths grow until each
// layer's budget caps them.

#include <climits>
#include <span>
#include <vector>

#include "squeeze/core/model_config.hpp"
#include "squeeze/core/result.hpp"
#include "squeeze/sim/cost_model.hpp"
#include "squeeze/sim/step_graph.hpp"

namespace squeeze::sim {

// A layer cap that never binds: the full cache.
inline constexpr int kUnboundedCap = INT_MAX / 4;

enum class Phase { Prefill, Decode };

struct StepOptions {
  int tp = 1;                    // tensor-parallel GPUs: sharded GEMMs + 2 all-reduces per layer
  bool h2o_scoring = false;      // H2O accumulates attention scores every decode step
  bool h2o_side_stream = false;  // ... on a second stream, overlapping the next layer
  bool similarity = false;       // prefill computes per-layer cosine similarity (online squeeze)
};

[[nodiscard]] StepGraph build_step_graph(const core::ModelConfig& model, Phase phase,
                                         const StepOptions& options);

// Mean over decode steps t = 1..gen of f(min(cap, prompt + t)) from prefix sums of f:
// prefix[n] = f(1) + ... + f(n). O(1) per layer instead of O(gen).
[[nodiscard]] double mean_over_decode_steps(std::span<const double> prefix, int cap, int prompt,
                                            int gen);

// Per-batch precomputation for fast decode pricing (the sweep reuses it across budgets).
struct DecodeBatchTable {
  int batch = 0;
  int max_kv = 0;
  std::vector<double> fixed_us;          // (nodes) duration of nodes that do not depend on KV
  std::vector<double> attention_prefix;  // (max_kv + 1) prefix sums of decode attention, by kv
  double h2o_base_us = 0;                // H2O scoring is affine in kv: base + per_token * kv
  double h2o_per_token_us = 0;
};

struct StepBreakdown {
  double total_us = 0;                   // longest path
  std::vector<std::pair<NodeCost, double>> by_op;  // summed node durations per op kind
};

class StepTimer {
 public:
  [[nodiscard]] static core::Result<StepTimer> create(const CostModel& cost,
                                                      const core::ModelConfig& model,
                                                      const GpuSpec& gpu, StepOptions options);

  // Duration of one node, launch gap included, for `batch` sequences each feeding `tokens` new
  // tokens, attending over kv_len cached tokens (attention nodes only).
  [[nodiscard]] double node_us(NodeCost cost, int batch, int tokens, int kv_len) const;

  [[nodiscard]] double prefill_us(int batch, int prompt_len) const;
  [[nodiscard]] DecodeBatchTable decode_table(int batch, int max_kv) const;
  // Mean decode step over gen steps; caps[l] = layer l's budget (kUnboundedCap: full cache).
  // The longest path of the mean node durations: exact on one stream (the path is a sum).
  [[nodiscard]] double mean_decode_step_us(const DecodeBatchTable& table, std::span<const int> caps,
                                           int prompt_len, int gen_len, std::span<double> durations,
                                           std::span<double> finish) const;
  [[nodiscard]] StepBreakdown mean_decode_breakdown(int batch, std::span<const int> caps,
                                                    int prompt_len, int gen_len) const;

  [[nodiscard]] const StepGraph& decode_graph() const { return decode_graph_; }
  [[nodiscard]] const StepGraph& prefill_graph() const { return prefill_graph_; }
  [[nodiscard]] int node_count() const { return decode_graph_.size(); }

 private:
  StepTimer(const CostModel& cost, const core::ModelConfig& model, GpuSpec gpu, StepOptions options);
  void fill_decode_durations(const DecodeBatchTable& table, std::span<const int> caps,
                             int prompt_len, int gen_len, std::span<double> durations) const;

  CostModel cost_;
  core::ModelConfig model_;
  GpuSpec gpu_;
  StepOptions options_;
  LayerShapes shapes_;
  StepGraph decode_graph_, prefill_graph_;
  CompiledGraph decode_compiled_, prefill_compiled_;
};

}  // namespace squeeze::sim
