// squeeze-sim: budgets, trace inspection, and (later) memory/throughput prediction.
#include <CLI/CLI.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "squeeze-sim: plan layer-wise KV-cache budgets (SqueezeAttention) and predict memory and\n"
      "throughput from captured traces. Run 'squeeze-sim COMMAND --help' for each command."};
  app.require_subcommand(1);
  int exit_code = 0;
  squeeze::sim::cli::add_budgets_command(app, exit_code);
  squeeze::sim::cli::add_info_command(app, exit_code);
  squeeze::sim::cli::add_export_command(app, exit_code);
  squeeze::sim::cli::add_synth_command(app, exit_code);
  squeeze::sim::cli::add_layers_command(app, exit_code);
  squeeze::sim::cli::add_predict_command(app, exit_code);
  squeeze::sim::cli::add_sweep_command(app, exit_code);
  squeeze::sim::cli::add_validate_command(app, exit_code);
  squeeze::sim::cli::add_headline_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every malformed command line is "bad input" (2).
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return exit_code;
}
