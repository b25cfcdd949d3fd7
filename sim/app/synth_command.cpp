#include "commands.hpp"

namespace squeeze::sim::cli {

// Placeholder until the trace work lands.
void add_synth_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("synth", "(not yet implemented)");
  cmd->callback([&exit_code] { exit_code = 1; });
}

}  // namespace squeeze::sim::cli
