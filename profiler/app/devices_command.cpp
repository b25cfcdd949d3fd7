#include <fmt/format.h>

#include "commands.hpp"
#include "squeeze/profiler/device_info.hpp"

namespace squeeze::profiler::cli {

void add_devices_command(CLI::App& app, int& /*exit_code*/) {
  auto* devices = app.add_subcommand("devices", "List the GPUs this build can use");
  devices->callback([] {
    if (!cuda_built()) fmt::print("CUDA backend: not built (cpu only)\n");
    auto gpus = list_gpus();
    if (gpus.empty()) fmt::print("no CUDA device visible\n");
    for (const auto& g : gpus)
      fmt::print("{}: {} (sm_{}{}, {} SMs, {:.1f} GiB)\n", g.index, g.name, g.compute_major,
                 g.compute_minor, g.sm_count, g.memory_bytes / double(1 << 30));
  });
}

}  // namespace squeeze::profiler::cli
