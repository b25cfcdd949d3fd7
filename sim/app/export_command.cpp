#include "commands.hpp"

namespace squeeze::sim::cli {

// Placeholder until the trace work lands.
void add_export_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("export", "(not yet implemented)");
  cmd->callback([&exit_code] { exit_code = 1; });
}

}  // namespace squeeze::sim::cli
