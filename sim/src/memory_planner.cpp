#include "squeeze/sim/memory_planner.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "squeeze/sim/op_shapes.hpp"

namespace squeeze::sim {

WorkspaceFit fit_workspace(std::span<const double> activation_bytes, std::span<const double> residual_bytes) {
  WorkspaceFit fit;
  const std::size_t n = std::min(activation_bytes.size(), residual_bytes.size());
  fit.runs_used = static_cast<int>(n);
  if (n == 0) return fit;
  double mean_a = 0, mean_r = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mean_a += activation_bytes[i];
    mean_r += residual_bytes[i];
  }
  mean_a /= double(n);
  mean_r /= double(n);
  double var_a = 0, cov = 0;
  for (std::size_t i = 0; i < n; ++i) {
    var_a += (activation_bytes[i] - mean_a) * (activation_bytes[i] - mean_a);
    cov += (activation_bytes[i] - mean_a) * (residual_bytes[i] - mean_r);
  }
  // A spread of under 1% in activations cannot separate the slope from the constant.
  if (n >= 2 && var_a > 1e-4 * mean_a * mean_a * double(n) && cov > 0) {
    fit.activation_scale = cov / var_a;
    fit.constant_bytes = mean_r - fit.activation_scale * mean_a;
    if (fit.constant_bytes < 0) {  // a negative constant is not physical: refit through zero
      double aa = 0, ar = 0;
      for (std::size_t i = 0; i < n; ++i) {
        aa += activation_bytes[i] * activation_bytes[i];
        ar += activation_bytes[i] * residual_bytes[i];
      }
      fit.activation_scale = ar / aa;
      fit.constant_bytes = 0;
    }
  } else {
    fit.activation_scale = 1.0;
    fit.constant_bytes = std::max(0.0, mean_r - mean_a);
  }
  return fit;
}

std::int64_t decode_kv_tokens(std::span<const int> caps, int prompt_len, int gen_len) {
  std::int64_t total = 0;
  for (int cap : caps) total += std::min<std::int64_t>(cap, std::int64_t(prompt_len) + gen_len);
  return total;
}

std::int64_t prefill_kv_tokens(std::span<const int> caps, int prompt_len, CacheMode mode, int chunk) {
  std::int64_t total = 0;
  for (int cap : caps) {
    if (mode == CacheMode::Online) total += prompt_len;
    else total += std::min<std::int64_t>(prompt_len, std::int64_t(cap) + chunk);
  }
  return total;
}

MemoryPlanner::MemoryPlanner(core::ModelConfig model, WorkspaceFit workspace, double reserve_fraction)
    : model_(std::move(model)), workspace_(workspace), reserve_(reserve_fraction) {}

std::int64_t MemoryPlanner::weights_bytes(int tp) const {
  return model_.parameter_count() * core::dtype_bytes(model_.weight_dtype) / std::max(1, tp);
}

double MemoryPlanner::activation_bytes(int batch, std::int64_t rows, int tp, bool h2o_scores,
                                       int prompt_len) const {
  const LayerShapes s = layer_shapes(model_, tp);
  const double r = double(rows);
  // Residual + normed input, q/k/v, attention output, gate/up and the SwiGLU product.
  const double per_row = 2.0 * s.hidden + s.qkv.n + s.o_proj.k + s.gate_up.n + s.intermediate_per_gpu;
  double bytes = r * per_row * s.act_bytes + double(batch) * s.lm_head.n * 4.0;
  // H2O's prefill needs the column sums of one layer's attention probabilities.
  if (h2o_scores) bytes += double(batch) * s.attention.n_heads * prompt_len * 4.0;
  return bytes;
}

MemoryBreakdown MemoryPlanner::peak(const Scenario& s, std::span<const int> caps) const {
  const std::int64_t per_token = kv_bytes_per_token_layer(model_, s.tp);
  const bool h2o = s.policy == core::PolicyKind::H2O && s.allocation != Allocation::Full;
  const std::int64_t prefill_rows = std::int64_t(s.batch) *
      (s.mode == CacheMode::Calibrated ? std::min(s.prompt_len, s.prefill_chunk) : s.prompt_len);
  const double prefill_act = activation_bytes(s.batch, prefill_rows, s.tp, h2o, s.prompt_len);
  const double decode_act = activation_bytes(s.batch, s.batch, s.tp, false, s.prompt_len);
  const std::int64_t prefill_kv =
      prefill_kv_tokens(caps, s.prompt_len, s.mode, s.prefill_chunk) * per_token * s.batch;
  const std::int64_t decode_kv = decode_kv_tokens(caps, s.prompt_len, s.gen_len) * per_token * s.batch;
  const double prefill_total = double(prefill_kv) + workspace_.activation_scale * prefill_act;
  const double decode_total = double(decode_kv) + workspace_.activation_scale * decode_act;
  MemoryBreakdown b;
  b.weights_bytes = weights_bytes(s.tp);
  b.workspace_bytes = static_cast<std::int64_t>(workspace_.constant_bytes);
  b.prefill_is_peak = prefill_total > decode_total;
  b.kv_bytes = b.prefill_is_peak ? prefill_kv : decode_kv;
  b.activation_bytes = static_cast<std::int64_t>(
      workspace_.activation_scale * (b.prefill_is_peak ? prefill_act : decode_act));
  b.total_bytes = b.weights_bytes + b.kv_bytes + b.activation_bytes + b.workspace_bytes;
  return b;
}

int MemoryPlanner::max_batch(Scenario s, std::span<const int> caps, const GpuSpec& gpu) const {
  const auto usable = static_cast<std::int64_t>(double(gpu.memory_bytes) * (1.0 - reserve_));
  auto fits = [&](std::int64_t batch) {
    s.batch = static_cast<int>(batch);
    return peak(s, caps).total_bytes <= usable;
  };
  // KV and activations are proportional to the batch, so peak = fixed + batch x per_sequence and
  // the answer is one division; the checks around it absorb integer rounding.
  s.batch = 1;
  const MemoryBreakdown one = peak(s, caps);
  const std::int64_t fixed = one.weights_bytes + one.workspace_bytes;
  const std::int64_t per_sequence = std::max<std::int64_t>(1, one.total_bytes - fixed);
  if (one.total_bytes > usable) return 0;
  std::int64_t batch = std::min<std::int64_t>((usable - fixed) / per_sequence, 1 << 24);
  while (batch > 1 && !fits(batch)) --batch;
  while (batch < (1 << 24) && fits(batch + 1)) ++batch;
  return static_cast<int>(batch);
}

MemoryPlan MemoryPlanner::plan(const Scenario& s, std::span<const int> caps, const GpuSpec& gpu) const {
  MemoryPlan plan;
  plan.peak = peak(s, caps);
  plan.decode_kv_bytes = decode_kv_tokens(caps, s.prompt_len, s.gen_len) *
                         kv_bytes_per_token_layer(model_, s.tp) * s.batch;
  plan.usable_bytes = static_cast<std::int64_t>(double(gpu.memory_bytes) * (1.0 - reserve_));
  plan.fits = plan.peak.total_bytes <= plan.usable_bytes;
  plan.max_batch = max_batch(s, caps, gpu);
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  if (plan.max_batch == 0) {
    Scenario one = s;
    one.batch = 1;
    plan.limit = fmt::format(
        "does not fit: one sequence needs {:.1f} GiB (weights {:.1f} GiB) but {} has {:.1f} GiB "
        "usable ({:.0f}% reserve); try --tp or a smaller model",
        double(peak(one, caps).total_bytes) / kGiB, double(weights_bytes(s.tp)) / kGiB, gpu.name,
        double(plan.usable_bytes) / kGiB, reserve_ * 100);
  } else {
    Scenario at_max = s;
    at_max.batch = plan.max_batch;
    plan.limit = peak(at_max, caps).prefill_is_peak
                     ? "limited by the prefill peak (full prompt KV before compression)"
                     : "limited by the decode KV at the end of generation";
  }
  return plan;
}

}  // namespace squeeze::sim
