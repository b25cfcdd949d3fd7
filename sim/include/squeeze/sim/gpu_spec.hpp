#pragma once
// What the simulator needs to know about a GPU, and the roofline terms it derives from it.
// The table of known GPUs lives in core (hardware.hpp); this is the sim-side view of one entry,
// so the cost model does not depend on how core spells its fields.

#include <cstdint>
#include <string>
#include <vector>

#include "squeeze/core/result.hpp"

namespace squeeze::sim {

struct GpuSpec {
  std::string name;                 // canonical table name, e.g. "h100-sxm"
  std::int64_t memory_bytes = 0;    // device memory
  double hbm_bytes_per_s = 0;       // peak memory bandwidth
  double dense_flops_per_s = 0;     // peak dense bf16 tensor FLOP/s
  double link_bytes_per_s = 0;      // per-GPU NVLink bandwidth (one direction), for all-reduce
  double link_latency_us = 8.0;     // fixed cost of one all-reduce (NCCL launch + sync)
};

// Looks a GPU up in core's table (hardware.hpp) by table name, alias, the name a driver reports
// ("NVIDIA H100 80GB HBM3"), a synthetic trace's device ("synthetic-h100"), or a custom GPU
// "custom:MEMORY_GIB:BANDWIDTH_TB_S:DENSE_TFLOPS". Unknown names are exit-code-2 errors that list
// the known names.
[[nodiscard]] core::Result<GpuSpec> find_gpu(const std::string& name);
[[nodiscard]] std::vector<std::string> known_gpu_names();

// Roofline lower bound in microseconds: the slower of moving `bytes` and doing `flops`.
[[nodiscard]] double roofline_us(double bytes, double flops, const GpuSpec& gpu);

}  // namespace squeeze::sim
