#pragma once
// Each function adds one subcommand to squeeze-profile. Its callback runs the command and stores
// the process exit status in `exit_code` (0 ok, 1 runtime failure, 2 bad input).
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "squeeze/core/result.hpp"
#include "squeeze/profiler/cuda/cuda_capture.hpp"
#include "squeeze/profiler/engine.hpp"

namespace squeeze::profiler::cli {

void add_devices_command(CLI::App& app, int& exit_code);
void add_generate_command(CLI::App& app, int& exit_code);
void add_capture_command(CLI::App& app, int& exit_code);
void add_calibrate_command(CLI::App& app, int& exit_code);

// capture --device cuda (cuda_capture_command.cpp): measured runs instead of similarities.
struct CudaCaptureArgs {
  CudaCaptureOptions options;
  std::string similarity_from;  // trace with layer similarities (squeeze budgets), optional
};
void add_cuda_capture_options(CLI::App& cmd, CudaCaptureArgs& args);
// model: empty keeps options.model (random:llama-2-7b).
int run_cuda_capture_command(CudaCaptureArgs args, const std::string& model, const std::string& out);

// Checks the device before the (possibly slow) model load, then loads and builds the engine.
[[nodiscard]] core::Result<std::unique_ptr<Engine>> open_engine(const std::string& device,
                                                                const std::string& model_path);
// Prints "error: ..." to stderr and returns the error's exit code.
int report(const core::Error& error);

}  // namespace squeeze::profiler::cli
