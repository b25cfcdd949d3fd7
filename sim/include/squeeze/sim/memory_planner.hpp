#pragma once
// Device memory of a serving configuration on one GPU (DESIGN.md §5):
//   peak = weights + KV + activation_scale x activations + workspace_constant
// and the largest batch whose peak fits the GPU minus a reserve.
//
// KV (bytes per GPU, per sequence) in the two modes:
//   online      prefill peak  = L x prompt tokens (full cache before compression)
//               decode peak   = sum_l min(cap_l, prompt + gen)
//   calibrated  prefill peak  = sum_l min(prompt, cap_l + chunk)   (budgets applied per chunk)
//               decode peak   = as online
// The peak of the run is the larger of the prefill and decode peaks.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "squeeze/core/model_config.hpp"
#include "squeeze/sim/gpu_spec.hpp"
#include "squeeze/sim/scenario.hpp"

namespace squeeze::sim {

// Fitted on measured peaks: residual = peak - weights - kv = constant + scale x activations.
struct WorkspaceFit {
  double constant_bytes = 0;     // CUDA context, cuBLAS workspace, allocator slack
  double activation_scale = 1;   // measured / analytic activation bytes
  int runs_used = 0;             // 0: nothing measured, analytic activations only
};

// Least squares over (activation bytes, residual bytes) pairs; one pair (or no spread in
// activations) fits the constant only.
[[nodiscard]] WorkspaceFit fit_workspace(std::span<const double> activation_bytes,
                                         std::span<const double> residual_bytes);

struct MemoryBreakdown {
  std::int64_t weights_bytes = 0;
  std::int64_t kv_bytes = 0;           // at the peak
  std::int64_t activation_bytes = 0;   // scaled analytic activations
  std::int64_t workspace_bytes = 0;    // fitted constant
  std::int64_t total_bytes = 0;
  bool prefill_is_peak = false;        // the peak happens during prefill (online: full prompt KV)
};

struct MemoryPlan {
  MemoryBreakdown peak;
  std::int64_t decode_kv_bytes = 0;    // KV held while decoding at the end of the generation
  std::int64_t usable_bytes = 0;       // GPU memory x (1 - reserve)
  bool fits = false;
  int max_batch = 0;                   // 0: not even one sequence fits
  std::string limit;                   // why max_batch is what it is, in words
};

class MemoryPlanner {
 public:
  MemoryPlanner(core::ModelConfig model, WorkspaceFit workspace, double reserve_fraction = 0.05);

  [[nodiscard]] std::int64_t weights_bytes(int tp) const;
  // Activation bytes of one forward of `rows` tokens from `batch` sequences (one layer's live
  // buffers, reused layer to layer, plus fp32 logits of the last positions).
  [[nodiscard]] double activation_bytes(int batch, std::int64_t rows, int tp, bool h2o_scores,
                                        int prompt_len) const;
  [[nodiscard]] MemoryBreakdown peak(const Scenario& s, std::span<const int> caps) const;
  // Peak at s.batch, plus the max batch for the same scenario on `gpu`.
  [[nodiscard]] MemoryPlan plan(const Scenario& s, std::span<const int> caps, const GpuSpec& gpu) const;
  [[nodiscard]] int max_batch(Scenario s, std::span<const int> caps, const GpuSpec& gpu) const;

  [[nodiscard]] const WorkspaceFit& workspace() const { return workspace_; }
  [[nodiscard]] double reserve_fraction() const { return reserve_; }
  [[nodiscard]] const core::ModelConfig& model() const { return model_; }

 private:
  core::ModelConfig model_;
  WorkspaceFit workspace_;
  double reserve_;
};

// Tokens per sequence held summed over layers, in the decode and prefill phases.
[[nodiscard]] std::int64_t decode_kv_tokens(std::span<const int> caps, int prompt_len, int gen_len);
[[nodiscard]] std::int64_t prefill_kv_tokens(std::span<const int> caps, int prompt_len,
                                             CacheMode mode, int chunk);

}  // namespace squeeze::sim
