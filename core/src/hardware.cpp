#include "squeeze/core/hardware.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace squeeze::core {

namespace {

constexpr std::int64_t kGiB = 1024LL * 1024 * 1024;
constexpr std::int64_t kGB = 1000LL * 1000 * 1000;

// NVIDIA datasheets. A100 "40GB"/"80GB" and H100 "80GB" are binary sizes (40960 / 81920 MiB);
// the H200's 141 GB is decimal. NVLink: A100 600 GB/s, H100/H200 900 GB/s total, half each way.
const std::vector<GpuInfo>& table() {
  static const std::vector<GpuInfo> gpus = {
      {"a100-40gb", "NVIDIA A100 SXM4 40GB (HBM2)", 40 * kGiB, 1555e9, 312e12, 300e9,
       {"a100-40g", "a100-40", "a100-sxm4-40gb", "nvidia-a100-sxm4-40gb"}},
      {"a100-80gb", "NVIDIA A100 SXM4 80GB (HBM2e)", 80 * kGiB, 2039e9, 312e12, 300e9,
       {"a100-80g", "a100-80", "a100-sxm4-80gb", "nvidia-a100-sxm4-80gb"}},
      {"h100-sxm", "NVIDIA H100 SXM5 80GB (HBM3)", 80 * kGiB, 3.35e12, 989e12, 450e9,
       {"h100", "h100-sxm5", "h100-80gb", "h100-sxm-80gb", "nvidia-h100-80gb-hbm3",
        "nvidia-h100-sxm5-80gb"}},
      {"h200", "NVIDIA H200 SXM 141GB (HBM3e)", 141 * kGB, 4.8e12, 989e12, 450e9,
       {"h200-sxm", "h200-141gb", "nvidia-h200"}},
  };
  return gpus;
}

// "NVIDIA H100 80GB HBM3" -> "nvidia-h100-80gb-hbm3"
std::string normalize(const std::string& raw) {
  std::string s;
  for (unsigned char c : raw) {
    const char t = (c == ' ' || c == '_') ? '-' : static_cast<char>(std::tolower(c));
    if (t == '-' && (s.empty() || s.back() == '-')) continue;  // collapse runs, trim the front
    s.push_back(t);
  }
  while (!s.empty() && s.back() == '-') s.pop_back();
  return s;
}

Result<double> parse_positive(const std::string& text, const char* what, const std::string& spec) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v) ||
      v <= 0)
    return make_error(fmt::format("custom GPU '{}': {} '{}' is not a positive number "
                                  "(expected custom:MEMORY_GIB:BANDWIDTH_TB_S:DENSE_TFLOPS)",
                                  spec, what, text), 2);
  return v;
}

Result<GpuInfo> parse_custom(const std::string& spec) {
  std::vector<std::string> fields;
  std::size_t start = spec.find(':') + 1;
  while (true) {
    const std::size_t colon = spec.find(':', start);
    fields.push_back(spec.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (fields.size() != 3)
    return make_error(fmt::format("custom GPU '{}': expected custom:MEMORY_GIB:BANDWIDTH_TB_S:"
                                  "DENSE_TFLOPS (e.g. custom:48:0.96:181)", spec), 2);
  SQZ_TRY(memory, parse_positive(fields[0], "memory (GiB)", spec));
  SQZ_TRY(bandwidth, parse_positive(fields[1], "bandwidth (TB/s)", spec));
  SQZ_TRY(tflops, parse_positive(fields[2], "dense TFLOP/s", spec));
  return custom_gpu(memory, bandwidth, tflops, spec);
}

}  // namespace

std::span<const GpuInfo> known_gpus() { return table(); }

std::vector<std::string> known_gpu_names() {
  std::vector<std::string> names;
  for (const auto& gpu : table()) names.push_back(gpu.name);
  return names;
}

Result<GpuInfo> custom_gpu(double memory_gib, double bandwidth_tb_s, double dense_tflops,
                           std::string name) {
  auto positive = [](double v) { return std::isfinite(v) && v > 0; };
  if (!positive(memory_gib) || !positive(bandwidth_tb_s) || !positive(dense_tflops))
    return make_error(fmt::format("custom GPU '{}': memory ({} GiB), bandwidth ({} TB/s) and "
                                  "compute ({} TFLOP/s) must all be positive", name, memory_gib,
                                  bandwidth_tb_s, dense_tflops), 2);
  GpuInfo gpu;
  gpu.name = std::move(name);
  gpu.description = fmt::format("custom: {} GiB, {} TB/s, {} TFLOP/s dense bf16", memory_gib,
                                bandwidth_tb_s, dense_tflops);
  gpu.memory_bytes = static_cast<std::int64_t>(std::llround(memory_gib * static_cast<double>(kGiB)));
  gpu.memory_bandwidth = bandwidth_tb_s * 1e12;
  gpu.dense_bf16_flops = dense_tflops * 1e12;
  return gpu;
}

Result<GpuInfo> find_gpu(const std::string& name) {
  const std::string wanted = normalize(name);
  if (wanted.rfind("custom:", 0) == 0) return parse_custom(wanted);
  for (const auto& gpu : table()) {
    if (gpu.name == wanted) return gpu;
    if (std::find(gpu.aliases.begin(), gpu.aliases.end(), wanted) != gpu.aliases.end()) return gpu;
  }
  return make_error(fmt::format("unknown GPU '{}' (known: {}; aliases such as h100 or a100-40g; "
                                "or custom:MEMORY_GIB:BANDWIDTH_TB_S:DENSE_TFLOPS)", name,
                                fmt::join(known_gpu_names(), ", ")), 2);
}

}  // namespace squeeze::core
