#include "squeeze/sim/validation.hpp"

#include <cmath>
#include <map>

#include <fmt/format.h>

#include "squeeze/sim/predictor.hpp"

namespace squeeze::sim {
namespace {

double relative_error(double predicted, double measured) {
  return measured > 0 ? std::abs(predicted - measured) / measured : std::nan("");
}

}  // namespace

core::Result<ValidationReport> validate_runs(const SimInput& input, const std::string& trace_hardware) {
  if (input.runs.empty())
    return core::make_error(fmt::format("{}: no measured runs (status ok) to validate against", input.trace_path));
  ValidationReport report;
  if (input.runs.size() == 1)
    report.notes.push_back("one run only: its launch gap and workspace are uncalibrated (nothing left out to fit on)");
  double tp_sum = 0, mem_sum = 0, fresh_sum = 0, prefill_sum = 0;
  std::map<std::string, int> histories;
  for (std::size_t i = 0; i < input.runs.size(); ++i) {
    const core::RunRecord& run = input.runs[i];
    std::vector<core::RunRecord> others;
    for (std::size_t j = 0; j < input.runs.size(); ++j)
      if (j != i) others.push_back(input.runs[j]);
    SQZ_TRY(fitted, fit_model(input, others, trace_hardware));
    SQZ_TRY(predictor, Predictor::create(fitted, input.model, fitted.profiled_gpu,
                                         input.layer_similarity, 0.0));
    auto scenario = scenario_of_run(run);
    if (!scenario.ok()) {
      report.notes.push_back(fmt::format("run {} ({}) skipped: {}", run.id, run.label, scenario.error().message));
      continue;
    }
    SQZ_TRY(prediction, predictor.predict_with_caps(*scenario, caps_of_run(run, input.model.n_layers)));
    RunValidation v;
    v.run_id = run.id;
    v.label = run.label;
    v.policy = run.policy;
    v.batch = run.batch;
    v.measured_tokens_per_s = run.tokens_per_s > 0 ? run.tokens_per_s
                              : run.decode_step_ms_mean > 0 ? 1000.0 * run.batch / run.decode_step_ms_mean
                                                            : 0.0;
    v.predicted_tokens_per_s = prediction.tokens_per_s;
    v.measured_step_ms = run.decode_step_ms_mean;
    v.predicted_step_ms = prediction.step_ms;
    v.measured_prefill_ms = run.prefill_ms;
    v.predicted_prefill_ms = prediction.ttft_ms;
    v.measured_peak_bytes = run.peak_bytes;
    v.predicted_fresh_peak_bytes = prediction.memory.peak.total_bytes;
    auto held = fitted.resident.find(run.id);
    v.predicted_peak_bytes =
        held == fitted.resident.end()
            ? v.predicted_fresh_peak_bytes
            : predictor.memory().peak(*scenario, caps_of_run(run, input.model.n_layers), held->second).total_bytes;
    v.carried_bytes = v.predicted_peak_bytes - v.predicted_fresh_peak_bytes;
    v.engine_history = engine_history_name(fitted.engine_history);
    ++histories[v.engine_history];
    v.throughput_error = relative_error(v.predicted_tokens_per_s, v.measured_tokens_per_s);
    v.memory_error = relative_error(double(v.predicted_peak_bytes), double(v.measured_peak_bytes));
    v.memory_error_fresh = relative_error(double(v.predicted_fresh_peak_bytes), double(v.measured_peak_bytes));
    if (std::isfinite(v.throughput_error)) {
      tp_sum += v.throughput_error;
      ++report.throughput_runs;
    }
    if (std::isfinite(v.memory_error)) {
      mem_sum += v.memory_error;
      fresh_sum += v.memory_error_fresh;
      ++report.memory_runs;
    }
    const double prefill_error = relative_error(v.predicted_prefill_ms, v.measured_prefill_ms);
    if (std::isfinite(prefill_error)) {
      prefill_sum += prefill_error;
      ++report.prefill_runs;
    }
    report.runs.push_back(std::move(v));
  }
  report.throughput_mape = report.throughput_runs > 0 ? tp_sum / report.throughput_runs : std::nan("");
  report.memory_mape = report.memory_runs > 0 ? mem_sum / report.memory_runs : std::nan("");
  report.memory_mape_fresh = report.memory_runs > 0 ? fresh_sum / report.memory_runs : std::nan("");
  if (report.memory_runs > 0) {
    std::string counts;
    for (const auto& [name, n] : histories) counts += fmt::format("{}{} for {} run{}", counts.empty() ? "" : ", ", name, n, n == 1 ? "" : "s");
    report.notes.push_back(fmt::format(
        "memory: the engine's allocation rule plus an overhead fitted on the other runs; engine "
        "history fitted on the other runs: {}; memory MAPE as if every run had a fresh engine: {:.2f}%",
        counts, 100 * report.memory_mape_fresh));
  }
  report.prefill_mape = report.prefill_runs > 0 ? prefill_sum / report.prefill_runs : std::nan("");
  return report;
}

}  // namespace squeeze::sim
