#include <fmt/format.h>

#include "commands.hpp"
#include "squeeze/profiler/device_info.hpp"
#include "squeeze/profiler/model_loader.hpp"

namespace squeeze::profiler::cli {

core::Result<std::unique_ptr<Engine>> open_engine(const std::string& device,
                                                  const std::string& model_path) {
  if (device != "cpu" && device != "cuda")
    return core::make_error(fmt::format("--device: unknown device '{}' (expected cpu or cuda)", device), 2);
  if (device == "cuda" && !cuda_built())
    return core::make_error("--device cuda: this build has no CUDA backend; use --device cpu or "
                            "build with -DSQUEEZE_BUILD_CUDA=ON", 2);
  SQZ_TRY(weights, load_model(model_path));
  return make_engine(device, std::move(weights));
}

int report(const core::Error& error) {
  fmt::print(stderr, "error: {}\n", error.message);
  return error.code == 0 ? 1 : error.code;
}

}  // namespace squeeze::profiler::cli
