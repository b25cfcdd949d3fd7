#pragma once
// Token embedding lookup: bf16 table rows widened into the fp32 residual stream.

#include "common.cuh"

namespace squeeze::cuda {

// One block per token. An id outside [0, vocab) writes NaN so the bug shows up downstream
// instead of reading another row (callers validate ids on the host first).
static __global__ void embedding_kernel(const int32_t* __restrict__ ids,   // (tokens)
                                 const bf16* __restrict__ table,    // (vocab, hidden)
                                 float* __restrict__ out,           // (tokens, hidden)
                                 int vocab, int hidden) {
  const int t = blockIdx.x;
  const int id = ids[t];
  float* row_out = out + static_cast<int64_t>(t) * hidden;
  if (id < 0 || id >= vocab) {
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) row_out[i] = __int_as_float(0x7fc00000);
    return;
  }
  const bf16* row = table + static_cast<int64_t>(id) * hidden;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) row_out[i] = __bfloat162float(row[i]);
}

inline cudaError_t launch_embedding(const int32_t* ids, const bf16* table, float* out, int tokens,
                                    int vocab, int hidden, cudaStream_t stream) {
  if (tokens <= 0) return cudaSuccess;
  embedding_kernel<<<tokens, 256, 0, stream>>>(ids, table, out, vocab, hidden);
  return launch_status();
}

}  // namespace squeeze::cuda
