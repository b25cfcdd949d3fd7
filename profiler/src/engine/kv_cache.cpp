#include "kv_cache.hpp"

#include <algorithm>

namespace squeeze::profiler::cpu {

void LayerCache::write(int kv_head, int slot, const float* key, const float* value) {
  auto& kh = k[static_cast<std::size_t>(kv_head)];
  auto& vh = v[static_cast<std::size_t>(kv_head)];
  const auto offset = static_cast<std::size_t>(slot) * static_cast<std::size_t>(head_dim);
  if (offset + static_cast<std::size_t>(head_dim) > kh.size()) {  // full policy: append
    kh.resize(offset + static_cast<std::size_t>(head_dim));
    vh.resize(offset + static_cast<std::size_t>(head_dim));
  }
  std::copy(key, key + head_dim, kh.begin() + static_cast<std::ptrdiff_t>(offset));
  std::copy(value, value + head_dim, vh.begin() + static_cast<std::ptrdiff_t>(offset));
}

}  // namespace squeeze::profiler::cpu
