#pragma once
// What probe.cu and probe_stream.cu share: an error check, the spin kernel the probed launch
// queues behind (it writes its own end time, the timelines' zero), and random bf16 fill. Include
// after the probed decode_attention.cuh, which defines gtimer.
#include <cstdio>
#include <cstdlib>

#define CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { std::fprintf(stderr, "%s:%d %s\n", __FILE__, __LINE__, cudaGetErrorString(e_)); std::exit(1);} } while (0)

static __global__ void spin_kernel(long long ns, unsigned long long* end_t) {
  const long long t0 = clock64();
  while (clock64() - t0 < ns * 2) {}
  if (end_t) *end_t = squeeze::cuda::gtimer(0.f);
}

static __global__ void fill(squeeze::cuda::bf16* p, size_t n, unsigned seed) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    unsigned x = unsigned(i) * 2654435761u ^ seed; x ^= x >> 13; x *= 0x5bd1e995u; x ^= x >> 15;
    p[i] = __float2bfloat16((x & 0xffff) / 32768.f - 1.f);
  }
}
