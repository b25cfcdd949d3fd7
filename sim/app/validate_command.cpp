// squeeze-sim validate: predict every measured run of a trace from the calibration tables and the
// other runs (leave-one-out), and report per-run errors and MAPE for throughput and memory.
#include <cmath>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "squeeze/sim/validation.hpp"

namespace squeeze::sim::cli {
namespace {

struct ValidateArgs {
  std::string trace;
  std::string trace_hardware;
  bool json = false;
};

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

int run_validate(const ValidateArgs& args) {
  auto fail = [](const core::Error& e) {
    fmt::print(stderr, "squeeze-sim validate: {}\n", e.message);
    return e.code;
  };
  auto input = load_sim_input(args.trace);
  if (!input.ok()) return fail(input.error());
  auto report = validate_runs(*input, args.trace_hardware);
  if (!report.ok()) return fail(report.error());
  if (args.json) {
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& r : report->runs)
      runs.push_back({{"run_id", r.run_id},
                      {"label", r.label},
                      {"policy", r.policy},
                      {"batch", r.batch},
                      {"measured_tokens_per_s", r.measured_tokens_per_s},
                      {"predicted_tokens_per_s", r.predicted_tokens_per_s},
                      {"measured_step_ms", r.measured_step_ms},
                      {"predicted_step_ms", r.predicted_step_ms},
                      {"measured_prefill_ms", r.measured_prefill_ms},
                      {"predicted_prefill_ms", r.predicted_prefill_ms},
                      {"measured_peak_bytes", r.measured_peak_bytes},
                      {"predicted_peak_bytes", r.predicted_peak_bytes},
                      {"predicted_fresh_peak_bytes", r.predicted_fresh_peak_bytes},
                      {"carried_bytes", r.carried_bytes},
                      {"engine_history", r.engine_history},
                      {"throughput_error", number_or_null(r.throughput_error)},
                      {"memory_error", number_or_null(r.memory_error)},
                      {"memory_error_fresh", number_or_null(r.memory_error_fresh)}});
    const nlohmann::json out = {{"trace", args.trace},
                                {"synthetic_trace", input->synthetic},
                                {"method", "leave-one-out: calibration tables + the other runs"},
                                {"throughput_mape", number_or_null(report->throughput_mape)},
                                {"memory_mape", number_or_null(report->memory_mape)},
                                {"memory_mape_fresh", number_or_null(report->memory_mape_fresh)},
                                {"prefill_mape", number_or_null(report->prefill_mape)},
                                {"runs", runs},
                                {"notes", report->notes}};
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (input->synthetic) fmt::print("note: SYNTHETIC trace: this checks the simulator against a roofline model, not a GPU\n");
  for (const auto& note : report->notes) fmt::print("note: {}\n", note);
  fmt::print("{:>4}  {:<30} {:>6} {:>11} {:>11} {:>7}  {:>10} {:>10} {:>7} {:>9}\n", "run", "label", "batch",
             "tok/s meas", "tok/s pred", "err", "peak meas", "peak pred", "err", "carried");
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  for (const auto& r : report->runs)
    fmt::print("{:>4}  {:<30} {:>6} {:>11.1f} {:>11.1f} {:>6.1f}%  {:>8.2f}Gi {:>8.2f}Gi {:>6.2f}% {:>7.2f}Gi\n",
               r.run_id, r.label, r.batch, r.measured_tokens_per_s, r.predicted_tokens_per_s,
               100 * r.throughput_error, double(r.measured_peak_bytes) / kGiB,
               double(r.predicted_peak_bytes) / kGiB, 100 * r.memory_error, double(r.carried_bytes) / kGiB);
  fmt::print("\nthroughput MAPE {:.2f}% over {} runs, memory MAPE {:.2f}% over {} runs, prefill MAPE {:.2f}% over {} runs\n",
             100 * report->throughput_mape, report->throughput_runs, 100 * report->memory_mape,
             report->memory_runs, 100 * report->prefill_mape, report->prefill_runs);
  return 0;
}

}  // namespace

void add_validate_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ValidateArgs>();
  auto* cmd = app.add_subcommand("validate",
                                 "Predict every measured run of a trace (leave-one-out) and report per-run "
                                 "errors and MAPE for throughput and memory");
  cmd->add_option("trace", args->trace, "Trace (.sqz) with calibration tables and measured runs")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--trace-hardware", args->trace_hardware,
                  "Hardware-table name of the GPU the trace was captured on, when its name is not recognised");
  cmd->add_flag("--json", args->json, "JSON output (keys throughput_mape, memory_mape, runs)");
  cmd->callback([args, &exit_code] { exit_code = run_validate(*args); });
}

}  // namespace squeeze::sim::cli
