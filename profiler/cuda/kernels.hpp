#pragma once
// Host-callable wrappers around every kernel launcher in kernels/*.cuh, so that host code built by
// the C++ compiler (the engine, calibration) can launch them. Same contracts as the launchers:
// asynchronous on `stream`, return the launch's cudaError_t.

#include <cuda_runtime.h>

#include "kernels/kernel_args.hpp"

namespace squeeze::cuda::ops {

cudaError_t embedding(const int32_t* ids, const bf16* table, float* out, int tokens, int vocab,
                      int hidden, cudaStream_t stream);
cudaError_t rmsnorm(const float* x, const float* weight, bf16* out, int tokens, int hidden,
                    float eps, cudaStream_t stream);
cudaError_t residual_add(float* x, const float* delta, const float* weight, bf16* out,
                         float* cosine, int tokens, int hidden, float eps, cudaStream_t stream);
cudaError_t swiglu(const float* gate_up, bf16* out, int tokens, int inter, cudaStream_t stream);
cudaError_t rope_kv_append(const RopeArgs& args, cudaStream_t stream);
cudaError_t prefill_attention(const PrefillAttentionArgs& args, cudaStream_t stream);
cudaError_t decode_attention(const DecodeAttentionArgs& args, cudaStream_t stream);
cudaError_t kv_admit(const KvAdmitArgs& args, cudaStream_t stream);
cudaError_t h2o_accumulate(const float* logits, const float* row_max, const float* row_sum,
                           const int32_t* lens, double* scores, int batch, int n_heads,
                           int kv_heads, int capacity, int max_len, cudaStream_t stream);
cudaError_t kv_gather(const bf16* k_src, const bf16* v_src, const int32_t* src_pos, bf16* k_dst,
                      bf16* v_dst, int batch, int kv_heads, int src_cap, int dst_cap,
                      int head_dim, cudaStream_t stream);
cudaError_t argmax(const float* logits, int32_t* out, int batch, int vocab, cudaStream_t stream);
cudaError_t top_p(const float* logits, const float* uniforms, int32_t* out, int batch, int vocab,
                  float temperature, float top_p, cudaStream_t stream);
// Deterministic pseudo-random fill (uniform in [-scale, scale)) and constant fill, for
// random-weight timing models.
cudaError_t fill_uniform_bf16(bf16* p, size_t n, unsigned long long seed, float scale,
                              cudaStream_t stream);
cudaError_t fill_f32(float* p, size_t n, float value, cudaStream_t stream);

}  // namespace squeeze::cuda::ops
