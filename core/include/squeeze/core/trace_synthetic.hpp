#pragma once
// A small, clearly labelled SYNTHETIC trace, so the simulator, the GUI and the README's examples
// have data before a real GPU capture exists. Nothing in it was measured: similarities follow the
// shape the SqueezeAttention paper reports, and every duration comes from a stated roofline model
// of an H100 SXM (below) with small deterministic noise. The meta says so (device_kind
// "synthetic", notes starting "SYNTHETIC").
//
// Roofline model (SyntheticRoofline): an op moving `bytes` and doing `flops` takes
//   fixed_overhead_us + max(bytes / (hbm_bytes_per_s * bandwidth_efficiency),
//                           flops / (peak_flops_per_s * compute_efficiency))
// times (1 + u), u uniform in [-noise, +noise], drawn from std::mt19937_64(seed).

#include <cstdint>
#include <string>
#include <vector>

#include "squeeze/core/model_config.hpp"
#include "squeeze/core/result.hpp"

namespace squeeze::core {

struct SyntheticRoofline {
  double hbm_bytes_per_s = 3.35e12;  // H100 SXM HBM3
  double bandwidth_efficiency = 0.85;
  double peak_flops_per_s = 989e12;  // H100 SXM dense BF16
  double compute_efficiency = 0.60;
  double fixed_overhead_us = 3.0;  // launch + tail of a small kernel
  double noise = 0.03;             // +-3 % per measurement

  // Noise-free duration in microseconds.
  [[nodiscard]] double duration_us(double bytes, double flops) const;
};

struct SyntheticTraceOptions {
  std::string model = "llama2-7b";  // synthetic_model_names()
  std::uint64_t seed = 1;
  SyntheticRoofline roofline;
};

// "llama2-7b", "llama2-13b", "llama3-8b", "mistral-7b": published shapes, bf16 weights and KV.
[[nodiscard]] std::vector<std::string> synthetic_model_names();
[[nodiscard]] Result<ModelConfig> synthetic_model(const std::string& name);

// Writes the trace to `path` (replacing it) through `path`.tmp and a rename, so `path` is never a
// half-written trace. Same options, same bytes of content (created_utc aside).
[[nodiscard]] Status write_synthetic_trace(const std::string& path,
                                           const SyntheticTraceOptions& options);

}  // namespace squeeze::core
