#include "commands.hpp"

namespace squeeze::sim::cli {

// Placeholder until the simulator work lands.
void add_validate_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("validate", "(not yet implemented)");
  cmd->callback([&exit_code] { exit_code = 1; });
}

}  // namespace squeeze::sim::cli
