#pragma once
// A read-only memory map of a whole file. Loaders read tensors straight out of the map (no copy
// of multi-GB files into RAM before conversion), always through bounds-checked spans.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "squeeze/core/result.hpp"

namespace squeeze::profiler::loaders {

class MappedFile {
 public:
  [[nodiscard]] static core::Result<MappedFile> open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  [[nodiscard]] std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  void release();

  std::string path_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace squeeze::profiler::loaders
