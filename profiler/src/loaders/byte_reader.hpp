#pragma once
// A cursor over untrusted bytes: every read is bounds-checked and a failure says which file,
// which field and at what offset, so a truncated or lying file is an Error, never a crash.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>

#include "squeeze/core/result.hpp"

namespace squeeze::profiler::loaders {

class ByteReader {
 public:
  ByteReader(std::span<const std::uint8_t> bytes, std::string file)
      : bytes_(bytes), file_(std::move(file)) {}

  [[nodiscard]] std::size_t offset() const { return offset_; }
  [[nodiscard]] std::size_t remaining() const { return bytes_.size() - offset_; }
  [[nodiscard]] std::size_t size() const { return bytes_.size(); }
  [[nodiscard]] const std::string& file() const { return file_; }

  // Little-endian scalar (all formats here are little-endian, as is every host we build for).
  template <class T>
  [[nodiscard]] core::Result<T> read(std::string_view what) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (remaining() < sizeof(T)) return truncated(what, sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + offset_, sizeof(T));
    offset_ += sizeof(T);
    return value;
  }

  [[nodiscard]] core::Result<std::span<const std::uint8_t>> take(std::size_t n, std::string_view what) {
    if (remaining() < n) return truncated(what, n);
    auto out = bytes_.subspan(offset_, n);
    offset_ += n;
    return out;
  }

  [[nodiscard]] core::Result<std::string> read_string(std::size_t n, std::string_view what) {
    SQZ_TRY(raw, take(n, what));
    return std::string(reinterpret_cast<const char*>(raw.data()), raw.size());
  }

  [[nodiscard]] core::Status seek(std::size_t offset, std::string_view what) {
    if (offset > bytes_.size())
      return core::make_error(fmt::format("{}: {}: offset {} is past the end of the file ({} bytes)",
                                          file_, what, offset, bytes_.size()));
    offset_ = offset;
    return {};
  }

  [[nodiscard]] core::Error error(std::string_view what, std::string_view problem) const {
    return core::make_error(fmt::format("{}: {} (at byte {}): {}", file_, what, offset_, problem));
  }

 private:
  [[nodiscard]] core::Error truncated(std::string_view what, std::size_t wanted) const {
    return core::make_error(fmt::format("{}: {}: needs {} bytes at offset {}, but the file ends at {} (truncated?)",
                                        file_, what, wanted, offset_, bytes_.size()));
  }

  std::span<const std::uint8_t> bytes_;
  std::string file_;
  std::size_t offset_ = 0;
};

}  // namespace squeeze::profiler::loaders
