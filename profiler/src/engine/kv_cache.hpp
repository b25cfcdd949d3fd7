#pragma once
// One layer's KV cache of one sequence on the CPU: per KV head an array of slots whose positions
// the core::LayerKvSelector decides. Budgeted layers allocate exactly `budget` slots once; the
// full policy grows with the sequence.

#include <cstdint>
#include <vector>

#include "squeeze/core/kv_policy.hpp"

namespace squeeze::profiler::cpu {

struct LayerCache {
  core::LayerKvSelector selector;
  int head_dim = 0;
  std::vector<std::vector<float>> k;  // (kv_heads) each (slots, head_dim), after RoPE
  std::vector<std::vector<float>> v;  // (kv_heads) each (slots, head_dim)

  [[nodiscard]] int slots_allocated() const {
    return k.empty() ? 0 : static_cast<int>(k.front().size()) / head_dim;
  }
  [[nodiscard]] std::int64_t bytes() const {
    std::int64_t total = 0;
    for (const auto& h : k) total += static_cast<std::int64_t>(h.size() * sizeof(float));
    for (const auto& h : v) total += static_cast<std::int64_t>(h.size() * sizeof(float));
    return total;
  }
  // Writes one head's key and value into `slot`, growing the full policy's arrays by one.
  void write(int kv_head, int slot, const float* key, const float* value);
};

}  // namespace squeeze::profiler::cpu
