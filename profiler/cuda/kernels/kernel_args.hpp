#pragma once
// Argument structs of the kernel launchers (layouts documented on each field), in a header that
// plain C++ can include: host code (the engine, compiled by the C++ compiler) fills them and
// calls the wrappers in kernels.hpp; the .cuh files hold the kernels and launchers themselves.

#include <cuda_bf16.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace squeeze::cuda {

using bf16 = __nv_bfloat16;

// --- rope.cuh
enum class RopePairing : int { Interleaved = 0, HalfSplit = 1 };

struct RopeArgs {
  const float* qkv;             // (tokens, q_dim + 2 * kv_dim): rows are [q | k | v]
  const float* bias;            // (q_dim + 2 * kv_dim) or null (Qwen2 q/k/v biases)
  const int32_t* positions;     // (tokens) absolute position of each token
  const int32_t* seq_of_token;  // (tokens) which sequence (batch row) each token belongs to
  const int32_t* slots;         // (tokens, kv_heads) cache slot per KV head
  const float* inv_freq;        // (head_dim / 2) rotation frequency of pair i
  bf16* q_out;                  // (tokens, n_heads, head_dim)
  bf16* k_cache;                // (batch, kv_heads, capacity, head_dim)
  bf16* v_cache;                // (batch, kv_heads, capacity, head_dim)
  int tokens, n_heads, kv_heads, head_dim, capacity;
  RopePairing pairing;
};

// Per-pair frequencies theta^(-2i/d), with the rope_scaling variants Llama-family configs use
// ("linear": divided by factor; "llama3": the wavelength-dependent blend). Host side, in double.
inline std::vector<float> rope_inv_freq(int head_dim, double theta, const char* scaling_type,
                                        double factor, double low_freq_factor,
                                        double high_freq_factor, int original_max_position) {
  const std::string type = scaling_type != nullptr ? scaling_type : "none";
  std::vector<float> out(static_cast<size_t>(head_dim / 2));
  const double kPi = 3.14159265358979323846;
  for (int i = 0; i < head_dim / 2; ++i) {
    double f = 1.0 / std::pow(theta, 2.0 * i / head_dim);
    if (type == "linear" && factor > 0) {
      f /= factor;
    } else if (type == "llama3" && factor > 0) {
      const double low_wavelen = original_max_position / low_freq_factor;
      const double high_wavelen = original_max_position / high_freq_factor;
      const double wavelen = 2 * kPi / f;
      if (wavelen > low_wavelen) {
        f /= factor;
      } else if (wavelen >= high_wavelen) {
        const double smooth = (original_max_position / wavelen - low_freq_factor) /
                              (high_freq_factor - low_freq_factor);
        f = (1 - smooth) * f / factor + smooth * f;
      }
    }
    out[static_cast<size_t>(i)] = static_cast<float>(f);
  }
  return out;
}

// --- decode_attention.cuh
// kTensorCore lets the launcher pick the CTA size and work split; the last four force one
// (tests, benchmark): a split grid of 4-warp or 8-warp CTAs, or stream-K over 8-warp CTAs or
// over single warps.
enum class DecodeKernel : int {
  kAuto,
  kScalar,
  kTensorCore,
  kTensorCore4Warps,
  kTensorCore8Warps,
  kTensorCoreStreamK,
  kTensorCoreWarpStreamK,
  kTensorCoreTma4Warps,  // K/V through a TMA ring in shared memory (decode_attention_mma_tma.cuh)
  kTensorCoreTma8Warps,
  kTensorCoreTmaTail  // the 4-warp TMA kernel on a tail grid (decode_tail_plan.cuh)
};

struct DecodeAttentionArgs {
  const bf16* q;        // (batch, n_heads, head_dim) one query token per sequence
  const bf16* k_cache;  // (batch, kv_heads, capacity, head_dim)
  const bf16* v_cache;  // (batch, kv_heads, capacity, head_dim)
  const int32_t* lens;  // (batch) slots in use per sequence in this layer (<= capacity)
  bf16* out;            // (batch, n_heads, head_dim)
  float* logits;        // (batch, n_heads, capacity) or null: scores in log2 units (H2O)
  float* row_max;       // (batch, n_heads) or null: final softmax max, log2 units (H2O)
  float* row_sum;       // (batch, n_heads) or null: final softmax denominator (H2O)
  float* partial_o;     // (batch, n_heads, max_splits, head_dim) workspace
  float* partial_ml;    // (batch, n_heads, max_splits, 2) workspace: (max, sum) per split
  // (batch, kv_heads) counters in the workspace (room for (batch, n_heads)), zero before the
  // first launch: the CTAs of a split sequence count themselves done here so the last one merges
  // the splits (no second kernel); that CTA leaves its counter at zero again, so the workspace
  // stays ready for the next launch.
  unsigned* split_done;
  int batch, n_heads, kv_heads, head_dim, capacity;
  int max_len;     // max over lens (host knows it; sizes the split grid)
  int max_splits;  // workspace capacity in splits
  float scale;     // usually 1/sqrt(head_dim)
  // Which kernel: the launcher's choice (tensor cores for GQA at head_dim 64/128, else scalar),
  // or one forced by tests and the benchmark (tensor cores where not built: invalid value).
  DecodeKernel kernel = DecodeKernel::kAuto;
};

[[nodiscard]] inline size_t decode_attention_workspace_bytes(int batch, int n_heads, int head_dim,
                                                             int max_splits) {
  const size_t rows = static_cast<size_t>(batch) * n_heads;
  return rows * max_splits * (head_dim + 2) * sizeof(float) + rows * sizeof(unsigned);
}

// Points the workspace fields of `a` (n_heads, head_dim and max_splits set) into one allocation
// of decode_attention_workspace_bytes(workspace_batch, ...), which the caller zeroes once after
// allocating. The layout follows the allocation, not a.batch, so a launch with fewer sequences
// than the workspace was sized for finds the split counters where every launch left them at zero
// (laid out by a.batch they would land on earlier launches' partial sums).
inline void bind_decode_attention_workspace(DecodeAttentionArgs& a, void* work,
                                            int workspace_batch) {
  const size_t rows = static_cast<size_t>(workspace_batch) * a.n_heads;
  a.partial_o = static_cast<float*>(work);
  a.partial_ml = a.partial_o + rows * a.max_splits * a.head_dim;
  a.split_done = reinterpret_cast<unsigned*>(a.partial_ml + rows * a.max_splits * 2);
}

// --- prefill_attention.cuh
struct PrefillAttentionArgs {
  const bf16* q;             // (tokens, n_heads, head_dim) prompts packed one after another
  const bf16* k_cache;       // (batch, kv_heads, capacity, head_dim) prompt token i at slot i
  const bf16* v_cache;       // (batch, kv_heads, capacity, head_dim)
  const int32_t* seq_start;  // (batch + 1) first packed token of each sequence
  bf16* out;                 // (tokens, n_heads, head_dim)
  double* col_sums;          // (batch, kv_heads, capacity) or null; added to (+=)
  int batch, n_heads, kv_heads, head_dim, capacity;
  int max_len;  // longest prompt (sizes the grid)
  float scale;
};

// --- kv_select.cuh
enum class KvPolicy : int { Full = 0, Window = 1, Streaming = 2, H2O = 3 };

// One layer's selector state for every sequence of the batch (device memory).
struct LayerKvDeviceState {
  int32_t* lens;       // (batch) slots in use per sequence
  int32_t* ring;       // (batch) next ring slot (window / StreamingLLM)
  int32_t* positions;  // (batch, kv_heads, capacity) absolute position held by each slot
  double* scores;  // (batch, kv_heads, capacity) H2O accumulated attention per slot; null otherwise
  int capacity;    // slots per (sequence, KV head): the layer's budget (full: max length)
};

struct KvAdmitArgs {
  LayerKvDeviceState state;
  const int32_t* new_pos;  // (batch) position of the arriving decode token
  int32_t* slots;          // (batch, kv_heads) out: slot written per KV head
  int32_t* error;          // (1) set non-zero on a broken invariant (capacity, recent window)
  // Per sequence, since budgets (and so the defaults derived from them) differ between sequences.
  const int32_t* budget;      // (batch) tokens kept (Full: the capacity)
  const int32_t* ring_start;  // (batch) StreamingLLM: sink count as the reference clamps it; else 0
  const int32_t* protect;     // (batch) H2O: max(recent - 1, 0); else 0
  int batch, kv_heads;
  KvPolicy policy;
};

}  // namespace squeeze::cuda
