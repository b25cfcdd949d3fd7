#include "cpu_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

// The hot loops are compiled twice, for AVX2+FMA machines and for baseline x86-64, and picked at
// load time, so one binary is both portable and fast. ISO C++ mode turns floating-point
// contraction off; the pragma turns it back on here so that multiply-adds fuse (FMA).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
#endif
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SQZ_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SQZ_MULTIVERSION
#endif

namespace squeeze::profiler::cpu {

#if defined(__x86_64__) && defined(__GNUC__)
void matmul_nt_range_avx2(const float* x, std::size_t ldx, int rows, const float* w,
                          std::size_t ldw, int w_lo, int w_hi, int k, float* y, std::size_t ldy);
#endif

namespace {

using v8f = float __attribute__((vector_size(32)));
constexpr int kLanes = 8;
constexpr int kBlock = 256;  // elements summed in fp32 before the fp64 add
constexpr int kTileX = 2;    // rows of x per register tile
constexpr int kTileW = 4;    // rows of w per register tile
constexpr int kRowBlock = 32;  // rows of x kept hot in cache while a thread sweeps its w rows

// y(rows, [w_lo, w_hi)) for one thread. Remainder tiles clamp their row pointers to the last
// valid row and discard those results, so the register tile keeps a fixed shape.
SQZ_MULTIVERSION
void matmul_nt_range(const float* x, std::size_t ldx, int rows, const float* w, std::size_t ldw,
                     int w_lo, int w_hi, int k, float* y, std::size_t ldy) {
  for (int r0 = 0; r0 < rows; r0 += kRowBlock) {
    const int r1 = std::min(rows, r0 + kRowBlock);
    for (int o0 = w_lo; o0 < w_hi; o0 += kTileW) {
      const float* wp[kTileW];
      for (int c = 0; c < kTileW; ++c)
        wp[c] = w + static_cast<std::size_t>(std::min(o0 + c, w_hi - 1)) * ldw;
      for (int i0 = r0; i0 < r1; i0 += kTileX) {
        const float* xp[kTileX];
        for (int r = 0; r < kTileX; ++r)
          xp[r] = x + static_cast<std::size_t>(std::min(i0 + r, r1 - 1)) * ldx;
        double total[kTileX][kTileW] = {};
        int kk = 0;
        const int k_vec = k - k % kLanes;
        while (kk < k_vec) {
          const int block_end = std::min(k_vec, kk + kBlock);
          v8f acc[kTileX][kTileW] = {};
          for (; kk < block_end; kk += kLanes) {
            v8f xv[kTileX], wv[kTileW];
            for (int r = 0; r < kTileX; ++r) std::memcpy(&xv[r], xp[r] + kk, sizeof(v8f));
            for (int c = 0; c < kTileW; ++c) std::memcpy(&wv[c], wp[c] + kk, sizeof(v8f));
            for (int r = 0; r < kTileX; ++r)
              for (int c = 0; c < kTileW; ++c) acc[r][c] += xv[r] * wv[c];
          }
          for (int r = 0; r < kTileX; ++r)
            for (int c = 0; c < kTileW; ++c) {
              double s = 0;
              for (int l = 0; l < kLanes; ++l) s += acc[r][c][l];
              total[r][c] += s;
            }
        }
        for (; kk < k; ++kk)
          for (int r = 0; r < kTileX; ++r)
            for (int c = 0; c < kTileW; ++c)
              total[r][c] += static_cast<double>(xp[r][kk]) * static_cast<double>(wp[c][kk]);
        for (int r = 0; r < kTileX && i0 + r < r1; ++r)
          for (int c = 0; c < kTileW && o0 + c < w_hi; ++c)
            y[static_cast<std::size_t>(i0 + r) * ldy + static_cast<std::size_t>(o0 + c)] =
                static_cast<float>(total[r][c]);
      }
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#define SQZ_HAVE_AVX2_KERNEL 1
#endif

// The portable tile above, or the AVX2/FMA one (cpu_kernels_avx2.cpp) when the CPU has it.
void matmul_nt_any(const float* x, std::size_t ldx, int rows, const float* w, std::size_t ldw,
                   int w_lo, int w_hi, int k, float* y, std::size_t ldy) {
#ifdef SQZ_HAVE_AVX2_KERNEL
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2) return matmul_nt_range_avx2(x, ldx, rows, w, ldw, w_lo, w_hi, k, y, ldy);
#endif
  matmul_nt_range(x, ldx, rows, w, ldw, w_lo, w_hi, k, y, ldy);
}

}  // namespace

void matmul_nt(const float* x, std::size_t ldx, int rows, const float* w, std::size_t ldw, int out,
               int k, float* y, std::size_t ldy, ThreadPool& pool) {
  if (rows <= 0 || out <= 0) return;
  // Split output features in whole tiles; share only when there is enough work to pay for it.
  const std::size_t tiles = static_cast<std::size_t>((out + kTileW - 1) / kTileW);
  const double work = static_cast<double>(rows) * out * k;
  pool.parallel_for(
      tiles,
      [&](std::size_t lo, std::size_t hi) {
        const int w_lo = static_cast<int>(lo) * kTileW;
        const int w_hi = std::min(out, static_cast<int>(hi) * kTileW);
        matmul_nt_any(x, ldx, rows, w, ldw, w_lo, w_hi, k, y, ldy);
      },
      work < 64.0 * 1024 ? tiles + 1 : 2);
}

void matmul_nt_serial(const float* x, std::size_t ldx, int rows, const float* w, std::size_t ldw,
                      int out, int k, float* y, std::size_t ldy) {
  if (rows > 0 && out > 0) matmul_nt_any(x, ldx, rows, w, ldw, 0, out, k, y, ldy);
}

void matmul_nt_portable(const float* x, std::size_t ldx, int rows, const float* w,
                        std::size_t ldw, int out, int k, float* y, std::size_t ldy) {
  if (rows > 0 && out > 0) matmul_nt_range(x, ldx, rows, w, ldw, 0, out, k, y, ldy);
}

SQZ_MULTIVERSION
double dot(const float* a, const float* b, int n) {
  double total = 0;
  int i = 0;
  const int n_vec = n - n % kLanes;
  while (i < n_vec) {
    const int block_end = std::min(n_vec, i + kBlock);
    v8f acc = {};
    for (; i < block_end; i += kLanes) {
      v8f av, bv;
      std::memcpy(&av, a + i, sizeof(v8f));
      std::memcpy(&bv, b + i, sizeof(v8f));
      acc += av * bv;
    }
    double s = 0;
    for (int l = 0; l < kLanes; ++l) s += acc[l];
    total += s;
  }
  for (; i < n; ++i) total += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return total;
}

void rmsnorm(const float* x, const float* weight, int n, double eps, float* out) {
  double ss = 0;
  for (int i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const double inv = 1.0 / std::sqrt(ss / n + eps);
  for (int i = 0; i < n; ++i) out[i] = static_cast<float>(x[i] * inv * weight[i]);
}

double cosine(const float* a, const float* b, int n) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < n; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  if (aa == 0 || bb == 0) return 0.0;
  return ab / std::sqrt(aa * bb);
}

}  // namespace squeeze::profiler::cpu
