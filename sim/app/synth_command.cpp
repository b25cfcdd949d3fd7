// squeeze-sim synth: writes a small SYNTHETIC trace (roofline-priced, paper-shaped similarities)
// so the simulator and the GUI have data before a real GPU capture exists. The generator is
// core's (trace_synthetic.hpp).
#include <fmt/format.h>

#include <cstdint>
#include <memory>
#include <string>

#include "commands.hpp"
#include "squeeze/core/trace_reader.hpp"
#include "squeeze/core/trace_synthetic.hpp"

namespace squeeze::sim::cli {
namespace {

struct SynthOptions {
  std::string out;
  std::string model = "llama2-7b";
  std::uint64_t seed = 1;
};

int run_synth(const SynthOptions& opts) {
  core::SyntheticTraceOptions options;
  options.model = opts.model;
  options.seed = opts.seed;
  if (auto written = core::write_synthetic_trace(opts.out, options); !written.ok()) {
    fmt::print(stderr, "squeeze-sim synth: {}\n", written.error().message);
    return written.error().code;
  }
  // Read it back, so "wrote" is only printed for a file a reader accepts.
  auto trace = core::TraceReader::open(opts.out);
  if (!trace.ok()) {
    fmt::print(stderr, "squeeze-sim synth: wrote an unreadable trace: {}\n", trace.error().message);
    return 1;
  }
  auto counts = trace->counts();
  if (!counts.ok()) {
    fmt::print(stderr, "squeeze-sim synth: {}\n", counts.error().message);
    return 1;
  }
  fmt::print(
      "wrote SYNTHETIC trace {} ({}, seed {}): {} prompts, {} runs, {} kernels, {} "
      "calibration points\n",
      opts.out, opts.model, opts.seed, counts->prompts, counts->runs, counts->kernels,
      counts->calibration);
  return 0;
}

}  // namespace

void add_synth_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<SynthOptions>();
  auto* cmd = app.add_subcommand(
      "synth",
      "Write a small SYNTHETIC trace (roofline H100 model, no measurements) for trying "
      "the simulator and GUI without a GPU");
  cmd->add_option("--out", opts->out, "Trace file to write (replaced if it exists)")->required();
  cmd->add_option("--model", opts->model, "Model shape")
      ->check(CLI::IsMember(core::synthetic_model_names()))
      ->capture_default_str();
  cmd->add_option("--seed", opts->seed, "Seed of the deterministic noise")->capture_default_str();
  cmd->callback([opts, &exit_code] { exit_code = run_synth(*opts); });
}

}  // namespace squeeze::sim::cli
