#pragma once
// Next-token choice from logits: greedy (temperature 0) or seeded temperature + top-p (nucleus)
// sampling, as llama2.c's run.c does it but with std::mt19937_64 so a seed reproduces a run.

#include <cstdint>
#include <random>
#include <span>

#include "squeeze/core/result.hpp"

namespace squeeze::profiler {

struct SamplingParams {
  double temperature = 0.0;  // 0: greedy (argmax)
  double top_p = 1.0;        // (0, 1]; 1 samples from the whole distribution
  std::uint64_t seed = 0;
};

// Errors (code 2): negative temperature, top_p outside (0, 1].
[[nodiscard]] core::Status validate_sampling(const SamplingParams& params);

// Index of the largest logit; the lowest index wins ties (as run.c's argmax).
[[nodiscard]] int argmax(std::span<const float> logits);

class Sampler {
 public:
  explicit Sampler(SamplingParams params) : params_(params), rng_(params.seed) {}
  [[nodiscard]] int sample(std::span<const float> logits);
  [[nodiscard]] const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
};

}  // namespace squeeze::profiler
