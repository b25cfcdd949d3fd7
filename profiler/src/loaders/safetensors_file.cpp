#include "safetensors_file.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "half_float.hpp"

namespace squeeze::profiler::loaders {
namespace {

using core::make_error;
using nlohmann::json;

// Real headers are kilobytes to a few MB; anything beyond this is a lie or not safetensors.
constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;
constexpr std::size_t kMaxDims = 8;

int dtype_size(const std::string& name) {
  if (name == "F64" || name == "I64" || name == "U64") return 8;
  if (name == "F32" || name == "I32" || name == "U32") return 4;
  if (name == "F16" || name == "BF16" || name == "I16" || name == "U16") return 2;
  if (name == "I8" || name == "U8" || name == "BOOL" || name == "F8_E4M3" || name == "F8_E5M2") return 1;
  return 0;
}

StDType classify(const std::string& name) {
  if (name == "F32") return StDType::F32;
  if (name == "F16") return StDType::F16;
  if (name == "BF16") return StDType::BF16;
  return StDType::Other;
}

}  // namespace

core::Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  SQZ_TRY(mapped, MappedFile::open(path));
  SafetensorsFile st(std::move(mapped));
  const auto bytes = st.file_.bytes();
  if (bytes.size() < 8)
    return make_error(fmt::format("{}: {} bytes is too short for a safetensors header", path, bytes.size()));
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  if (header_len > kMaxHeaderBytes || header_len > bytes.size() - 8)
    return make_error(fmt::format("{}: header length {} does not fit in the file ({} bytes); truncated or not safetensors?",
                                  path, header_len, bytes.size()));
  const auto* header_begin = reinterpret_cast<const char*>(bytes.data() + 8);
  json header;
  try {
    header = json::parse(header_begin, header_begin + header_len);
  } catch (const json::exception& e) {
    return make_error(fmt::format("{}: the JSON header is malformed: {}", path, e.what()));
  }
  if (!header.is_object()) return make_error(fmt::format("{}: the JSON header is not an object", path));

  const auto data = bytes.subspan(8 + header_len);
  struct Extent {
    std::uint64_t begin, end;
    const std::string* name;
  };
  std::vector<Extent> extents;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const auto& name = it.key();
    const auto& entry = it.value();
    auto bad = [&](const std::string& problem) {
      return make_error(fmt::format("{}: tensor {}: {}", path, name, problem));
    };
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      return bad("header entry needs dtype, shape and data_offsets");
    const auto& dtype = entry["dtype"];
    const auto& shape = entry["shape"];
    const auto& offsets = entry["data_offsets"];
    if (!dtype.is_string()) return bad("dtype is not a string");
    if (!shape.is_array() || shape.size() > kMaxDims) return bad("shape is not an array of at most 8 dims");
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
      return bad("data_offsets is not [begin, end] of non-negative integers");
    SafetensorsTensor t;
    t.dtype_name = dtype.get<std::string>();
    t.dtype = classify(t.dtype_name);
    const int elem = dtype_size(t.dtype_name);
    if (elem == 0) return bad(fmt::format("unknown dtype '{}'", t.dtype_name));
    // Element count with overflow checks: every dim bounded by the data size it must fit in.
    std::uint64_t count = 1;
    for (const auto& d : shape) {
      if (!d.is_number_integer() || d.get<std::int64_t>() < 0) return bad("shape has a negative or non-integer dim");
      const auto dim = d.get<std::uint64_t>();
      if (dim != 0 && count > std::numeric_limits<std::uint64_t>::max() / 8 / dim)
        return bad("shape is impossibly large");
      count *= dim;
      t.shape.push_back(static_cast<std::int64_t>(dim));
    }
    const auto begin = offsets[0].get<std::uint64_t>();
    const auto end = offsets[1].get<std::uint64_t>();
    if (begin > end) return bad(fmt::format("data_offsets [{}, {}] run backwards", begin, end));
    if (end > data.size())
      return bad(fmt::format("data_offsets [{}, {}] go past the end of the data ({} bytes; file truncated?)", begin,
                             end, data.size()));
    if (end - begin != count * static_cast<std::uint64_t>(elem))
      return bad(fmt::format("{} elements of {} need {} bytes but data_offsets span {}", count, t.dtype_name,
                             count * static_cast<std::uint64_t>(elem), end - begin));
    t.data = data.subspan(begin, end - begin);
    auto [pos, inserted] = st.tensors_.emplace(name, std::move(t));
    extents.push_back({begin, end, &pos->first});
  }
  std::sort(extents.begin(), extents.end(), [](const Extent& a, const Extent& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < extents.size(); ++i)
    if (extents[i].begin < extents[i - 1].end)
      return make_error(fmt::format("{}: tensors {} and {} overlap in the data section", path, *extents[i - 1].name,
                                    *extents[i].name));
  return st;
}

core::Result<std::vector<float>> safetensors_to_f32(const SafetensorsTensor& tensor, const std::string& label) {
  std::size_t count = 1;
  for (auto d : tensor.shape) count *= static_cast<std::size_t>(d);
  std::vector<float> out(count);
  const auto* src = tensor.data.data();
  switch (tensor.dtype) {
    case StDType::F32:
      std::memcpy(out.data(), src, count * 4);
      break;
    case StDType::F16:
      for (std::size_t i = 0; i < count; ++i) {
        std::uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = f16_to_f32(h);
      }
      break;
    case StDType::BF16:
      for (std::size_t i = 0; i < count; ++i) {
        std::uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = bf16_to_f32(h);
      }
      break;
    case StDType::Other:
      return make_error(fmt::format("{}: dtype {} is not supported (expected F32, F16 or BF16)", label,
                                    tensor.dtype_name));
  }
  return out;
}

}  // namespace squeeze::profiler::loaders
