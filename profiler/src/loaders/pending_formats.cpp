// Temporary: formats whose loaders are still being written answer with a clear error.
#include <fmt/format.h>

#include "squeeze/profiler/model_loader.hpp"

namespace squeeze::profiler {

core::Result<ModelWeights> load_gguf_model(const std::string& path) {
  return core::make_error(fmt::format("{}: GGUF loading is not implemented yet", path));
}

}  // namespace squeeze::profiler
