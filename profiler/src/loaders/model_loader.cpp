// Format detection and dispatch for load_model().

#include <array>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "squeeze/profiler/model_loader.hpp"

namespace squeeze::profiler {

const char* model_format_name(ModelFormat format) {
  switch (format) {
    case ModelFormat::Llama2c: return "llama2.c";
    case ModelFormat::HuggingFace: return "Hugging Face";
    case ModelFormat::Gguf: return "GGUF";
  }
  return "?";
}

core::Result<ModelFormat> detect_model_format(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return core::make_error(fmt::format("{}: no such file or directory", path));
  if (fs::is_directory(status)) {
    if (fs::exists(fs::path(path) / "config.json", ec)) return ModelFormat::HuggingFace;
    return core::make_error(fmt::format("{}: a directory without config.json is not a Hugging Face model", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::make_error(fmt::format("{}: cannot open", path));
  std::array<char, 4> magic{};
  in.read(magic.data(), magic.size());
  if (in.gcount() == 4 && magic == std::array<char, 4>{'G', 'G', 'U', 'F'}) return ModelFormat::Gguf;
  return ModelFormat::Llama2c;
}

core::Result<ModelWeights> load_model(const std::string& path) {
  SQZ_TRY(format, detect_model_format(path));
  auto loaded = [&]() -> core::Result<ModelWeights> {
    switch (format) {
      case ModelFormat::Llama2c: return load_llama2c_model(path);
      case ModelFormat::HuggingFace: return load_hf_model(path);
      case ModelFormat::Gguf: return load_gguf_model(path);
    }
    return core::make_error(fmt::format("{}: unknown model format", path));
  }();
  if (!loaded.ok()) return loaded;
  SQZ_CHECK(check_weights_finite(*loaded));
  return loaded;
}

}  // namespace squeeze::profiler
