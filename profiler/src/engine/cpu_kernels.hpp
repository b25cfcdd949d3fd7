#pragma once
// Numeric building blocks of the CPU engine. Dot products sum fp32 products in vector lanes over
// blocks of 256 elements and add the block sums in fp64: fp32 rounding then stays at the level of
// a 256-term sum whatever the length, at close to fp32 speed.

#include <cstddef>

#include "thread_pool.hpp"

namespace squeeze::profiler::cpu {

// y(rows, out) = x(rows, k) * w(out, k)^T, all row-major with leading dimensions ldx, ldw, ldy.
// Parallel over output features.
void matmul_nt(const float* x, std::size_t ldx, int rows, const float* w, std::size_t ldw, int out,
               int k, float* y, std::size_t ldy, ThreadPool& pool);

// The same on the calling thread only (for callers already running inside a parallel_for).
void matmul_nt_serial(const float* x, std::size_t ldx, int rows, const float* w, std::size_t ldw,
                      int out, int k, float* y, std::size_t ldy);

// The portable (non-AVX2) tile, serial; tests check it on machines that would pick the AVX2 one.
void matmul_nt_portable(const float* x, std::size_t ldx, int rows, const float* w,
                        std::size_t ldw, int out, int k, float* y, std::size_t ldy);

// sum_i a[i] * b[i]
[[nodiscard]] double dot(const float* a, const float* b, int n);

// out = x / rms(x) * weight, rms in fp64.
void rmsnorm(const float* x, const float* weight, int n, double eps, float* out);

// cos(a, b) in fp64; 0 when either is the zero vector.
[[nodiscard]] double cosine(const float* a, const float* b, int n);

}  // namespace squeeze::profiler::cpu
