// The CUDA runtime's view of the machine. A missing driver or device is an empty list, never an
// error: CPU-only machines run the same binary.
#include <cuda_runtime.h>

#include "squeeze/profiler/device_info.hpp"

namespace squeeze::profiler {

std::vector<GpuInfo> list_gpus_cuda() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return {};
  }
  std::vector<GpuInfo> gpus;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    gpus.push_back(GpuInfo{i, prop.name, prop.multiProcessorCount,
                           static_cast<long long>(prop.totalGlobalMem), prop.major, prop.minor});
  }
  return gpus;
}

}  // namespace squeeze::profiler
