// The Tokenizer defaults and load_tokenizer(): which tokenizer file belongs to which model.

#include <array>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "squeeze/profiler/tokenizer.hpp"

namespace squeeze::profiler {
namespace fs = std::filesystem;

std::string Tokenizer::decode_next(int /*previous*/, int token) const { return decode(token); }

std::string Tokenizer::decode(std::span<const int> tokens) const {
  std::string out;
  int previous = -1;
  for (int t : tokens) {
    if (t != bos_id() && t != eos_id()) out += decode_next(previous, t);
    previous = t;
  }
  return out;
}

namespace {

bool has_gguf_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::array<char, 4> magic{};
  in.read(magic.data(), magic.size());
  return in.gcount() == 4 && magic == std::array<char, 4>{'G', 'G', 'U', 'F'};
}

// llama2.c keeps the tokenizer beside the checkpoint: tok<vocab>.bin (tinyllamas) or tokenizer.bin.
core::Result<std::string> find_llama2c_tokenizer(const std::string& model_path) {
  const fs::path dir = fs::path(model_path).parent_path();
  std::vector<fs::path> candidates;
  std::ifstream in(model_path, std::ios::binary);
  std::array<std::int32_t, 7> header{};
  in.read(reinterpret_cast<char*>(header.data()), sizeof(header));
  if (in.gcount() == sizeof(header)) {
    const std::int64_t vocab = header[5] < 0 ? -std::int64_t{header[5]} : header[5];
    candidates.push_back(dir / fmt::format("tok{}.bin", vocab));
  }
  candidates.push_back(dir / "tokenizer.bin");
  std::error_code ec;
  for (const auto& c : candidates)
    if (fs::is_regular_file(c, ec)) return c.string();
  std::string tried;
  for (const auto& c : candidates) tried += (tried.empty() ? "" : ", ") + c.string();
  return core::make_error(fmt::format("{}: no llama2.c tokenizer found (looked for {}); pass one explicitly",
                                      model_path, tried));
}

core::Result<std::unique_ptr<Tokenizer>> load_tokenizer_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return core::make_error(fmt::format("{}: tokenizer file not found", path));
  if (fs::path(path).extension() == ".json") return load_hf_tokenizer_json(path);
  if (fs::path(path).extension() == ".model") return load_sentencepiece_model(path);
  if (has_gguf_magic(path)) return load_gguf_tokenizer(path);
  return load_llama2c_tokenizer(path);
}

}  // namespace

core::Result<std::unique_ptr<Tokenizer>> load_tokenizer(const std::string& model_path,
                                                        const std::optional<std::string>& tokenizer_path) {
  if (tokenizer_path) return load_tokenizer_file(*tokenizer_path);
  std::error_code ec;
  if (fs::is_directory(model_path, ec)) {
    const fs::path json = fs::path(model_path) / "tokenizer.json";
    const fs::path sentencepiece = fs::path(model_path) / "tokenizer.model";
    const bool has_sentencepiece = fs::is_regular_file(sentencepiece, ec);
    if (fs::is_regular_file(json, ec)) {
      auto tok = load_hf_tokenizer_json(json.string());
      if (tok.ok() || !has_sentencepiece) return tok;
    }
    if (has_sentencepiece) return load_sentencepiece_model(sentencepiece.string());
    return core::make_error(fmt::format("{}: no tokenizer.json or tokenizer.model in the model directory", model_path));
  }
  if (!fs::is_regular_file(model_path, ec))
    return core::make_error(fmt::format("{}: model file not found", model_path));
  if (has_gguf_magic(model_path)) return load_gguf_tokenizer(model_path);
  SQZ_TRY(path, find_llama2c_tokenizer(model_path));
  return load_llama2c_tokenizer(path);
}

}  // namespace squeeze::profiler
