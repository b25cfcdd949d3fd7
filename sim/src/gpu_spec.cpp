#include "squeeze/sim/gpu_spec.hpp"

#include <algorithm>
#include <cctype>

#include "squeeze/core/hardware.hpp"

namespace squeeze::sim {
namespace {

// When core's table does not know a GPU's link bandwidth, price all-reduces over PCIe Gen4 x16
// (about 25 GB/s per direction in practice) rather than pretending the link is free.
constexpr double kPcieBytesPerS = 25e9;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Names core's table has no alias for, seen in traces: a synthetic trace's device
// ("synthetic-h100") or a driver string with extra words ("NVIDIA A100-SXM4-40GB").
std::string family_name(const std::string& raw) {
  const std::string s = lower(raw);
  if (s.find("h200") != std::string::npos) return "h200";
  if (s.find("h100") != std::string::npos) return "h100-sxm";
  if (s.find("a100") != std::string::npos)
    return s.find("40g") != std::string::npos ? "a100-40gb" : "a100-80gb";
  return raw;
}

GpuSpec from_core(const core::GpuInfo& info) {
  GpuSpec gpu;
  gpu.name = info.name;
  gpu.memory_bytes = info.memory_bytes;
  gpu.hbm_bytes_per_s = info.memory_bandwidth;
  gpu.dense_flops_per_s = info.dense_bf16_flops;
  gpu.link_bytes_per_s = info.link_bandwidth > 0 ? info.link_bandwidth : kPcieBytesPerS;
  return gpu;
}

}  // namespace

std::vector<std::string> known_gpu_names() { return core::known_gpu_names(); }

core::Result<GpuSpec> find_gpu(const std::string& name) {
  auto exact = core::find_gpu(name);
  if (exact.ok()) return from_core(*exact);
  auto family = core::find_gpu(family_name(name));
  if (family.ok()) return from_core(*family);
  return exact.error();
}

double roofline_us(double bytes, double flops, const GpuSpec& gpu) {
  const double memory_s = gpu.hbm_bytes_per_s > 0 ? bytes / gpu.hbm_bytes_per_s : 0.0;
  const double compute_s = gpu.dense_flops_per_s > 0 ? flops / gpu.dense_flops_per_s : 0.0;
  return std::max(memory_s, compute_s) * 1e6;
}

}  // namespace squeeze::sim
