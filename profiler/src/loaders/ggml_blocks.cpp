#include "ggml_blocks.hpp"

#include <cstring>

#include "half_float.hpp"
#include "squeeze/profiler/gguf_file.hpp"

namespace squeeze::profiler::loaders {
namespace {

constexpr std::size_t kQK = 32;    // Q4_0 / Q4_1 / Q5_x / Q8_0 block
constexpr std::size_t kQKK = 256;  // k-quant super-block

float half_at(const std::uint8_t* p) {
  std::uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}

// block_q4_0 { half d; u8 qs[16]; }: x = (q - 8) * d; low nibbles are elements 0..15.
void q4_0(const std::uint8_t* b, float* y) {
  const float d = half_at(b);
  const std::uint8_t* qs = b + 2;
  for (std::size_t j = 0; j < kQK / 2; ++j) {
    y[j] = static_cast<float>((qs[j] & 0x0F) - 8) * d;
    y[j + kQK / 2] = static_cast<float>((qs[j] >> 4) - 8) * d;
  }
}

// block_q4_1 { half d; half m; u8 qs[16]; }: x = q * d + m.
void q4_1(const std::uint8_t* b, float* y) {
  const float d = half_at(b);
  const float m = half_at(b + 2);
  const std::uint8_t* qs = b + 4;
  for (std::size_t j = 0; j < kQK / 2; ++j) {
    y[j] = static_cast<float>(qs[j] & 0x0F) * d + m;
    y[j + kQK / 2] = static_cast<float>(qs[j] >> 4) * d + m;
  }
}

// block_q5_0 { half d; u8 qh[4]; u8 qs[16]; }: fifth bit of element j in bit j of qh.
void q5_0(const std::uint8_t* b, float* y) {
  const float d = half_at(b);
  std::uint32_t qh;
  std::memcpy(&qh, b + 2, 4);
  const std::uint8_t* qs = b + 6;
  for (std::size_t j = 0; j < kQK / 2; ++j) {
    const std::uint8_t h0 = static_cast<std::uint8_t>(((qh >> j) << 4) & 0x10);
    const std::uint8_t h1 = static_cast<std::uint8_t>((qh >> (j + 12)) & 0x10);
    y[j] = static_cast<float>(((qs[j] & 0x0F) | h0) - 16) * d;
    y[j + kQK / 2] = static_cast<float>(((qs[j] >> 4) | h1) - 16) * d;
  }
}

// block_q5_1 { half d; half m; u8 qh[4]; u8 qs[16]; }
void q5_1(const std::uint8_t* b, float* y) {
  const float d = half_at(b);
  const float m = half_at(b + 2);
  std::uint32_t qh;
  std::memcpy(&qh, b + 4, 4);
  const std::uint8_t* qs = b + 8;
  for (std::size_t j = 0; j < kQK / 2; ++j) {
    const std::uint8_t h0 = static_cast<std::uint8_t>(((qh >> j) << 4) & 0x10);
    const std::uint8_t h1 = static_cast<std::uint8_t>((qh >> (j + 12)) & 0x10);
    y[j] = static_cast<float>((qs[j] & 0x0F) | h0) * d + m;
    y[j + kQK / 2] = static_cast<float>((qs[j] >> 4) | h1) * d + m;
  }
}

// block_q8_0 { half d; i8 qs[32]; }: x = q * d.
void q8_0(const std::uint8_t* b, float* y) {
  const float d = half_at(b);
  for (std::size_t j = 0; j < kQK; ++j) y[j] = static_cast<float>(static_cast<std::int8_t>(b[2 + j])) * d;
}

// block_q4_K { half d; half dmin; u8 scales[12]; u8 qs[128]; }: 8 sub-blocks of 32 with 6-bit
// scales and mins.
void scale_min_k4(int j, const std::uint8_t* q, std::uint8_t& d, std::uint8_t& m) {
  if (j < 4) {
    d = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    d = static_cast<std::uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    m = static_cast<std::uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

void q4_k(const std::uint8_t* b, float* y) {
  const float d = half_at(b);
  const float dmin = half_at(b + 2);
  const std::uint8_t* scales = b + 4;
  const std::uint8_t* q = b + 16;
  int is = 0;
  for (std::size_t j = 0; j < kQKK; j += 64) {
    std::uint8_t sc, m;
    scale_min_k4(is, scales, sc, m);
    const float d1 = d * sc, m1 = dmin * m;
    scale_min_k4(is + 1, scales, sc, m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    q += 32;
    is += 2;
  }
}

// block_q6_K { u8 ql[128]; u8 qh[64]; i8 scales[16]; half d; }
void q6_k(const std::uint8_t* b, float* y) {
  const std::uint8_t* ql = b;
  const std::uint8_t* qh = b + 128;
  const auto* sc = reinterpret_cast<const std::int8_t*>(b + 192);
  const float d = half_at(b + 208);
  for (std::size_t n = 0; n < kQKK; n += 128) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = static_cast<std::int8_t>((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = static_cast<std::int8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = static_cast<std::int8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = static_cast<std::int8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l + 0] = d * sc[is + 0] * static_cast<float>(q1);
      y[l + 32] = d * sc[is + 2] * static_cast<float>(q2);
      y[l + 64] = d * sc[is + 4] * static_cast<float>(q3);
      y[l + 96] = d * sc[is + 6] * static_cast<float>(q4);
    }
    y += 128;
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

}  // namespace

BlockLayout ggml_block_layout(std::uint32_t type) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::F32: return {1, 4};
    case GgmlType::F16: return {1, 2};
    case GgmlType::BF16: return {1, 2};
    case GgmlType::Q4_0: return {kQK, 18};
    case GgmlType::Q4_1: return {kQK, 20};
    case GgmlType::Q5_0: return {kQK, 22};
    case GgmlType::Q5_1: return {kQK, 24};
    case GgmlType::Q8_0: return {kQK, 34};
    case GgmlType::Q4_K: return {kQKK, 144};
    case GgmlType::Q6_K: return {kQKK, 210};
  }
  return {0, 0};
}

void ggml_dequantize(std::uint32_t type, std::span<const std::uint8_t> src, std::span<float> dst) {
  const std::uint8_t* s = src.data();
  float* y = dst.data();
  const std::size_t n = dst.size();
  const auto type_enum = static_cast<GgmlType>(type);
  if (type_enum == GgmlType::F32) {
    std::memcpy(y, s, n * 4);
    return;
  }
  if (type_enum == GgmlType::F16 || type_enum == GgmlType::BF16) {
    for (std::size_t i = 0; i < n; ++i) {
      std::uint16_t h;
      std::memcpy(&h, s + 2 * i, 2);
      y[i] = type_enum == GgmlType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
    }
    return;
  }
  void (*block_fn)(const std::uint8_t*, float*) = nullptr;
  switch (type_enum) {
    case GgmlType::Q4_0: block_fn = q4_0; break;
    case GgmlType::Q4_1: block_fn = q4_1; break;
    case GgmlType::Q5_0: block_fn = q5_0; break;
    case GgmlType::Q5_1: block_fn = q5_1; break;
    case GgmlType::Q8_0: block_fn = q8_0; break;
    case GgmlType::Q4_K: block_fn = q4_k; break;
    case GgmlType::Q6_K: block_fn = q6_k; break;
    default: return;
  }
  const auto layout = ggml_block_layout(type);
  for (std::size_t b = 0; b < n / layout.elements; ++b) block_fn(s + b * layout.bytes, y + b * layout.elements);
}

}  // namespace squeeze::profiler::loaders
