#include "rope.hpp"

#include <cmath>
#include <numbers>

#include <fmt/format.h>

namespace squeeze::profiler::cpu {

namespace {

// Llama 3.1's rope scaling (HF _compute_llama3_parameters): long wavelengths are divided by the
// factor, short ones kept, the band between interpolated smoothly.
double llama3_scaled(double inv_freq, const core::RopeScaling& s) {
  const double low_freq_wavelen = s.original_max_position / s.low_freq_factor;
  const double high_freq_wavelen = s.original_max_position / s.high_freq_factor;
  const double wavelen = 2.0 * std::numbers::pi / inv_freq;
  if (wavelen < high_freq_wavelen) return inv_freq;
  if (wavelen > low_freq_wavelen) return inv_freq / s.factor;
  const double smooth = (s.original_max_position / wavelen - s.low_freq_factor) /
                        (s.high_freq_factor - s.low_freq_factor);
  return (1.0 - smooth) * inv_freq / s.factor + smooth * inv_freq;
}

}  // namespace

core::Result<Rope> Rope::create(const core::ModelConfig& config) {
  if (config.head_dim <= 0 || config.head_dim % 2 != 0)
    return core::make_error(fmt::format("RoPE needs an even head_dim, got {}", config.head_dim));
  if (!(config.rope_theta > 0))
    return core::make_error(fmt::format("rope_theta must be positive, got {}", config.rope_theta));
  const auto& scaling = config.rope_scaling;
  const bool none = scaling.type.empty() || scaling.type == "none" || scaling.type == "default";
  if (!none && scaling.type != "linear" && scaling.type != "llama3")
    return core::make_error(fmt::format(
        "rope scaling '{}' is not implemented by the cpu engine (none, linear, llama3 are)",
        scaling.type));
  if (!none && !(scaling.factor > 0))
    return core::make_error(fmt::format("rope scaling factor must be positive, got {}",
                                        scaling.factor));
  if (scaling.type == "llama3" && !(scaling.high_freq_factor > scaling.low_freq_factor))
    return core::make_error("llama3 rope scaling needs high_freq_factor > low_freq_factor");

  Rope rope;
  rope.head_dim_ = config.head_dim;
  rope.style_ = config.rope_style;
  const int pairs = config.head_dim / 2;
  for (int i = 0; i < pairs; ++i) {
    double f = std::pow(config.rope_theta, -2.0 * i / config.head_dim);
    if (scaling.type == "linear") f /= scaling.factor;
    if (scaling.type == "llama3") f = llama3_scaled(f, scaling);
    rope.inv_freq_.push_back(f);
  }
  return rope;
}

void Rope::angles(int pos, float* cos_out, float* sin_out) const {
  for (int i = 0; i < pairs(); ++i) {
    const double a = pos * inv_freq_[static_cast<std::size_t>(i)];
    cos_out[i] = static_cast<float>(std::cos(a));
    sin_out[i] = static_cast<float>(std::sin(a));
  }
}

void Rope::apply(float* row, int heads, const float* c, const float* s) const {
  const int half = head_dim_ / 2;
  for (int h = 0; h < heads; ++h) {
    float* v = row + static_cast<std::ptrdiff_t>(h) * head_dim_;
    for (int i = 0; i < half; ++i) {
      // Interleaved rotates (2i, 2i+1); half-split rotates (i, i + d/2); both by angle i.
      const int a = style_ == core::RopeStyle::Interleaved ? 2 * i : i;
      const int b = style_ == core::RopeStyle::Interleaved ? 2 * i + 1 : i + half;
      const float x0 = v[a], x1 = v[b];
      v[a] = x0 * c[i] - x1 * s[i];
      v[b] = x0 * s[i] + x1 * c[i];
    }
  }
}

}  // namespace squeeze::profiler::cpu
