#include "trace_meta.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "squeeze/core/trace_model_json.hpp"

namespace squeeze::core::trace_meta {
namespace {

constexpr const char* kTool = "tool";
constexpr const char* kToolVersion = "tool_version";
constexpr const char* kCreated = "created_utc";
constexpr const char* kHost = "host";
constexpr const char* kDeviceKind = "device_kind";
constexpr const char* kGpuName = "gpu_name";
constexpr const char* kSmCount = "sm_count";
constexpr const char* kGpuMemory = "gpu_memory_bytes";
constexpr const char* kDriver = "driver";
constexpr const char* kCopyBandwidth = "copy_bandwidth_bytes_per_s";
constexpr const char* kModelConfig = "model_config";
constexpr const char* kModelSource = "model_source";
constexpr const char* kNotes = "notes";

template <class T>
Status parse_number(const std::map<std::string, std::string>& rows, const char* key, T& out) {
  const auto it = rows.find(key);
  if (it == rows.end() || it->second.empty()) return {};
  const std::string& text = it->second;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return make_error(fmt::format("meta key '{}' is not a number: '{}'", key, text));
  }
  return {};
}

std::string text_of(const std::map<std::string, std::string>& rows, const char* key) {
  const auto it = rows.find(key);
  return it == rows.end() ? std::string() : it->second;
}

}  // namespace

const std::vector<std::string>& known_keys() {
  static const std::vector<std::string> keys = {
      kTool,      kToolVersion, kCreated,       kHost,        kDeviceKind,  kGpuName, kSmCount,
      kGpuMemory, kDriver,      kCopyBandwidth, kModelConfig, kModelSource, kNotes};
  return keys;
}

std::map<std::string, std::string> to_rows(const TraceMeta& meta) {
  std::map<std::string, std::string> rows = meta.extra;
  rows[kTool] = meta.tool;
  rows[kToolVersion] = meta.tool_version;
  rows[kCreated] = meta.created_utc;
  rows[kHost] = meta.host;
  rows[kDeviceKind] = meta.device_kind;
  rows[kGpuName] = meta.gpu_name;
  rows[kSmCount] = fmt::format("{}", meta.sm_count);
  rows[kGpuMemory] = fmt::format("{}", meta.gpu_memory_bytes);
  rows[kDriver] = meta.driver;
  rows[kCopyBandwidth] = fmt::format("{}", meta.copy_bandwidth_bytes_per_s);  // shortest exact
  if (meta.model) rows[kModelConfig] = model_config_to_json(*meta.model);
  rows[kModelSource] = meta.model_source;
  rows[kNotes] = meta.notes;
  return rows;
}

Result<TraceMeta> from_rows(const std::map<std::string, std::string>& rows) {
  TraceMeta meta;
  meta.tool = text_of(rows, kTool);
  meta.tool_version = text_of(rows, kToolVersion);
  meta.created_utc = text_of(rows, kCreated);
  meta.host = text_of(rows, kHost);
  meta.device_kind = text_of(rows, kDeviceKind);
  meta.gpu_name = text_of(rows, kGpuName);
  SQZ_CHECK(parse_number(rows, kSmCount, meta.sm_count));
  SQZ_CHECK(parse_number(rows, kGpuMemory, meta.gpu_memory_bytes));
  meta.driver = text_of(rows, kDriver);
  SQZ_CHECK(parse_number(rows, kCopyBandwidth, meta.copy_bandwidth_bytes_per_s));
  if (const auto it = rows.find(kModelConfig); it != rows.end()) {
    auto model = model_config_from_json(it->second);
    if (!model.ok())
      return make_error(fmt::format("meta key 'model_config': {}", model.error().message));
    meta.model = std::move(*model);
  }
  meta.model_source = text_of(rows, kModelSource);
  meta.notes = text_of(rows, kNotes);
  for (const auto& [key, value] : rows) {
    if (std::find(known_keys().begin(), known_keys().end(), key) == known_keys().end()) {
      meta.extra.emplace(key, value);
    }
  }
  return meta;
}

std::string layer_budgets_to_json(const std::vector<int>& budgets) {
  return nlohmann::json(budgets).dump();
}

Result<std::vector<int>> layer_budgets_from_json(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) {
    return make_error(fmt::format("layer_budgets is not a JSON array: '{}'", text));
  }
  std::vector<int> budgets;
  budgets.reserve(j.size());
  for (const auto& v : j) {
    if (!v.is_number_integer()) {
      return make_error(fmt::format("layer_budgets holds a non-integer: '{}'", text));
    }
    budgets.push_back(v.get<int>());
  }
  return budgets;
}

}  // namespace squeeze::core::trace_meta
