// Temporary: tokenizer formats still being written answer with a clear error.
#include <fmt/format.h>

#include "squeeze/profiler/tokenizer.hpp"

namespace squeeze::profiler {

core::Result<std::unique_ptr<Tokenizer>> load_hf_tokenizer_json(const std::string& path) {
  return core::make_error(fmt::format("{}: tokenizer.json is not supported yet", path));
}

core::Result<std::unique_ptr<Tokenizer>> load_gguf_tokenizer(const std::string& path) {
  return core::make_error(fmt::format("{}: GGUF tokenizers are not supported yet", path));
}

}  // namespace squeeze::profiler
