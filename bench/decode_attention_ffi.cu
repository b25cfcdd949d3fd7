// A C entry point to squeeze's decode attention for bench/decode_attention_compare.py, which
// loads this library with ctypes and times the kernel interleaved with PyTorch's SDPA on the same
// tensors in one process: both see the same memory, clocks and neighbours, so their ratio does
// not carry run-to-run drift (8 x 1 x 32k moved 55-65 µs across separate runs).
#include <cstddef>
#include <cstdint>

#include "kernels/decode_attention.cuh"

namespace sc = squeeze::cuda;

extern "C" {

#define SQZ_EXPORT __attribute__((visibility("default")))  // the rest is hidden (CMake)

SQZ_EXPORT size_t sqz_decode_workspace_bytes(int batch, int n_heads, int head_dim,
                                             int max_splits) {
  return sc::decode_attention_workspace_bytes(batch, n_heads, head_dim, max_splits);
}

// q (batch, n_heads, head_dim), k/v (batch, kv_heads, capacity, head_dim) bf16, lens int32
// (batch), out like q, work zeroed once (sqz_decode_workspace_bytes). kernel: 0 auto, 1 scalar,
// 2 tensor cores, 3 / 4 tensor cores in CTAs of 4 / 8 warps, 5 stream-K over CTAs, 6 stream-K
// over single warps, 7 / 8 TMA-ring tensor cores in CTAs of 4 / 8 warps. Returns a cudaError_t.
SQZ_EXPORT int sqz_decode_attention(const void* q, const void* k, const void* v, const int32_t* lens,
                         void* out, void* work, int batch, int n_heads, int kv_heads, int head_dim,
                         int capacity, int max_len, int max_splits, float scale, int kernel,
                         void* stream) {
  sc::DecodeAttentionArgs a{};
  a.q = static_cast<const sc::bf16*>(q);
  a.k_cache = static_cast<const sc::bf16*>(k);
  a.v_cache = static_cast<const sc::bf16*>(v);
  a.lens = lens;
  a.out = static_cast<sc::bf16*>(out);
  a.batch = batch;
  a.n_heads = n_heads;
  a.kv_heads = kv_heads;
  a.head_dim = head_dim;
  a.capacity = capacity;
  a.max_len = max_len;
  a.max_splits = max_splits;
  a.scale = scale;
  if (kernel < 0 || kernel > static_cast<int>(sc::DecodeKernel::kTensorCoreTmaTail))
    return static_cast<int>(cudaErrorInvalidValue);
  a.kernel = static_cast<sc::DecodeKernel>(kernel);
  sc::bind_decode_attention_workspace(a, work, batch);
  return static_cast<int>(sc::launch_decode_attention(a, static_cast<cudaStream_t>(stream)));
}

}  // extern "C"
