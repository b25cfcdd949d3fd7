#pragma once
// The GPUs the planner knows (DESIGN.md §5: A100 40/80 GB, H100 SXM, H200, custom), with the
// datasheet peaks the roofline and the memory planner need. Dense numbers, no sparsity.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "squeeze/core/result.hpp"

namespace squeeze::core {

struct GpuInfo {
  std::string name;                     // canonical table name: "a100-40gb", "h100-sxm", ...
  std::string description;              // "NVIDIA H100 SXM5 80GB (HBM3)"
  std::int64_t memory_bytes = 0;        // device memory
  double memory_bandwidth = 0.0;        // bytes/s, peak HBM
  double dense_bf16_flops = 0.0;        // FLOP/s, peak dense bf16 tensor core
  double link_bandwidth = 0.0;          // bytes/s per direction per GPU (NVLink); 0 = unknown
  std::vector<std::string> aliases;     // other names find_gpu() accepts (normalized spelling)
};

// The built-in table, in a stable order.
[[nodiscard]] std::span<const GpuInfo> known_gpus();
[[nodiscard]] std::vector<std::string> known_gpu_names();

// Looks up a GPU by table name, alias or the name the driver reports ("NVIDIA H100 80GB HBM3"),
// ignoring case and treating '_' and ' ' like '-'. Also accepts a custom GPU written as
// "custom:MEMORY_GIB:BANDWIDTH_TB_S:DENSE_TFLOPS" (e.g. "custom:48:0.96:181"). Unknown names
// are an error (code 2) listing the known names.
[[nodiscard]] Result<GpuInfo> find_gpu(const std::string& name);

// A GPU the table does not have. memory in GiB, bandwidth in TB/s (1e12 bytes/s), compute in dense
// bf16 TFLOP/s (1e12); all must be positive and finite (code 2 otherwise).
[[nodiscard]] Result<GpuInfo> custom_gpu(double memory_gib, double bandwidth_tb_s,
                                         double dense_tflops, std::string name = "custom");

}  // namespace squeeze::core
