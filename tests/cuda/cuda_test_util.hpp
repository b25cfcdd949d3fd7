#pragma once
// Shared by the CUDA kernel tests: skip without a GPU, device buffers that start poisoned (NaN /
// -1 bytes) so unwritten outputs fail, bf16 rounding on the host, and the tolerance check
// |gpu - ref| <= atol + rtol * |ref| that DESIGN.md §7 asks for.

#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace squeeze::cuda::test {

inline bool gpu_available() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return n > 0;
}

#define SQZ_REQUIRE_GPU()                                   \
  do {                                                      \
    if (!::squeeze::cuda::test::gpu_available())            \
      GTEST_SKIP() << "no CUDA device visible";             \
  } while (0)

#define SQZ_CUDA_OK(expr) ASSERT_EQ((expr), cudaSuccess) << cudaGetErrorString(cudaGetLastError())

// Device buffer whose bytes start as 0xFF: NaN for float/double/bf16, -1 for ints.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t n) : n_(n) {
    if (n_ == 0) return;
    if (cudaMalloc(&ptr_, n_ * sizeof(T)) != cudaSuccess) ptr_ = nullptr;
    poison();
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }
  void poison() {
    if (ptr_ != nullptr) cudaMemset(ptr_, 0xFF, n_ * sizeof(T));
  }
  void upload(const std::vector<T>& host) {
    cudaMemcpy(ptr_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
  }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    cudaDeviceSynchronize();
    cudaMemcpy(host.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost);
    return host;
  }
  T* get() const { return ptr_; }
  size_t size() const { return n_; }

 private:
  T* ptr_ = nullptr;
  size_t n_ = 0;
};

inline uint16_t float_to_bf16_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even
  return static_cast<uint16_t>(u >> 16);
}
inline float bf16_bits_to_float(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline __nv_bfloat16 to_bf16(float f) {
  __nv_bfloat16_raw r;
  r.x = float_to_bf16_bits(f);
  return __nv_bfloat16(r);
}
inline float to_float(__nv_bfloat16 b) {
  const __nv_bfloat16_raw r(b);
  return bf16_bits_to_float(r.x);
}
inline float round_bf16(float f) { return bf16_bits_to_float(float_to_bf16_bits(f)); }

// Uniform in [lo, hi), rounded to bf16 so host and device see the same values. Never zero-filled.
inline std::vector<float> random_bf16_values(size_t n, std::mt19937& rng, float lo = -1.f,
                                             float hi = 1.f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = round_bf16(d(rng));
  return v;
}
inline std::vector<__nv_bfloat16> to_bf16(const std::vector<float>& v) {
  std::vector<__nv_bfloat16> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = to_bf16(v[i]);
  return out;
}
inline std::vector<float> to_float(const std::vector<__nv_bfloat16>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = to_float(v[i]);
  return out;
}

// Counts elements outside |got - ref| <= atol + rtol |ref| (NaN always fails) and reports the
// first few; returns true when all pass.
inline ::testing::AssertionResult all_close(const std::vector<float>& got,
                                            const std::vector<double>& ref, double atol,
                                            double rtol, const std::string& what) {
  if (got.size() != ref.size())
    return ::testing::AssertionFailure() << what << ": size " << got.size() << " vs " << ref.size();
  size_t bad = 0;
  std::string first;
  double worst = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(static_cast<double>(got[i]) - ref[i]);
    const double lim = atol + rtol * std::fabs(ref[i]);
    if (!(err <= lim)) {
      if (bad < 5)
        first += " [" + std::to_string(i) + "] got " + std::to_string(got[i]) + " ref " +
                 std::to_string(ref[i]) + ";";
      ++bad;
    }
    if (err > worst || std::isnan(err)) worst = err;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << bad << "/" << got.size()
                                       << " outside tolerance (worst " << worst << "):" << first;
}

}  // namespace squeeze::cuda::test
