// Reading capture prompts from .txt (one prompt) and .jsonl (one per line) files.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "squeeze/profiler/capture.hpp"

namespace squeeze::profiler {

core::Result<std::vector<PromptText>> read_prompts(const std::string& path,
                                                   const std::string& field, int limit) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return core::make_error(fmt::format("{}: no such prompts file", path), 2);
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::make_error(fmt::format("{}: cannot open", path), 2);
  const fs::path p(path);
  const std::string stem = p.stem().string();
  const std::string ext = p.extension().string();
  std::vector<PromptText> prompts;
  if (ext == ".txt") {
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().empty()) return core::make_error(fmt::format("{}: empty prompt file", path), 2);
    prompts.push_back({stem, text.str()});
    return prompts;
  }
  if (ext != ".jsonl")
    return core::make_error(fmt::format("{}: prompts must be a .txt file (one prompt) or a .jsonl "
                                        "file (one prompt per line)", path), 2);
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object())
      return core::make_error(fmt::format("{}:{}: not a JSON object", path, line_number), 2);
    auto it = json.find(field);
    if (it == json.end() || !it->is_string())
      return core::make_error(fmt::format("{}:{}: no string field '{}' (choose one with --field)",
                                          path, line_number, field), 2);
    prompts.push_back({fmt::format("{}-{}", stem, line_number), it->get<std::string>()});
    if (limit > 0 && static_cast<int>(prompts.size()) >= limit) break;
  }
  if (prompts.empty()) return core::make_error(fmt::format("{}: no prompts", path), 2);
  return prompts;
}

}  // namespace squeeze::profiler
