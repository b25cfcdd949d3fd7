#pragma once
// Device memory owned by the CUDA engine: every cudaMalloc goes through a tracker that counts
// bytes per category (weights, KV, workspace) and the peak, and turns out-of-memory into an error
// naming what did not fit, the bytes asked for and the bytes free.

#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <utility>

#include "squeeze/core/result.hpp"

namespace squeeze::cuda {

enum class MemCategory { Weights = 0, Kv = 1, Workspace = 2 };

struct MemTracker {
  std::int64_t by_category[3] = {0, 0, 0};
  std::int64_t allocated = 0;
  std::int64_t peak = 0;
};

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept { *this = std::move(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      ptr_ = std::exchange(o.ptr_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
      tracker_ = std::exchange(o.tracker_, nullptr);
      category_ = o.category_;
    }
    return *this;
  }
  ~DeviceBuffer() { reset(); }

  [[nodiscard]] static core::Result<DeviceBuffer> allocate(MemTracker& tracker, MemCategory cat,
                                                           std::size_t bytes,
                                                           const std::string& what);
  void reset();

  template <class T>
  [[nodiscard]] T* as() const { return static_cast<T*>(ptr_); }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }
  [[nodiscard]] bool empty() const { return ptr_ == nullptr; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
  MemTracker* tracker_ = nullptr;
  MemCategory category_ = MemCategory::Workspace;
};

}  // namespace squeeze::cuda
