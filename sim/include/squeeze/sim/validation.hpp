#pragma once
// Self-check against measured runs (DESIGN.md §5): every run in a trace is predicted by a model
// fitted on the calibration tables and the OTHER runs (leave-one-out for the launch gap and the
// workspace), and the errors are reported.

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
  double throughput_error = 0;  // |predicted - measured| / measured; NaN when not measured
  double memory_error = 0;
};

struct ValidationReport {
  std::vector<RunValidation> runs;
  double throughput_mape = 0;   // mean of throughput_error over runs that measured it (fraction)
  double memory_mape = 0;
  double prefill_mape = 0;
  int throughput_runs = 0, memory_runs = 0, prefill_runs = 0;
  std::vector<std::string> notes;
};

// Errors: no measured runs with status ok; an unknown profiled GPU (see fit_model).
[[nodiscard]] core::Result<ValidationReport> validate_runs(const SimInput& input,
                                                           const std::string& trace_hardware = "");

}  // namespace squeeze::sim
