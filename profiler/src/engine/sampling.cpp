#include "squeeze/profiler/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <fmt/format.h>

namespace squeeze::profiler {

core::Status validate_sampling(const SamplingParams& params) {
  if (!(params.temperature >= 0) || !std::isfinite(params.temperature))
    return core::make_error(fmt::format("temperature must be >= 0, got {}", params.temperature), 2);
  if (!(params.top_p > 0 && params.top_p <= 1))
    return core::make_error(fmt::format("top-p must be in (0, 1], got {}", params.top_p), 2);
  return {};
}

int argmax(std::span<const float> logits) {
  return static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

int Sampler::sample(std::span<const float> logits) {
  if (params_.temperature == 0.0 || logits.size() < 2) return argmax(logits);
  // softmax(logits / T) in fp64.
  const double max_logit = *std::max_element(logits.begin(), logits.end());
  std::vector<double> probs(logits.size());
  double sum = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    probs[i] = std::exp((logits[i] - max_logit) / params_.temperature);
    sum += probs[i];
  }
  for (double& p : probs) p /= sum;
  // Nucleus: the smallest set of most likely tokens whose mass exceeds top_p (run.c's
  // sample_topp); ties broken by token id so a seed fully determines the result.
  std::vector<int> order(probs.size());
  std::iota(order.begin(), order.end(), 0);
  std::size_t keep = order.size();
  if (params_.top_p < 1.0) {
    std::sort(order.begin(), order.end(), [&](int a, int b) {
      return probs[static_cast<std::size_t>(a)] != probs[static_cast<std::size_t>(b)]
                 ? probs[static_cast<std::size_t>(a)] > probs[static_cast<std::size_t>(b)]
                 : a < b;
    });
    double mass = 0;
    for (std::size_t i = 0; i < order.size(); ++i) {
      mass += probs[static_cast<std::size_t>(order[i])];
      if (mass > params_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  double kept_mass = 0;
  for (std::size_t i = 0; i < keep; ++i) kept_mass += probs[static_cast<std::size_t>(order[i])];
  const double r = std::uniform_real_distribution<double>(0.0, 1.0)(rng_) * kept_mass;
  double cdf = 0;
  for (std::size_t i = 0; i < keep; ++i) {
    cdf += probs[static_cast<std::size_t>(order[i])];
    if (r < cdf) return order[i];
  }
  return order[keep - 1];  // rounding guard
}

}  // namespace squeeze::profiler
