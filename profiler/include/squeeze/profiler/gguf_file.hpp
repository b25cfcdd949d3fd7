#pragma once
// A parsed GGUF (v2/v3) file: metadata key/values, tensor infos and a read-only map of the data.
// Parsing checks every count, length and offset against the file, so what it returns can be
// read without further bounds checks. Used by the GGUF model loader and the GGUF tokenizer.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "squeeze/core/result.hpp"

namespace squeeze::profiler {

enum class GgufType : std::uint32_t {
  Uint8 = 0, Int8 = 1, Uint16 = 2, Int16 = 3, Uint32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
  String = 8, Array = 9, Uint64 = 10, Int64 = 11, Float64 = 12,
};

struct GgufValue {
  GgufType type = GgufType::Uint8;
  GgufType element_type = GgufType::Uint8;  // arrays only
  std::variant<std::uint64_t, std::int64_t, double, bool, std::string, std::vector<GgufValue>> value;

  // Any integer type (and bool) as int64; nullopt for other types or unsigned values past int64.
  [[nodiscard]] std::optional<std::int64_t> as_int() const;
  // Any number as double.
  [[nodiscard]] std::optional<double> as_double() const;
  [[nodiscard]] const std::string* as_string() const;
  [[nodiscard]] const std::vector<GgufValue>* as_array() const;
};

// ggml tensor types this project can dequantize (ggml's numbering).
enum class GgmlType : std::uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q4_K = 12, Q6_K = 14, BF16 = 30,
};

[[nodiscard]] const char* ggml_type_name(std::uint32_t type);

struct GgufTensorInfo {
  std::string name;
  std::vector<std::uint64_t> dims;  // ne[0] first: innermost (contiguous) dimension first
  std::uint32_t type = 0;           // GgmlType value (may be one we cannot dequantize)
  std::uint64_t offset = 0;         // relative to the data section
  std::uint64_t n_elements = 0;
  std::span<const std::uint8_t> data;  // its bytes inside the map (empty for unknown types)
};

class GgufFile {
 public:
  [[nodiscard]] static core::Result<GgufFile> open(const std::string& path);

  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  ~GgufFile();

  [[nodiscard]] const std::string& path() const;
  [[nodiscard]] std::uint32_t version() const { return version_; }
  [[nodiscard]] std::uint64_t alignment() const { return alignment_; }
  [[nodiscard]] const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
  [[nodiscard]] const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }

  [[nodiscard]] const GgufValue* find(const std::string& key) const;
  [[nodiscard]] const GgufTensorInfo* find_tensor(const std::string& name) const;

  // Typed metadata lookups: an Error naming the file and key when missing or of the wrong type.
  [[nodiscard]] core::Result<std::int64_t> get_int(const std::string& key) const;
  [[nodiscard]] core::Result<double> get_double(const std::string& key) const;
  [[nodiscard]] core::Result<std::string> get_string(const std::string& key) const;
  [[nodiscard]] core::Result<std::vector<std::string>> get_string_array(const std::string& key) const;
  [[nodiscard]] core::Result<std::vector<std::int64_t>> get_int_array(const std::string& key) const;

  // The tensor dequantized to fp32, in file order (ne[0] fastest: row-major (ne[1], ne[0])).
  [[nodiscard]] core::Result<std::vector<float>> dequantize(const GgufTensorInfo& tensor) const;

 private:
  GgufFile();
  struct Storage;
  std::unique_ptr<Storage> storage_;
  std::uint32_t version_ = 0;
  std::uint64_t alignment_ = 32;
  std::map<std::string, GgufValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, std::size_t> tensor_index_;
};

}  // namespace squeeze::profiler
