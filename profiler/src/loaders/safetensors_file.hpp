#pragma once
// One .safetensors file: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the data.
// Parsing validates everything a tensor read relies on, so reads afterwards cannot go wrong.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "mapped_file.hpp"
#include "squeeze/core/result.hpp"

namespace squeeze::profiler::loaders {

enum class StDType { F32, F16, BF16, Other };

struct SafetensorsTensor {
  std::string dtype_name;            // as written: "F32", "BF16", "I64", ...
  StDType dtype = StDType::Other;
  std::vector<std::int64_t> shape;
  std::span<const std::uint8_t> data;  // inside the file's map
};

class SafetensorsFile {
 public:
  [[nodiscard]] static core::Result<SafetensorsFile> open(const std::string& path);

  [[nodiscard]] const std::string& path() const { return file_.path(); }
  [[nodiscard]] const std::map<std::string, SafetensorsTensor>& tensors() const { return tensors_; }

 private:
  explicit SafetensorsFile(MappedFile file) : file_(std::move(file)) {}
  MappedFile file_;
  std::map<std::string, SafetensorsTensor> tensors_;
};

// Converts a tensor of F32/F16/BF16 to fp32 (bit-exact). `label` names it in errors.
[[nodiscard]] core::Result<std::vector<float>> safetensors_to_f32(const SafetensorsTensor& tensor,
                                                                 const std::string& label);

}  // namespace squeeze::profiler::loaders
