#include "squeeze/profiler/quality.hpp"

#include <algorithm>
#include <cmath>

namespace squeeze::profiler {

double token_nll(std::span<const float> logits, int target) {
  const double max_logit = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) sum += std::exp(l - max_logit);
  return -(logits[static_cast<std::size_t>(target)] - max_logit - std::log(sum));
}

core::Result<NllResult> teacher_forced_nll(Engine& engine, std::span<const int> prompt,
                                           std::span<const int> continuation,
                                           const CachePlan& plan) {
  if (prompt.empty()) return core::make_error("nll: empty prompt", 2);
  if (continuation.empty()) return core::make_error("nll: empty continuation", 2);
  const int vocab = engine.config().vocab;
  for (int t : continuation)
    if (t < 0 || t >= vocab)
      return core::make_error("nll: continuation token id out of range", 2);
  SQZ_TRY(seq, engine.add_sequence(plan));
  // Release the sequence on every path out.
  struct Release {
    Engine& e;
    SequenceId id;
    ~Release() { e.release_sequence(id); }
  } release{engine, seq};
  SQZ_TRY(prefill, engine.prefill(seq, prompt));
  NllResult result;
  result.layer_budgets = prefill.layer_budgets;
  result.layer_similarity = prefill.layer_similarity;
  std::vector<float> logits = std::move(prefill.logits);
  for (std::size_t i = 0; i < continuation.size(); ++i) {
    result.token_nll.push_back(token_nll(logits, continuation[i]));
    if (i + 1 == continuation.size()) break;  // the last token predicts nothing we score
    SQZ_TRY(next, engine.decode(seq, continuation[i]));
    logits = std::move(next);
  }
  double sum = 0;
  for (double v : result.token_nll) sum += v;
  result.mean_nll = sum / static_cast<double>(result.token_nll.size());
  return result;
}

}  // namespace squeeze::profiler
