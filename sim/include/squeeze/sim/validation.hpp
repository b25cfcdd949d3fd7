#pragma once
// Self-check against measured runs (DESIGN.md §5): every run in a trace is predicted by a model
// fitted on the calibration tables and the OTHER runs (leave-one-out for the launch gap and the
// workspace), and the errors are reported. The memory prediction of a run counts the workspace
// the capture's engine kept from the runs before it, under the engine history fitted on the
// other runs (engine_history.hpp); memory_mape_fresh leaves that out.

#include <cstdint>
#include <string>
#include <vector>

#include "squeeze/core/result.hpp"
#include "squeeze/sim/sim_input.hpp"

namespace squeeze::sim {

struct RunValidation {
  std::int64_t run_id = 0;
  std::string label;
  std::string policy;
  int batch = 0;
  double measured_tokens_per_s = 0, predicted_tokens_per_s = 0;
  double measured_step_ms = 0, predicted_step_ms = 0;
  double measured_prefill_ms = 0, predicted_prefill_ms = 0;
  std::int64_t measured_peak_bytes = 0, predicted_peak_bytes = 0;
  // What a fresh engine would need (the planner's answer for serving), and the workspace the
  // capture's engine is predicted to have kept from earlier runs (predicted - fresh).
  std::int64_t predicted_fresh_peak_bytes = 0, carried_bytes = 0;
  std::string engine_history;   // the history fitted on the other runs (engine_history.hpp)
  double throughput_error = 0;  // |predicted - measured| / measured; NaN when not measured
  double memory_error = 0;
  double memory_error_fresh = 0;  // of predicted_fresh_peak_bytes
};

struct ValidationReport {
  std::vector<RunValidation> runs;
  double throughput_mape = 0;   // mean of throughput_error over runs that measured it (fraction)
  double memory_mape = 0;
  double memory_mape_fresh = 0;  // every run predicted as on a fresh engine (no history)
  double prefill_mape = 0;
  int throughput_runs = 0, memory_runs = 0, prefill_runs = 0;
  std::vector<std::string> notes;
};

// Errors: no measured runs with status ok; an unknown profiled GPU (see fit_model).
[[nodiscard]] core::Result<ValidationReport> validate_runs(const SimInput& input,
                                                           const std::string& trace_hardware = "");

}  // namespace squeeze::sim
