#include "squeeze/profiler/device_info.hpp"

namespace squeeze::profiler {

#ifdef SQUEEZE_HAVE_CUDA
std::vector<GpuInfo> list_gpus_cuda();  // cuda/device_query.cu
bool cuda_built() { return true; }
std::vector<GpuInfo> list_gpus() { return list_gpus_cuda(); }
#else
bool cuda_built() { return false; }
std::vector<GpuInfo> list_gpus() { return {}; }
#endif

}  // namespace squeeze::profiler
