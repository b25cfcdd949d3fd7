#pragma once
// Device memory of a serving configuration on one GPU (DESIGN.md §5), following the allocation
// rule of the project's CUDA engine (profiler/cuda/cuda_engine.cpp) buffer by buffer:
//
//   weights                      parameter_count x dtype / tp
//   activation workspace         (rows) x the engine's per-token buffers (fp32 residual, qkv,
//                                gate_up; bf16 norm, q, attention, SwiGLU; cosines; token metadata),
//                                rows = batch x prompt (online) or batch x chunk (calibrated);
//                                grow-only: sized for the largest prefill the engine has seen
//   decode workspace             batch x (last rows, fp32 logits, split-KV attention partials,
//                                H2O logits over the largest layer capacity)
//   KV arena of layer l          batch x kv_heads x capacity_l x (K + V + int32 slot position
//                                [+ fp64 H2O score]) + 6 int32 per row;
//                                capacity_l = min(cap_l, prompt + gen) with budgets,
//                                prompt + decode_reserve (256) grown by doubling with full cache
//   online prefill               every layer's full-prompt K/V (+ fp64 H2O column sums) is held
//                                while the arenas are built layer by layer, so the peak is
//                                max over l of  sum_{j<=l} arena_j + sum_{j>=l} prompt KV_j
//                                (+ layer l's int32 compaction map)
//   calibrated (chunked) prefill arenas plus one chunk of new K/V per layer (modelled; the engine
//                                only runs online)
//   + overhead                   constant + per sequence + per batch x prompt token, fitted on the
//                                measured peaks of a trace (what the rule above does not cover)
//
// The peak of a run is the largest of these moments. The workspace is grow-only inside one
// engine: by default (a fresh engine warmed up on the same configuration, as the capture does)
// it is the run's own; ResidentWorkspace states what an engine kept from earlier, larger runs.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "squeeze/core/model_config.hpp"
#include "squeeze/sim/gpu_spec.hpp"
#include "squeeze/sim/scenario.hpp"

namespace squeeze::sim {

// Overhead beyond the allocation rule, fitted on measured peaks by least squares:
//   measured peak - modelled peak = constant + per_sequence x batch + per_token x batch x prompt
// (terms the runs cannot separate are left at 0; see fit_workspace).
struct WorkspaceFit {
  double constant_bytes = 0;       // e.g. fp32 norm weights, small engine buffers
  double per_sequence_bytes = 0;   // per sequence of the batch
  double per_token_bytes = 0;      // per prompt token of the batch (batch x prompt)
  int runs_used = 0;               // 0: nothing measured, the allocation rule alone
  [[nodiscard]] double at(int batch, int prompt_len) const {
    return constant_bytes + per_sequence_bytes * batch + per_token_bytes * double(batch) * prompt_len;
  }
};

// Least squares of residual_bytes over (1, batch, batch x prompt). A term whose column is
// (nearly) a combination of the earlier ones, or that the number of runs cannot support (at
// least one more run than terms), is dropped: one run, or runs of one batch and one prompt
// length, fit the constant only.
[[nodiscard]] WorkspaceFit fit_workspace(std::span<const int> batch, std::span<const int> prompt_len,
                                         std::span<const double> residual_bytes);

// Constants of the engine's allocation rule.
struct EngineMemoryRule {
  int full_decode_reserve = 256;  // full cache: decode slots allocated beyond the prompt
  int attention_splits = 128;     // split-KV decode attention partials per (sequence, head)
};

// Workspace an engine holds when a run starts (grow-only across the runs it served).
struct ResidentWorkspace {
  std::int64_t tokens = 0;  // activation rows
  int batch = 0;            // decode rows
  int capacity = 0;         // largest layer capacity (sizes the H2O logits)
};

struct MemoryBreakdown {
  std::int64_t weights_bytes = 0;
  std::int64_t kv_bytes = 0;           // KV held at the peak: arenas (+ prompt caches in prefill)
  std::int64_t activation_bytes = 0;   // activation + decode workspace (+ H2O column sums,
                                       // compaction map) held at the peak
  std::int64_t workspace_bytes = 0;    // fitted overhead
  std::int64_t total_bytes = 0;
  bool prefill_is_peak = false;        // the peak happens during prefill / compaction
};

struct MemoryPlan {
  MemoryBreakdown peak;
  std::int64_t decode_kv_bytes = 0;    // KV tokens held at the end of the generation (K and V
                                       // only, no slot reserve: what the budgets keep)
  std::int64_t usable_bytes = 0;       // GPU memory x (1 - reserve)
  bool fits = false;
  int max_batch = 0;                   // 0: not even one sequence fits
  std::string limit;                   // why max_batch is what it is, in words
};

class MemoryPlanner {
 public:
  MemoryPlanner(core::ModelConfig model, WorkspaceFit workspace, double reserve_fraction = 0.05,
                EngineMemoryRule rule = {});

  [[nodiscard]] std::int64_t weights_bytes(int tp) const;
  // The engine's activation workspace for `tokens` rows, and its decode workspace.
  [[nodiscard]] std::int64_t activation_workspace_bytes(std::int64_t tokens, int tp) const;
  [[nodiscard]] std::int64_t decode_workspace_bytes(int batch, int capacity, int tp) const;
  // Layer capacities (slots per sequence) at the end of the run, and the full-cache capacity
  // right after prefill.
  [[nodiscard]] std::vector<int> layer_capacities(const Scenario& s, std::span<const int> caps) const;
  [[nodiscard]] int full_initial_capacity(int prompt_len) const;
  // Activation rows of one prefill (batch x prompt, or batch x chunk in calibrated mode).
  [[nodiscard]] static std::int64_t prefill_rows(const Scenario& s);

  // Peak of the run on an engine that holds `resident` when it starts; none: a fresh engine
  // warmed up on this same configuration (the workspace is the run's own).
  [[nodiscard]] MemoryBreakdown peak(const Scenario& s, std::span<const int> caps,
                                     const std::optional<ResidentWorkspace>& resident = {}) const;
  // The workspace the engine holds after this run (before: what it held when the run started).
  [[nodiscard]] ResidentWorkspace workspace_after(const Scenario& s, std::span<const int> caps,
                                                  const ResidentWorkspace& before) const;
  // Peak at s.batch, plus the max batch for the same scenario on `gpu`.
  [[nodiscard]] MemoryPlan plan(const Scenario& s, std::span<const int> caps, const GpuSpec& gpu) const;
  [[nodiscard]] int max_batch(Scenario s, std::span<const int> caps, const GpuSpec& gpu) const;

  [[nodiscard]] const WorkspaceFit& workspace() const { return workspace_; }
  [[nodiscard]] double reserve_fraction() const { return reserve_; }
  [[nodiscard]] const core::ModelConfig& model() const { return model_; }
  [[nodiscard]] const EngineMemoryRule& rule() const { return rule_; }

 private:
  [[nodiscard]] double activation_workspace(double tokens, int tp) const;
  [[nodiscard]] double decode_workspace(double batch, int capacity, int tp) const;

  core::ModelConfig model_;
  WorkspaceFit workspace_;
  double reserve_;
  EngineMemoryRule rule_;
};

// Tokens per sequence held summed over layers, in the decode and prefill phases (K and V only).
[[nodiscard]] std::int64_t decode_kv_tokens(std::span<const int> caps, int prompt_len, int gen_len);
[[nodiscard]] std::int64_t prefill_kv_tokens(std::span<const int> caps, int prompt_len,
                                             CacheMode mode, int chunk);

}  // namespace squeeze::sim
