// GGUF parsing (ggml/docs/gguf.md): "GGUF", version, tensor_count, kv_count, the key/values, the
// tensor infos, padding to general.alignment, then the tensor data. Every count is capped by the
// bytes left in the file (each entry needs at least one byte), so a lying header cannot make us
// allocate or loop more than the file size allows.

#include "squeeze/profiler/gguf_file.hpp"

#include <fmt/format.h>

#include "byte_reader.hpp"
#include "ggml_blocks.hpp"
#include "mapped_file.hpp"

namespace squeeze::profiler {
namespace {

using core::make_error;
using core::Result;
using loaders::ByteReader;

constexpr int kMaxArrayDepth = 4;
constexpr std::uint32_t kMaxDims = 4;  // GGML_MAX_DIMS

const char* value_type_name(GgufType t) {
  switch (t) {
    case GgufType::Uint8: return "uint8";
    case GgufType::Int8: return "int8";
    case GgufType::Uint16: return "uint16";
    case GgufType::Int16: return "int16";
    case GgufType::Uint32: return "uint32";
    case GgufType::Int32: return "int32";
    case GgufType::Float32: return "float32";
    case GgufType::Bool: return "bool";
    case GgufType::String: return "string";
    case GgufType::Array: return "array";
    case GgufType::Uint64: return "uint64";
    case GgufType::Int64: return "int64";
    case GgufType::Float64: return "float64";
  }
  return "?";
}

Result<std::string> read_gguf_string(ByteReader& in, const std::string& what) {
  SQZ_TRY(length, in.read<std::uint64_t>(what + " (string length)"));
  if (length > in.remaining())
    return in.error(what, fmt::format("string length {} is past the end of the file", length));
  return in.read_string(static_cast<std::size_t>(length), what);
}

Result<GgufValue> read_value(ByteReader& in, GgufType type, const std::string& what, int depth);

template <class T>
Result<GgufValue> scalar(ByteReader& in, GgufType type, const std::string& what) {
  SQZ_TRY(v, in.read<T>(what));
  GgufValue out;
  out.type = type;
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    out.value = static_cast<double>(v);
  } else if constexpr (std::is_signed_v<T>) {
    out.value = static_cast<std::int64_t>(v);
  } else {
    out.value = static_cast<std::uint64_t>(v);
  }
  return out;
}

Result<GgufValue> read_value(ByteReader& in, GgufType type, const std::string& what, int depth) {
  switch (type) {
    case GgufType::Uint8: return scalar<std::uint8_t>(in, type, what);
    case GgufType::Int8: return scalar<std::int8_t>(in, type, what);
    case GgufType::Uint16: return scalar<std::uint16_t>(in, type, what);
    case GgufType::Int16: return scalar<std::int16_t>(in, type, what);
    case GgufType::Uint32: return scalar<std::uint32_t>(in, type, what);
    case GgufType::Int32: return scalar<std::int32_t>(in, type, what);
    case GgufType::Uint64: return scalar<std::uint64_t>(in, type, what);
    case GgufType::Int64: return scalar<std::int64_t>(in, type, what);
    case GgufType::Float32: return scalar<float>(in, type, what);
    case GgufType::Float64: return scalar<double>(in, type, what);
    case GgufType::Bool: {
      SQZ_TRY(b, in.read<std::uint8_t>(what));
      if (b > 1) return in.error(what, fmt::format("bool has value {}", b));
      return GgufValue{type, GgufType::Uint8, b == 1};
    }
    case GgufType::String: {
      SQZ_TRY(s, read_gguf_string(in, what));
      return GgufValue{type, GgufType::Uint8, std::move(s)};
    }
    case GgufType::Array: {
      if (depth >= kMaxArrayDepth) return in.error(what, "arrays nested too deeply");
      SQZ_TRY(raw_element, in.read<std::uint32_t>(what + " (array type)"));
      if (raw_element > static_cast<std::uint32_t>(GgufType::Float64))
        return in.error(what, fmt::format("unknown array element type {}", raw_element));
      const auto element = static_cast<GgufType>(raw_element);
      SQZ_TRY(count, in.read<std::uint64_t>(what + " (array length)"));
      if (count > in.remaining())  // every element takes at least one byte
        return in.error(what, fmt::format("array length {} is past the end of the file", count));
      std::vector<GgufValue> items;
      items.reserve(static_cast<std::size_t>(count));
      for (std::uint64_t i = 0; i < count; ++i) {
        SQZ_TRY(item, read_value(in, element, what, depth + 1));
        items.push_back(std::move(item));
      }
      return GgufValue{type, element, std::move(items)};
    }
  }
  return in.error(what, fmt::format("unknown value type {}", static_cast<std::uint32_t>(type)));
}

}  // namespace

std::optional<std::int64_t> GgufValue::as_int() const {
  if (const auto* u = std::get_if<std::uint64_t>(&value))
    return *u <= static_cast<std::uint64_t>(INT64_MAX) ? std::optional<std::int64_t>(static_cast<std::int64_t>(*u)) : std::nullopt;
  if (const auto* i = std::get_if<std::int64_t>(&value)) return *i;
  if (const auto* b = std::get_if<bool>(&value)) return *b ? 1 : 0;
  return std::nullopt;
}

std::optional<double> GgufValue::as_double() const {
  if (const auto* d = std::get_if<double>(&value)) return *d;
  if (const auto* u = std::get_if<std::uint64_t>(&value)) return static_cast<double>(*u);
  if (const auto* i = std::get_if<std::int64_t>(&value)) return static_cast<double>(*i);
  return std::nullopt;
}

const std::string* GgufValue::as_string() const { return std::get_if<std::string>(&value); }
const std::vector<GgufValue>* GgufValue::as_array() const { return std::get_if<std::vector<GgufValue>>(&value); }

const char* ggml_type_name(std::uint32_t type) {
  switch (type) {
    case 0: return "F32";
    case 1: return "F16";
    case 2: return "Q4_0";
    case 3: return "Q4_1";
    case 6: return "Q5_0";
    case 7: return "Q5_1";
    case 8: return "Q8_0";
    case 9: return "Q8_1";
    case 10: return "Q2_K";
    case 11: return "Q3_K";
    case 12: return "Q4_K";
    case 13: return "Q5_K";
    case 14: return "Q6_K";
    case 15: return "Q8_K";
    case 30: return "BF16";
    default: return "unknown";
  }
}

struct GgufFile::Storage {
  loaders::MappedFile file;
};

GgufFile::GgufFile() = default;
GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

const std::string& GgufFile::path() const { return storage_->file.path(); }

Result<GgufFile> GgufFile::open(const std::string& path) {
  SQZ_TRY(mapped, loaders::MappedFile::open(path));
  GgufFile g;
  g.storage_ = std::make_unique<Storage>(Storage{std::move(mapped)});
  ByteReader in(g.storage_->file.bytes(), path);

  SQZ_TRY(magic, in.read<std::uint32_t>("magic"));
  if (magic != 0x46554747u) return make_error(fmt::format("{}: not a GGUF file (magic is not \"GGUF\")", path));
  SQZ_TRY(version, in.read<std::uint32_t>("version"));
  if (version != 2 && version != 3)
    return make_error(fmt::format("{}: GGUF version {} is not supported (2 and 3 are)", path, version));
  g.version_ = version;
  SQZ_TRY(tensor_count, in.read<std::uint64_t>("tensor_count"));
  SQZ_TRY(kv_count, in.read<std::uint64_t>("kv_count"));
  if (tensor_count > in.remaining() / 24 || kv_count > in.remaining() / 13)
    return make_error(fmt::format("{}: header claims {} tensors and {} metadata entries; the file is too small for that",
                                  path, tensor_count, kv_count));

  for (std::uint64_t i = 0; i < kv_count; ++i) {
    SQZ_TRY(key, read_gguf_string(in, fmt::format("metadata key {}", i)));
    const auto what = fmt::format("metadata {}", key);
    SQZ_TRY(raw_type, in.read<std::uint32_t>(what + " (type)"));
    if (raw_type > static_cast<std::uint32_t>(GgufType::Float64))
      return make_error(fmt::format("{}: {}: unknown value type {}", path, what, raw_type));
    SQZ_TRY(value, read_value(in, static_cast<GgufType>(raw_type), what, 0));
    g.metadata_[key] = std::move(value);
  }
  if (const auto* a = g.find("general.alignment")) {
    const auto v = a->as_int();
    if (!v || *v <= 0 || *v > (1 << 20) || (*v & (*v - 1)) != 0)
      return make_error(fmt::format("{}: general.alignment must be a power of two, got {}", path,
                                    v ? std::to_string(*v) : "a non-integer"));
    g.alignment_ = static_cast<std::uint64_t>(*v);
  }

  g.tensors_.reserve(static_cast<std::size_t>(tensor_count));
  for (std::uint64_t i = 0; i < tensor_count; ++i) {
    GgufTensorInfo t;
    SQZ_TRY(name, read_gguf_string(in, fmt::format("tensor info {}", i)));
    t.name = std::move(name);
    const auto what = fmt::format("tensor {}", t.name);
    SQZ_TRY(n_dims, in.read<std::uint32_t>(what + " (n_dims)"));
    if (n_dims == 0 || n_dims > kMaxDims)
      return make_error(fmt::format("{}: {}: {} dimensions (1..{} allowed)", path, what, n_dims, kMaxDims));
    t.n_elements = 1;
    for (std::uint32_t d = 0; d < n_dims; ++d) {
      SQZ_TRY(dim, in.read<std::uint64_t>(what + " (dims)"));
      if (dim == 0 || dim > (std::uint64_t{1} << 40) || t.n_elements > (std::uint64_t{1} << 40) / dim)
        return make_error(fmt::format("{}: {}: dimension {} = {} is impossible", path, what, d, dim));
      t.n_elements *= dim;
      t.dims.push_back(dim);
    }
    SQZ_TRY(type, in.read<std::uint32_t>(what + " (type)"));
    SQZ_TRY(offset, in.read<std::uint64_t>(what + " (offset)"));
    t.type = type;
    t.offset = offset;
    if (g.tensor_index_.count(t.name)) return make_error(fmt::format("{}: {} appears twice", path, what));
    g.tensor_index_[t.name] = g.tensors_.size();
    g.tensors_.push_back(std::move(t));
  }

  const std::uint64_t data_start = (in.offset() + g.alignment_ - 1) / g.alignment_ * g.alignment_;
  const auto bytes = g.storage_->file.bytes();
  for (auto& t : g.tensors_) {
    const auto layout = loaders::ggml_block_layout(t.type);
    if (layout.elements == 0) continue;  // unknown type: an error only if someone asks for it
    if (t.dims[0] % layout.elements != 0)
      return make_error(fmt::format("{}: tensor {}: row length {} is not a multiple of the {} block size {}", path,
                                    t.name, t.dims[0], ggml_type_name(t.type), layout.elements));
    if (t.offset % g.alignment_ != 0)
      return make_error(fmt::format("{}: tensor {}: offset {} is not aligned to {}", path, t.name, t.offset, g.alignment_));
    const std::uint64_t size = t.n_elements / layout.elements * layout.bytes;
    if (t.offset > bytes.size() || data_start > bytes.size() - t.offset || size > bytes.size() - data_start - t.offset)
      return make_error(fmt::format("{}: tensor {}: {} bytes at offset {} go past the end of the file ({} bytes; truncated?)",
                                    path, t.name, size, data_start + t.offset, bytes.size()));
    t.data = bytes.subspan(static_cast<std::size_t>(data_start + t.offset), static_cast<std::size_t>(size));
  }
  return g;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<std::int64_t> GgufFile::get_int(const std::string& key) const {
  const auto* v = find(key);
  if (!v) return make_error(fmt::format("{}: metadata {} is missing", path(), key));
  const auto i = v->as_int();
  if (!i) return make_error(fmt::format("{}: metadata {} is a {}, not an integer", path(), key, value_type_name(v->type)));
  return *i;
}

Result<double> GgufFile::get_double(const std::string& key) const {
  const auto* v = find(key);
  if (!v) return make_error(fmt::format("{}: metadata {} is missing", path(), key));
  const auto d = v->as_double();
  if (!d) return make_error(fmt::format("{}: metadata {} is a {}, not a number", path(), key, value_type_name(v->type)));
  return *d;
}

Result<std::string> GgufFile::get_string(const std::string& key) const {
  const auto* v = find(key);
  if (!v) return make_error(fmt::format("{}: metadata {} is missing", path(), key));
  const auto* s = v->as_string();
  if (!s) return make_error(fmt::format("{}: metadata {} is a {}, not a string", path(), key, value_type_name(v->type)));
  return *s;
}

Result<std::vector<std::string>> GgufFile::get_string_array(const std::string& key) const {
  const auto* v = find(key);
  if (!v) return make_error(fmt::format("{}: metadata {} is missing", path(), key));
  const auto* a = v->as_array();
  if (!a || v->element_type != GgufType::String)
    return make_error(fmt::format("{}: metadata {} is not an array of strings", path(), key));
  std::vector<std::string> out;
  out.reserve(a->size());
  for (const auto& item : *a) out.push_back(*item.as_string());
  return out;
}

Result<std::vector<std::int64_t>> GgufFile::get_int_array(const std::string& key) const {
  const auto* v = find(key);
  if (!v) return make_error(fmt::format("{}: metadata {} is missing", path(), key));
  const auto* a = v->as_array();
  if (!a) return make_error(fmt::format("{}: metadata {} is not an array", path(), key));
  std::vector<std::int64_t> out;
  out.reserve(a->size());
  for (const auto& item : *a) {
    const auto i = item.as_int();
    if (!i) return make_error(fmt::format("{}: metadata {} is not an array of integers", path(), key));
    out.push_back(*i);
  }
  return out;
}

Result<std::vector<float>> GgufFile::dequantize(const GgufTensorInfo& tensor) const {
  const auto layout = loaders::ggml_block_layout(tensor.type);
  if (layout.elements == 0)
    return make_error(fmt::format("{}: tensor {}: type {} ({}) cannot be dequantized (supported: F32, F16, BF16, "
                                  "Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q6_K)",
                                  path(), tensor.name, ggml_type_name(tensor.type), tensor.type));
  std::vector<float> out(static_cast<std::size_t>(tensor.n_elements));
  loaders::ggml_dequantize(tensor.type, tensor.data, out);
  return out;
}

}  // namespace squeeze::profiler
