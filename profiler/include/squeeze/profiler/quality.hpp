#pragma once
// Teacher-forced quality of a compressed cache: the prompt is prefilled under the plan (online
// compression), then the continuation is fed token by token; each continuation token's negative
// log-likelihood under the logits that predicted it is recorded.

#include <span>
#include <vector>

#include "squeeze/profiler/engine.hpp"

namespace squeeze::profiler {

struct NllResult {
  double mean_nll = 0.0;              // nats per continuation token
  std::vector<double> token_nll;      // (continuation_len)
  std::vector<int> layer_budgets;     // as applied after the prefill; empty for full
  std::vector<double> layer_similarity;  // of the prompt
};

// Errors: empty prompt or continuation, token ids out of range, plan errors.
[[nodiscard]] core::Result<NllResult> teacher_forced_nll(Engine& engine,
                                                         std::span<const int> prompt,
                                                         std::span<const int> continuation,
                                                         const CachePlan& plan);

// -log softmax(logits)[target], in fp64.
[[nodiscard]] double token_nll(std::span<const float> logits, int target);

}  // namespace squeeze::profiler
