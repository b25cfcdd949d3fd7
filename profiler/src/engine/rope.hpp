#pragma once
// Rotary position embedding with the model's pairing (interleaved: llama2.c/GGUF; half-split: HF
// rotate_half), rope_theta and rope scaling (linear; llama3's smooth band scaling).

#include <vector>

#include "squeeze/core/model_config.hpp"
#include "squeeze/core/result.hpp"

namespace squeeze::profiler::cpu {

class Rope {
 public:
  // Errors: scaling types the engine does not implement (dynamic, yarn), bad factors.
  [[nodiscard]] static core::Result<Rope> create(const core::ModelConfig& config);

  [[nodiscard]] int pairs() const { return static_cast<int>(inv_freq_.size()); }
  // cos/sin of every pair's angle at `pos`. (pairs) each.
  void angles(int pos, float* cos_out, float* sin_out) const;
  // Rotates `heads` consecutive heads of `row` (heads * head_dim) in place.
  void apply(float* row, int heads, const float* cos_in, const float* sin_in) const;
  [[nodiscard]] const std::vector<double>& inv_freq() const { return inv_freq_; }

 private:
  std::vector<double> inv_freq_;  // (head_dim / 2) radians per position
  int head_dim_ = 0;
  core::RopeStyle style_ = core::RopeStyle::Interleaved;
};

}  // namespace squeeze::profiler::cpu
