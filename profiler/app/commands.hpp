#pragma once
// Each function adds one subcommand to squeeze-profile. Its callback runs the command and stores
// the process exit status in `exit_code` (0 ok, 1 runtime failure, 2 bad input).
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "squeeze/core/result.hpp"
#include "squeeze/profiler/engine.hpp"

namespace squeeze::profiler::cli {

void add_devices_command(CLI::App& app, int& exit_code);
void add_generate_command(CLI::App& app, int& exit_code);
void add_capture_command(CLI::App& app, int& exit_code);

// Checks the device before the (possibly slow) model load, then loads and builds the engine.
[[nodiscard]] core::Result<std::unique_ptr<Engine>> open_engine(const std::string& device,
                                                                const std::string& model_path);
// Prints "error: ..." to stderr and returns the error's exit code.
int report(const core::Error& error);

}  // namespace squeeze::profiler::cli
