#include "device_buffer.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace squeeze::cuda {

core::Result<DeviceBuffer> DeviceBuffer::allocate(MemTracker& tracker, MemCategory cat,
                                                  std::size_t bytes, const std::string& what) {
  DeviceBuffer b;
  if (bytes == 0) return b;
  const cudaError_t e = cudaMalloc(&b.ptr_, bytes);
  if (e != cudaSuccess) {
    cudaGetLastError();  // an allocation failure is not sticky; clear it
    b.ptr_ = nullptr;
    std::size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    return core::make_error(fmt::format(
        "CUDA engine: out of device memory: {} needs {} bytes ({:.2f} GiB) but {} bytes "
        "({:.2f} GiB) are free of {:.2f} GiB ({})",
        what, bytes, bytes / 1073741824.0, free_b, free_b / 1073741824.0,
        total_b / 1073741824.0, cudaGetErrorString(e)));
  }
  b.bytes_ = bytes;
  b.tracker_ = &tracker;
  b.category_ = cat;
  tracker.by_category[static_cast<int>(cat)] += static_cast<std::int64_t>(bytes);
  tracker.allocated += static_cast<std::int64_t>(bytes);
  tracker.peak = std::max(tracker.peak, tracker.allocated);
  return b;
}

void DeviceBuffer::reset() {
  if (ptr_ != nullptr) {
    cudaFree(ptr_);
    tracker_->by_category[static_cast<int>(category_)] -= static_cast<std::int64_t>(bytes_);
    tracker_->allocated -= static_cast<std::int64_t>(bytes_);
  }
  ptr_ = nullptr;
  bytes_ = 0;
}

}  // namespace squeeze::cuda
