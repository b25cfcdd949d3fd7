// squeeze-profile: run real models, capture layer similarities and kernel timings into a trace.
#include <CLI/CLI.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"squeeze-profile: run Llama-family models, capture per-layer similarities and "
               "kernel timings into a .sqz trace"};
  app.require_subcommand(1);
  int exit_code = 0;
  squeeze::profiler::cli::add_devices_command(app, exit_code);
  squeeze::profiler::cli::add_generate_command(app, exit_code);
  squeeze::profiler::cli::add_capture_command(app, exit_code);
  squeeze::profiler::cli::add_calibrate_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help exits 0; every malformed command line is bad input (2).
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return exit_code;
}
