// squeeze-profile: run real models, capture layer similarities and kernel timings into a trace.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "squeeze/profiler/device_info.hpp"

int main(int argc, char** argv) {
  CLI::App app{"squeeze-profile: run Llama-family models, capture per-layer similarities and "
               "kernel timings into a .sqz trace"};
  app.require_subcommand(1);
  auto* devices = app.add_subcommand("devices", "List the GPUs this build can use");
  int exit_code = 0;
  devices->callback([&] {
    if (!squeeze::profiler::cuda_built()) fmt::print("CUDA backend: not built (cpu only)\n");
    auto gpus = squeeze::profiler::list_gpus();
    if (gpus.empty()) fmt::print("no CUDA device visible\n");
    for (const auto& g : gpus)
      fmt::print("{}: {} (sm_{}{}, {} SMs, {:.1f} GiB)\n", g.index, g.name, g.compute_major,
                 g.compute_minor, g.sm_count, g.memory_bytes / double(1 << 30));
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return exit_code;
}
