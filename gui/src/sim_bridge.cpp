// Bridge to squeeze::sim (memory planner, cost model, validation) and core's hardware table.
// TEMPORARY: until sim/ and core/hardware.hpp land, a plain roofline stand-in with the same
// shape of answer so that the views can be built; replaced by calls into squeeze::sim.
#include <algorithm>
#include <cmath>
#include <limits>

#include "squeeze/gui/analysis.hpp"

namespace squeeze::gui {

std::vector<GpuChoice> available_gpus() {
  constexpr std::int64_t GiB = 1024LL * 1024 * 1024;
  return {
      {"A100 40GB", 40 * GiB, 1.555e12, 312e12},
      {"A100 80GB", 80 * GiB, 2.039e12, 312e12},
      {"H100 SXM 80GB", 80 * GiB, 3.35e12, 989e12},
      {"H200 141GB", 141 * GiB, 4.8e12, 989e12},
  };
}

core::Result<GpuChoice> find_gpu(const std::string& name) {
  for (const auto& g : available_gpus())
    if (g.name == name) return g;
  return core::make_error("unknown GPU '" + name + "'");
}

namespace {

std::vector<int> batch_grid(int max_batch) {
  std::vector<int> out;
  for (int b = 1; b <= max_batch;) {
    out.push_back(b);
    b = b < 4 ? b + 1 : b + std::max(1, b / 4);  // dense at small batches, ~25% steps after
  }
  if (out.back() != max_batch) out.push_back(max_batch);
  return out;
}

}  // namespace

core::Result<CapacityCurves> compute_capacity(const TraceSnapshot& trace,
                                              const LayerImportance& layers,
                                              const BudgetPlan& plan,
                                              const AnalysisParams& params) {
  const auto& m = trace.model;
  if (m.n_layers <= 0) return core::make_error("the trace has no model configuration");
  if (static_cast<int>(plan.squeeze.size()) != m.n_layers)
    return core::make_error("budgets cover " + std::to_string(plan.squeeze.size()) +
                            " layers, the model has " + std::to_string(m.n_layers));
  SQZ_TRY(gpu, find_gpu(params.gpu));
  CapacityCurves c;
  c.gpu = gpu;
  c.method = "roofline stand-in";
  c.weights_bytes = m.parameter_count() * core::dtype_bytes(m.weight_dtype);
  const double per_token_layer = 2.0 * m.kv_dim() * core::dtype_bytes(m.kv_dtype);
  const bool full_policy = params.policy == "full";
  const int full_len = params.prompt_len + params.gen_len;
  const int k = std::max(1, layers.n_clusters);
  c.batches = batch_grid(std::max(1, params.max_batch));
  c.kv_squeeze_by_cluster.assign(static_cast<std::size_t>(k), {});

  std::vector<double> kv_cluster_seq(static_cast<std::size_t>(k), 0.0);
  double kv_full_seq = 0, kv_uniform_seq = 0;
  for (int l = 0; l < m.n_layers; ++l) {
    const auto i = static_cast<std::size_t>(l);
    const int sq = full_policy ? full_len : std::min(plan.squeeze[i], full_len);
    const int un = full_policy ? full_len : std::min(plan.uniform[i], full_len);
    kv_cluster_seq[static_cast<std::size_t>(layers.cluster.empty() ? 0 : layers.cluster[i])] += sq * per_token_layer;
    kv_uniform_seq += un * per_token_layer;
    kv_full_seq += full_len * per_token_layer;
  }
  auto workspace = [&](int b) { return 512.0 * 1024 * 1024 + 4.0 * b * (m.vocab + 4.0 * m.intermediate); };
  auto step_tput = [&](int b, double kv_seq) {
    const double bytes = static_cast<double>(c.weights_bytes) + b * kv_seq;
    const double t = bytes / (0.8 * gpu.bandwidth_bytes_per_s) +
                     2.0 * static_cast<double>(m.parameter_count()) * b / (0.6 * gpu.peak_flops);
    return b / t;
  };
  const double cap = static_cast<double>(gpu.memory_bytes);
  auto total = [&](int b, double kv_seq) { return static_cast<double>(c.weights_bytes) + b * kv_seq + workspace(b); };
  double kv_squeeze_seq = 0;
  for (double v : kv_cluster_seq) kv_squeeze_seq += v;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int b : c.batches) {
    for (std::size_t j = 0; j < kv_cluster_seq.size(); ++j) c.kv_squeeze_by_cluster[j].push_back(b * kv_cluster_seq[j]);
    c.workspace_bytes.push_back(workspace(b));
    c.total_full.push_back(total(b, kv_full_seq));
    c.total_uniform.push_back(total(b, kv_uniform_seq));
    c.total_squeeze.push_back(total(b, kv_squeeze_seq));
    c.tput_full.push_back(total(b, kv_full_seq) <= cap ? step_tput(b, kv_full_seq) : nan);
    c.tput_uniform.push_back(total(b, kv_uniform_seq) <= cap ? step_tput(b, kv_uniform_seq) : nan);
    c.tput_squeeze.push_back(total(b, kv_squeeze_seq) <= cap ? step_tput(b, kv_squeeze_seq) : nan);
  }
  auto max_batch = [&](double kv_seq) {
    int best = 0;
    for (int b = 1; b <= params.max_batch * 64 && total(b, kv_seq) <= cap; ++b) best = b;
    return best;
  };
  c.max_batch_full = max_batch(kv_full_seq);
  c.max_batch_uniform = max_batch(kv_uniform_seq);
  c.max_batch_squeeze = max_batch(kv_squeeze_seq);
  c.tput_at_max_full = c.max_batch_full > 0 ? step_tput(c.max_batch_full, kv_full_seq) : 0;
  c.tput_at_max_uniform = c.max_batch_uniform > 0 ? step_tput(c.max_batch_uniform, kv_uniform_seq) : 0;
  c.tput_at_max_squeeze = c.max_batch_squeeze > 0 ? step_tput(c.max_batch_squeeze, kv_squeeze_seq) : 0;
  return c;
}

core::Result<ValidationSummary> validate_runs(const TraceSnapshot& trace) {
  ValidationSummary s;
  for (const auto& r : trace.runs) {
    if (r.status != "ok" || r.tokens_per_s <= 0) continue;
    s.rows.push_back({r.label, r.tokens_per_s, std::numeric_limits<double>::quiet_NaN(),
                      static_cast<double>(r.peak_bytes), std::numeric_limits<double>::quiet_NaN()});
  }
  s.mape_tokens_per_s = std::numeric_limits<double>::quiet_NaN();
  s.mape_peak_bytes = std::numeric_limits<double>::quiet_NaN();
  return s;
}

}  // namespace squeeze::gui
