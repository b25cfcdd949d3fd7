#pragma once
// The inference engine interface every backend implements (cpu now, cuda later): load weights,
// hold sequences whose per-layer KV caches are sized by that layer's budget, prefill a prompt
// (capturing per-layer attention similarities, DESIGN.md §2), decode tokens, batch > 1 with
// sequences of different lengths.
//
// Online mode (the paper's): prefill attends with the full cache; afterwards the engine computes
// each layer's budget from the plan (fixed budgets, or B from the prompt length and p through the
// similarity clusters) and compresses every layer to its budget through core::LayerKvSelector, so
// which positions are kept is the reference's decision by construction. Decode then evicts
// through the same selector.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "squeeze/core/kv_policy.hpp"
#include "squeeze/core/model_config.hpp"
#include "squeeze/core/result.hpp"
#include "squeeze/profiler/model_weights.hpp"

namespace squeeze::profiler {

using SequenceId = int;

// How one sequence's KV cache is budgeted. Precedence: policy Full keeps everything; otherwise
// explicit layer_budgets are applied as given; otherwise the uniform budget B (budget_tokens when
// > 0, else round(budget_fraction * prompt_len)) is redistributed with p over the similarity
// clusters (p = 1: every layer gets B).
struct CachePlan {
  core::PolicySpec policy;          // kind Full: no eviction, the cache grows with the sequence
  std::vector<int> layer_budgets;   // (n_layers) tokens kept per sequence; empty: derive from B
  double budget_fraction = 0.0;     // B = round(f * prompt_len), at least 1
  int budget_tokens = 0;            // B in tokens; wins over budget_fraction when > 0
  double p = 1.0;                   // unimportant cluster gets floor(p * B); 1 = uniform budgets
  int clusters = 3;                 // k of the 1-D k-means over layer similarities
};

struct PrefillOptions {
  bool position_similarities = false;  // also return s_{l,t} for every prompt position
};

struct PrefillOutput {
  std::vector<float> logits;                          // (vocab) at the last prompt position
  std::vector<double> layer_similarity;               // (n_layers) mean_t cos(x_l, y_l)
  std::vector<std::vector<double>> position_similarity;  // (n_layers, prompt_len) when asked
  std::vector<int> layer_budgets;  // (n_layers) budgets applied after prefill; empty: full cache
};

// What a sequence holds now, for tests, memory reports and the simulator's validation.
struct SequenceInfo {
  int length = 0;                    // tokens seen (prompt + decoded); next position
  std::vector<int> layer_size;       // (n_layers) tokens held per KV head
  std::vector<int> layer_capacity;   // (n_layers) slots allocated (budget; Full: current size)
  std::int64_t kv_bytes = 0;         // K and V bytes actually allocated for this sequence
};

class Engine {
 public:
  virtual ~Engine() = default;

  [[nodiscard]] virtual const core::ModelConfig& config() const = 0;
  [[nodiscard]] virtual std::string device() const = 0;  // "cpu", "cuda:0 (NVIDIA H100 ...)"

  // A new, empty sequence. Errors: a plan that cannot apply (budgets of the wrong length or < 1).
  [[nodiscard]] virtual core::Result<SequenceId> add_sequence(const CachePlan& plan) = 0;
  virtual void release_sequence(SequenceId id) = 0;

  // Prefills each listed sequence (empty, never prefilled) with its prompt; prompts may differ
  // in length. Returns one output per sequence, in order.
  [[nodiscard]] virtual core::Result<std::vector<PrefillOutput>> prefill(
      std::span<const SequenceId> ids, std::span<const std::vector<int>> prompts,
      const PrefillOptions& options) = 0;

  // One token per listed (prefilled) sequence; returns (batch, vocab) logits.
  [[nodiscard]] virtual core::Result<std::vector<std::vector<float>>> decode(
      std::span<const SequenceId> ids, std::span<const int> tokens) = 0;

  [[nodiscard]] virtual core::Result<SequenceInfo> sequence_info(SequenceId id) const = 0;
  // Absolute positions held by one KV head of one layer, ascending.
  [[nodiscard]] virtual core::Result<std::vector<int>> kept_positions(SequenceId id, int layer,
                                                                      int kv_head) const = 0;

  // Single-sequence conveniences over the batched calls.
  [[nodiscard]] core::Result<PrefillOutput> prefill(SequenceId id, std::span<const int> prompt,
                                                    const PrefillOptions& options = {});
  [[nodiscard]] core::Result<std::vector<float>> decode(SequenceId id, int token);
};

// "cpu" always; "cuda" when built with the CUDA backend (otherwise an error with code 2).
[[nodiscard]] core::Result<std::unique_ptr<Engine>> make_engine(const std::string& device,
                                                                ModelWeights weights);

// The budgets a plan gives each layer after a prefill of `prompt_len` tokens with the given
// layer similarities. Empty for policy Full. Every budget is >= 1. Shared by every backend so
// that they budget identically.
[[nodiscard]] core::Result<std::vector<int>> resolve_layer_budgets(
    const CachePlan& plan, std::span<const double> layer_similarity, int prompt_len);

// Checks a plan against a model before any work is done (wrong budget count, budget < 1, p out of
// (0, 1], negative fraction). Code 2: these come from the command line.
[[nodiscard]] core::Status validate_cache_plan(const CachePlan& plan, int n_layers);

}  // namespace squeeze::profiler
