#pragma once
// KV-cache and weight memory in bytes (DESIGN.md §5). Keys and values are stored for every KV head
// of every layer, at the model's kv_dtype; a layer under a budget b_l holds min(b_l, tokens)
// entries, a layer under the full policy holds every token.

#include <cstdint>
#include <span>

#include "squeeze/core/model_config.hpp"
#include "squeeze/core/result.hpp"

namespace squeeze::core {

// 2 (K and V) * n_kv_heads * head_dim * dtype_bytes(kv_dtype): one token in one layer.
[[nodiscard]] std::int64_t kv_bytes_per_token_per_layer(const ModelConfig& model);

// Per-layer budgets as the memory accounting sees them. An empty `budgets` is the full policy
// (every layer keeps every token); otherwise one budget per layer, each >= 1.
struct LayerKvBudgets {
  std::span<const int> budgets;
  [[nodiscard]] bool full() const { return budgets.empty(); }
};

// Token entries a sequence of `seq_len` tokens holds summed over layers: Σ_l min(b_l, seq_len),
// or n_layers * seq_len under full. Errors (code 2): a budget count that is not n_layers, a
// budget < 1, seq_len < 0.
[[nodiscard]] Result<std::int64_t> kv_tokens_per_sequence(const ModelConfig& model,
                                                          LayerKvBudgets budgets,
                                                          std::int64_t seq_len);

// Bytes of KV cache for one sequence of `seq_len` tokens.
[[nodiscard]] Result<std::int64_t> kv_bytes_per_sequence(const ModelConfig& model,
                                                         LayerKvBudgets budgets,
                                                         std::int64_t seq_len);

// Bytes of KV cache for `batch` sequences of `seq_len` tokens each (batch >= 0).
[[nodiscard]] Result<std::int64_t> kv_bytes_per_batch(const ModelConfig& model,
                                                      LayerKvBudgets budgets,
                                                      std::int64_t seq_len, std::int64_t batch);

// Bytes of KV cache for a batch whose sequences differ in length.
[[nodiscard]] Result<std::int64_t> kv_bytes_for_sequences(const ModelConfig& model,
                                                          LayerKvBudgets budgets,
                                                          std::span<const std::int64_t> seq_lens);

// parameter_count() * dtype_bytes(weight_dtype).
[[nodiscard]] std::int64_t weight_bytes(const ModelConfig& model);

}  // namespace squeeze::core
