#pragma once
// Each function adds one subcommand to squeeze-sim. Its callback runs the command and stores the
// process exit status in `exit_code` (0 ok, 1 runtime failure, 2 bad input).
#include <CLI/CLI.hpp>

namespace squeeze::sim::cli {

void add_budgets_command(CLI::App& app, int& exit_code);
void add_info_command(CLI::App& app, int& exit_code);
void add_export_command(CLI::App& app, int& exit_code);
void add_synth_command(CLI::App& app, int& exit_code);
void add_layers_command(CLI::App& app, int& exit_code);
void add_predict_command(CLI::App& app, int& exit_code);
void add_sweep_command(CLI::App& app, int& exit_code);
void add_validate_command(CLI::App& app, int& exit_code);
void add_headline_command(CLI::App& app, int& exit_code);

}  // namespace squeeze::sim::cli
