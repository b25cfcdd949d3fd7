#include "squeeze/sim/op_shapes.hpp"

#include <algorithm>

namespace squeeze::sim {

int kv_heads_per_gpu(const core::ModelConfig& model, int tp) {
  return std::max(1, model.n_kv_heads / std::max(1, tp));
}

LayerShapes layer_shapes(const core::ModelConfig& model, int tp) {
  tp = std::max(1, tp);
  const int heads = std::max(1, model.n_heads / tp);
  const int kv_heads = kv_heads_per_gpu(model, tp);
  LayerShapes s;
  s.hidden = model.hidden;
  s.intermediate_per_gpu = std::max(1, model.intermediate / tp);
  s.vocab = model.vocab;
  s.act_bytes = core::dtype_bytes(model.weight_dtype);
  s.qkv = {(heads + 2 * kv_heads) * model.head_dim, model.hidden};
  s.o_proj = {model.hidden, heads * model.head_dim};
  s.gate_up = {2 * s.intermediate_per_gpu, model.hidden};
  s.down = {model.hidden, s.intermediate_per_gpu};
  s.lm_head = {std::max(1, model.vocab / tp), model.hidden};
  s.attention = {heads, kv_heads, model.head_dim, core::dtype_bytes(model.kv_dtype)};
  return s;
}

std::int64_t kv_bytes_per_token_layer(const core::ModelConfig& model, int tp) {
  return 2LL * kv_heads_per_gpu(model, tp) * model.head_dim * core::dtype_bytes(model.kv_dtype);
}

}  // namespace squeeze::sim
