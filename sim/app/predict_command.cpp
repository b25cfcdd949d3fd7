#include "commands.hpp"

namespace squeeze::sim::cli {

// Placeholder until the simulator work lands.
void add_predict_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("predict", "(not yet implemented)");
  cmd->callback([&exit_code] { exit_code = 1; });
}

}  // namespace squeeze::sim::cli
