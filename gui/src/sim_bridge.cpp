// Capacity curves and validation from squeeze::sim: the views and the report plot exactly what
// `squeeze-sim predict` prints for the same knobs.
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "squeeze/gui/analysis.hpp"
#include "squeeze/sim/validation.hpp"
#include "squeeze/sim/gpu_spec.hpp"
#include "squeeze/sim/session.hpp"

namespace squeeze::gui {

namespace {

GpuChoice choice_of(const sim::GpuSpec& g) {
  return {g.name, g.memory_bytes, g.hbm_bytes_per_s, g.dense_flops_per_s};
}

// Dense at small batches, ~25% steps after: the curves bend early and flatten late.
std::vector<int> batch_grid(int last) {
  std::vector<int> out;
  for (int b = 1; b <= last;) {
    out.push_back(b);
    b = b < 8 ? b + 1 : b + std::max(1, b / 4);
  }
  if (out.empty() || out.back() != last) out.push_back(last);
  return out;
}

core::Result<sim::Scenario> scenario_for(const AnalysisParams& p, sim::Allocation allocation,
                                         int batch) {
  sim::Scenario s;
  s.allocation = allocation;
  SQZ_TRY(policy, core::parse_policy(p.policy));
  if (policy == core::PolicyKind::Full && allocation != sim::Allocation::Full)
    return core::make_error("pick an eviction policy for the budgets: window, streaming or h2o");
  s.policy = allocation == sim::Allocation::Full ? core::PolicyKind::Full : policy;
  s.budget = p.unit == AnalysisParams::BudgetUnit::Fraction
                 ? sim::BudgetSpec{p.budget_fraction, true}
                 : sim::BudgetSpec{static_cast<double>(p.budget_tokens), false};
  s.p = p.p;
  s.batch = batch;
  s.prompt_len = p.prompt_len;
  s.gen_len = p.gen_len;
  SQZ_TRY(mode, sim::parse_cache_mode(p.mode));
  s.mode = mode;
  s.clusters = p.clusters;
  SQZ_CHECK(sim::validate_scenario(s));
  return s;
}

}  // namespace

std::vector<GpuChoice> available_gpus() {
  std::vector<GpuChoice> out;
  for (const auto& name : sim::known_gpu_names())
    if (auto g = sim::find_gpu(name); g.ok()) out.push_back(choice_of(*g));
  return out;
}

core::Result<GpuChoice> find_gpu(const std::string& name) {
  SQZ_TRY(g, sim::find_gpu(name));
  return choice_of(g);
}

core::Result<CapacityCurves> compute_capacity(const TraceSnapshot& trace,
                                              const LayerImportance& layers,
                                              const BudgetPlan& plan,
                                              const AnalysisParams& params) {
  if (!trace.session)
    return core::make_error("the simulator cannot be fitted on this trace: " + trace.session_error);
  SQZ_TRY(predictor, trace.session->predictor(params.gpu));
  CapacityCurves c;
  c.gpu = choice_of(predictor.gpu());
  c.notes = trace.session->notes;
  c.method = fmt::format("squeeze::sim fitted on this trace ({} calibration points, {} mode, {:.0f}% memory reserve)",
                         trace.session->input.calibration.size(), params.mode,
                         100 * trace.session->reserve_fraction);
  using sim::Allocation;
  const Allocation allocs[3] = {Allocation::Full, Allocation::Uniform, Allocation::Squeeze};

  // Max batch of each allocation first: it sets how far the sweep goes.
  int max_b[3] = {0, 0, 0};
  double at_max[3] = {0, 0, 0};
  for (int a = 0; a < 3; ++a) {
    SQZ_TRY(s, scenario_for(params, allocs[a], 1));
    SQZ_TRY(one, predictor.predict(s));
    max_b[a] = one.memory.max_batch;
    if (max_b[a] > 0) {
      s.batch = max_b[a];
      SQZ_TRY(at, predictor.predict(s));
      at_max[a] = at.tokens_per_s;
    }
  }
  c.max_batch_full = max_b[0];
  c.max_batch_uniform = max_b[1];
  c.max_batch_squeeze = max_b[2];
  c.tput_at_max_full = at_max[0];
  c.tput_at_max_uniform = at_max[1];
  c.tput_at_max_squeeze = at_max[2];

  const int widest = std::max({max_b[0], max_b[1], max_b[2], 1});
  c.batches = batch_grid(std::clamp(static_cast<int>(std::ceil(widest * 1.2)), 2, std::max(2, params.max_batch)));
  const int k = std::max(1, layers.n_clusters);
  c.kv_squeeze_by_cluster.assign(static_cast<std::size_t>(k), {});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const int full_len = params.prompt_len + params.gen_len;
  for (int batch : c.batches) {
    std::vector<double>* totals[3] = {&c.total_full, &c.total_uniform, &c.total_squeeze};
    std::vector<double>* tputs[3] = {&c.tput_full, &c.tput_uniform, &c.tput_squeeze};
    for (int a = 0; a < 3; ++a) {
      SQZ_TRY(s, scenario_for(params, allocs[a], batch));
      SQZ_TRY(pr, predictor.predict(s));
      totals[a]->push_back(static_cast<double>(pr.memory.peak.total_bytes));
      tputs[a]->push_back(batch <= max_b[a] ? pr.tokens_per_s : nan);
      if (allocs[a] != Allocation::Squeeze) continue;
      const auto& peak = pr.memory.peak;
      c.weights_bytes = peak.weights_bytes;
      c.prefill_is_peak = peak.prefill_is_peak;
      c.workspace_bytes.push_back(static_cast<double>(peak.activation_bytes + peak.workspace_bytes));
      // Split the peak KV by cluster in proportion to what each layer holds at the peak: the
      // whole prompt in an online prefill, its cap while decoding.
      std::vector<double> share(static_cast<std::size_t>(k), 0.0);
      double sum = 0;
      for (int l = 0; l < layers.n_layers(); ++l) {
        const auto i = static_cast<std::size_t>(l);
        const int cap = i < pr.kv.caps.size() ? pr.kv.caps[i] : (i < plan.squeeze.size() ? plan.squeeze[i] : full_len);
        const double held = peak.prefill_is_peak ? 1.0 : std::min(cap, full_len);
        share[static_cast<std::size_t>(layers.cluster[i])] += held;
        sum += held;
      }
      for (int j = 0; j < k; ++j)
        c.kv_squeeze_by_cluster[static_cast<std::size_t>(j)].push_back(
            sum > 0 ? static_cast<double>(peak.kv_bytes) * share[static_cast<std::size_t>(j)] / sum : 0.0);
    }
  }
  return c;
}

// The same leave-one-out check as `squeeze-sim validate`: each run predicted by a model fitted on
// the calibration tables and the other runs, so the error shown is not flattered by the run itself.
core::Result<ValidationSummary> validate_runs(const TraceSnapshot& trace) {
  if (!trace.session)
    return core::make_error("the simulator cannot be fitted on this trace: " + trace.session_error);
  SQZ_TRY(report, sim::validate_runs(trace.session->input));
  ValidationSummary out;
  out.method = "leave-one-out: each run predicted by the model fitted on the other runs";
  for (const auto& run : report.runs)
    out.rows.push_back(ValidationRow{run.label, run.measured_tokens_per_s, run.predicted_tokens_per_s,
                                     static_cast<double>(run.measured_peak_bytes),
                                     static_cast<double>(run.predicted_peak_bytes)});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  out.mape_tokens_per_s = report.throughput_runs > 0 ? 100.0 * report.throughput_mape : nan;
  out.mape_peak_bytes = report.memory_runs > 0 ? 100.0 * report.memory_mape : nan;
  return out;
}

}  // namespace squeeze::gui
