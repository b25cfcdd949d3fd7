#pragma once
// ggml block-quantized formats: sizes and dequantization, matching ggml-quants.c
// (dequantize_row_*) bit for bit: every value is computed in fp32 with the same operations.

#include <cstddef>
#include <cstdint>
#include <span>

namespace squeeze::profiler::loaders {

struct BlockLayout {
  std::size_t elements;  // values per block
  std::size_t bytes;     // bytes per block
};

// Layout of a ggml type, or {0, 0} when unsupported.
[[nodiscard]] BlockLayout ggml_block_layout(std::uint32_t type);

// Dequantizes n values (a multiple of the block size) from `src` into `dst`.
// The caller guarantees src.size() == n / elements * bytes and dst.size() == n.
void ggml_dequantize(std::uint32_t type, std::span<const std::uint8_t> src, std::span<float> dst);

}  // namespace squeeze::profiler::loaders
