#pragma once
#include <string>
#include <vector>

namespace squeeze::profiler {

struct GpuInfo {
  int index = 0;
  std::string name;
  int sm_count = 0;
  long long memory_bytes = 0;
  int compute_major = 0;
  int compute_minor = 0;
};

// True when this binary was built with the CUDA backend.
[[nodiscard]] bool cuda_built();
// GPUs visible to the CUDA runtime; empty without CUDA or without a device (never an error).
[[nodiscard]] std::vector<GpuInfo> list_gpus();

}  // namespace squeeze::profiler
