#include "squeeze/sim/gpu_spec.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace squeeze::sim {
namespace {

constexpr std::int64_t kGiB = 1024LL * 1024 * 1024;
constexpr std::int64_t kGB = 1000LL * 1000 * 1000;

// Vendor datasheet numbers (dense bf16 tensor throughput, no sparsity). Until core's hardware
// table lands this is the sim's own copy; find_gpu() is the one place that reads it.
std::vector<GpuSpec> builtin_table() {
  return {
      {"a100-40gb", 40 * kGiB, 1555e9, 312e12, 300e9, 8.0},
      {"a100-80gb", 80 * kGiB, 2039e9, 312e12, 300e9, 8.0},
      {"h100-sxm", 80 * kGiB, 3350e9, 989e12, 450e9, 8.0},
      {"h200", 141 * kGB, 4800e9, 989e12, 450e9, 8.0},
  };
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Maps what nvidia-smi / cudaGetDeviceProperties report, or a synthetic trace's device, onto a
// table name: "NVIDIA H100 80GB HBM3" -> h100-sxm, "synthetic-h100" -> h100-sxm.
std::string canonical_name(const std::string& raw) {
  const std::string s = lower(raw);
  if (s.find("h200") != std::string::npos) return "h200";
  if (s.find("h100") != std::string::npos) return "h100-sxm";
  if (s.find("a100") != std::string::npos)
    return s.find("40") != std::string::npos ? "a100-40gb" : "a100-80gb";
  return s;
}

}  // namespace

std::vector<std::string> known_gpu_names() {
  std::vector<std::string> names;
  for (const auto& gpu : builtin_table()) names.push_back(gpu.name);
  return names;
}

core::Result<GpuSpec> find_gpu(const std::string& name) {
  const std::string wanted = canonical_name(name);
  for (const auto& gpu : builtin_table())
    if (gpu.name == wanted) return gpu;
  return core::make_error(fmt::format("unknown hardware '{}' (known: {})", name,
                                      fmt::join(known_gpu_names(), ", ")),
                          2);
}

double roofline_us(double bytes, double flops, const GpuSpec& gpu) {
  const double memory_s = gpu.hbm_bytes_per_s > 0 ? bytes / gpu.hbm_bytes_per_s : 0.0;
  const double compute_s = gpu.dense_flops_per_s > 0 ? flops / gpu.dense_flops_per_s : 0.0;
  return std::max(memory_s, compute_s) * 1e6;
}

}  // namespace squeeze::sim
