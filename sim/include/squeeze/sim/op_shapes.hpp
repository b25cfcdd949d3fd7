#pragma once
// Shapes of the ops of one decoder layer, per GPU under tensor parallelism (Megatron split:
// qkv/gate_up split by output columns, o_proj/down by input rows, heads split across GPUs).

#include <cstdint>
#include <string>

#include "squeeze/core/model_config.hpp"

namespace squeeze::sim {

// A GEMM computing (rows x k) * (k x n).
struct GemmShape {
  int n = 0;  // output features
  int k = 0;  // input features
  bool operator==(const GemmShape&) const = default;
};

// Attention as the decode/prefill kernels see it on one GPU.
struct AttentionShape {
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int kv_bytes = 2;  // bytes per stored K or V element
  bool operator==(const AttentionShape&) const = default;
};

struct LayerShapes {
  GemmShape qkv, o_proj, gate_up, down, lm_head;
  AttentionShape attention;
  int hidden = 0;
  int intermediate_per_gpu = 0;
  int vocab = 0;
  int act_bytes = 2;  // activations are stored in the weight dtype
};

// KV heads are replicated when there are fewer than tp of them (each GPU needs at least one).
[[nodiscard]] int kv_heads_per_gpu(const core::ModelConfig& model, int tp);
[[nodiscard]] LayerShapes layer_shapes(const core::ModelConfig& model, int tp);

// Bytes of K and V for one token in one layer on one GPU.
[[nodiscard]] std::int64_t kv_bytes_per_token_layer(const core::ModelConfig& model, int tp);

}  // namespace squeeze::sim
