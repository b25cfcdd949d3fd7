// The one translation unit that instantiates every kernel for the library.
#include "kernels.hpp"

#include "kernels/decode_attention.cuh"
#include "kernels/embedding.cuh"
#include "kernels/kv_select.cuh"
#include "kernels/prefill_attention.cuh"
#include "kernels/rmsnorm.cuh"
#include "kernels/rope.cuh"
#include "kernels/sampling.cuh"
#include "kernels/swiglu.cuh"

namespace squeeze::cuda {
namespace {

__global__ void fill_uniform_bf16_kernel(bf16* p, size_t n, unsigned long long seed, float scale) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x) {
    unsigned long long x = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    p[i] = __float2bfloat16((static_cast<float>(x >> 40) / 8388608.f - 1.f) * scale);
  }
}

__global__ void fill_f32_kernel(float* p, size_t n, float v) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x)
    p[i] = v;
}

}  // namespace

namespace ops {

cudaError_t embedding(const int32_t* ids, const bf16* table, float* out, int tokens, int vocab,
                      int hidden, cudaStream_t stream) {
  return launch_embedding(ids, table, out, tokens, vocab, hidden, stream);
}
cudaError_t rmsnorm(const float* x, const float* weight, bf16* out, int tokens, int hidden,
                    float eps, cudaStream_t stream) {
  return launch_rmsnorm(x, weight, out, tokens, hidden, eps, stream);
}
cudaError_t residual_add(float* x, const float* delta, const float* weight, bf16* out,
                         float* cosine, int tokens, int hidden, float eps, cudaStream_t stream) {
  return launch_residual_add(x, delta, weight, out, cosine, tokens, hidden, eps, stream);
}
cudaError_t swiglu(const float* gate_up, bf16* out, int tokens, int inter, cudaStream_t stream) {
  return launch_swiglu(gate_up, out, tokens, inter, stream);
}
cudaError_t rope_kv_append(const RopeArgs& args, cudaStream_t stream) {
  return launch_rope_kv_append(args, stream);
}
cudaError_t prefill_attention(const PrefillAttentionArgs& args, cudaStream_t stream) {
  return launch_prefill_attention(args, stream);
}
cudaError_t decode_attention(const DecodeAttentionArgs& args, cudaStream_t stream) {
  return launch_decode_attention(args, stream);
}
cudaError_t kv_admit(const KvAdmitArgs& args, cudaStream_t stream) {
  return launch_kv_admit(args, stream);
}
cudaError_t h2o_accumulate(const float* logits, const float* row_max, const float* row_sum,
                           const int32_t* lens, double* scores, int batch, int n_heads,
                           int kv_heads, int capacity, int max_len, cudaStream_t stream) {
  return launch_h2o_accumulate(logits, row_max, row_sum, lens, scores, batch, n_heads, kv_heads,
                               capacity, max_len, stream);
}
cudaError_t kv_gather(const bf16* k_src, const bf16* v_src, const int32_t* src_pos, bf16* k_dst,
                      bf16* v_dst, int batch, int kv_heads, int src_cap, int dst_cap,
                      int head_dim, cudaStream_t stream) {
  return launch_kv_gather(k_src, v_src, src_pos, k_dst, v_dst, batch, kv_heads, src_cap, dst_cap,
                          head_dim, stream);
}
cudaError_t argmax(const float* logits, int32_t* out, int batch, int vocab, cudaStream_t stream) {
  return launch_argmax(logits, out, batch, vocab, stream);
}
cudaError_t top_p(const float* logits, const float* uniforms, int32_t* out, int batch, int vocab,
                  float temperature, float top_p, cudaStream_t stream) {
  return launch_top_p(logits, uniforms, out, batch, vocab, temperature, top_p, stream);
}
cudaError_t fill_uniform_bf16(bf16* p, size_t n, unsigned long long seed, float scale,
                              cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  fill_uniform_bf16_kernel<<<1024, 256, 0, stream>>>(p, n, seed, scale);
  return cudaGetLastError();
}
cudaError_t fill_f32(float* p, size_t n, float value, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  fill_f32_kernel<<<256, 256, 0, stream>>>(p, n, value);
  return cudaGetLastError();
}

}  // namespace ops
}  // namespace squeeze::cuda
