// The matmul micro-kernel written with AVX2/FMA intrinsics: a 2 x 4 tile of dot products kept in
// eight ymm registers (GCC spills the portable vector-extension version to the stack, at a
// quarter of the speed). Compiled for AVX2 by the pragma and only called when the CPU has it.
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include <algorithm>
#include <cstddef>

// clang ignores GCC's target pragma (the fuzz preset builds with clang): give it the same
// target through a function attribute applied to everything below.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx2,fma")
#endif

namespace squeeze::profiler::cpu {

namespace {

constexpr int kBlock = 256;    // elements summed in fp32 before the fp64 add
constexpr int kRowBlock = 32;  // rows of x kept hot in cache while a thread sweeps its w rows

inline double hsum(__m256 v) {
  const __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  const __m256d wide = _mm256_add_pd(_mm256_cvtps_pd(lo), _mm256_cvtps_pd(hi));
  const __m128d pair = _mm_add_pd(_mm256_castpd256_pd128(wide), _mm256_extractf128_pd(wide, 1));
  return _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)));
}

// y[0..cols) for one row of x against four rows of w. The same lanes and block sums as the 2-row
// tile, so a sequence's logits do not depend on whether it was decoded alone or in a batch.
void one_row_tile(const float* x0, const float* w0, const float* w1, const float* w2,
                  const float* w3, int k, int k_vec, float* y, int cols) {
  const float* wp[4] = {w0, w1, w2, w3};
  double t[4] = {};
  int kk = 0;
  while (kk < k_vec) {
    const int block_end = std::min(k_vec, kk + kBlock);
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (; kk < block_end; kk += 8) {
      const __m256 xa = _mm256_loadu_ps(x0 + kk);
      a0 = _mm256_fmadd_ps(xa, _mm256_loadu_ps(w0 + kk), a0);
      a1 = _mm256_fmadd_ps(xa, _mm256_loadu_ps(w1 + kk), a1);
      a2 = _mm256_fmadd_ps(xa, _mm256_loadu_ps(w2 + kk), a2);
      a3 = _mm256_fmadd_ps(xa, _mm256_loadu_ps(w3 + kk), a3);
    }
    t[0] += hsum(a0);
    t[1] += hsum(a1);
    t[2] += hsum(a2);
    t[3] += hsum(a3);
  }
  for (; kk < k; ++kk)
    for (int c = 0; c < 4; ++c) t[c] += static_cast<double>(x0[kk]) * static_cast<double>(wp[c][kk]);
  for (int c = 0; c < cols; ++c) y[c] = static_cast<float>(t[c]);
}

}  // namespace

void matmul_nt_range_avx2(const float* x, std::size_t ldx, int rows, const float* w,
                          std::size_t ldw, int w_lo, int w_hi, int k, float* y, std::size_t ldy) {
  const int k_vec = k - k % 8;
  for (int r0 = 0; r0 < rows; r0 += kRowBlock) {
    const int r1 = std::min(rows, r0 + kRowBlock);
    for (int o0 = w_lo; o0 < w_hi; o0 += 4) {
      // Remainder tiles clamp to the last valid row and discard those results.
      const float* w0 = w + static_cast<std::size_t>(std::min(o0 + 0, w_hi - 1)) * ldw;
      const float* w1 = w + static_cast<std::size_t>(std::min(o0 + 1, w_hi - 1)) * ldw;
      const float* w2 = w + static_cast<std::size_t>(std::min(o0 + 2, w_hi - 1)) * ldw;
      const float* w3 = w + static_cast<std::size_t>(std::min(o0 + 3, w_hi - 1)) * ldw;
      for (int i0 = r0; i0 < r1; i0 += 2) {
        if (i0 + 1 == r1) {  // a lone row (every decode matvec): do not compute it twice
          one_row_tile(x + static_cast<std::size_t>(i0) * ldx, w0, w1, w2, w3, k, k_vec,
                       y + static_cast<std::size_t>(i0) * ldy + static_cast<std::size_t>(o0),
                       std::min(4, w_hi - o0));
          continue;
        }
        const float* x0 = x + static_cast<std::size_t>(i0) * ldx;
        const float* x1 = x + static_cast<std::size_t>(std::min(i0 + 1, r1 - 1)) * ldx;
        double t[2][4] = {};
        int kk = 0;
        while (kk < k_vec) {
          const int block_end = std::min(k_vec, kk + kBlock);
          __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a03 = a00;
          __m256 a10 = a00, a11 = a00, a12 = a00, a13 = a00;
          for (; kk < block_end; kk += 8) {
            const __m256 xa = _mm256_loadu_ps(x0 + kk), xb = _mm256_loadu_ps(x1 + kk);
            __m256 wv = _mm256_loadu_ps(w0 + kk);
            a00 = _mm256_fmadd_ps(xa, wv, a00);
            a10 = _mm256_fmadd_ps(xb, wv, a10);
            wv = _mm256_loadu_ps(w1 + kk);
            a01 = _mm256_fmadd_ps(xa, wv, a01);
            a11 = _mm256_fmadd_ps(xb, wv, a11);
            wv = _mm256_loadu_ps(w2 + kk);
            a02 = _mm256_fmadd_ps(xa, wv, a02);
            a12 = _mm256_fmadd_ps(xb, wv, a12);
            wv = _mm256_loadu_ps(w3 + kk);
            a03 = _mm256_fmadd_ps(xa, wv, a03);
            a13 = _mm256_fmadd_ps(xb, wv, a13);
          }
          t[0][0] += hsum(a00); t[0][1] += hsum(a01); t[0][2] += hsum(a02); t[0][3] += hsum(a03);
          t[1][0] += hsum(a10); t[1][1] += hsum(a11); t[1][2] += hsum(a12); t[1][3] += hsum(a13);
        }
        const float* wp[4] = {w0, w1, w2, w3};
        const float* xp[2] = {x0, x1};
        for (; kk < k; ++kk)
          for (int r = 0; r < 2; ++r)
            for (int c = 0; c < 4; ++c)
              t[r][c] += static_cast<double>(xp[r][kk]) * static_cast<double>(wp[c][kk]);
        for (int r = 0; r < 2 && i0 + r < r1; ++r)
          for (int c = 0; c < 4 && o0 + c < w_hi; ++c)
            y[static_cast<std::size_t>(i0 + r) * ldy + static_cast<std::size_t>(o0 + c)] =
                static_cast<float>(t[r][c]);
      }
    }
  }
}

}  // namespace squeeze::profiler::cpu
#if defined(__clang__)
#pragma clang attribute pop
#endif
#endif
