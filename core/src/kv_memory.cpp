#include "squeeze/core/kv_memory.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace squeeze::core {

namespace {

// Only the fields the accounting reads: a full validate() would also demand a vocabulary and
// an MLP size that KV memory does not depend on.
Status check_kv_shape(const ModelConfig& m) {
  if (m.n_layers < 1 || m.n_kv_heads < 1 || m.head_dim < 1)
    return make_error(fmt::format("KV memory: model needs positive n_layers, n_kv_heads and "
                                  "head_dim, got {}, {}, {}", m.n_layers, m.n_kv_heads, m.head_dim), 2);
  return {};
}

Status check_budgets(const ModelConfig& m, LayerKvBudgets b) {
  if (b.full()) return {};
  if (static_cast<std::int64_t>(b.budgets.size()) != m.n_layers)
    return make_error(fmt::format("KV memory: {} layer budgets given for a {}-layer model",
                                  b.budgets.size(), m.n_layers), 2);
  for (std::size_t l = 0; l < b.budgets.size(); ++l)
    if (b.budgets[l] < 1)
      return make_error(fmt::format("KV memory: layer {} has budget {} (must be at least 1 token)",
                                    l, b.budgets[l]), 2);
  return {};
}

Status check_seq_len(std::int64_t seq_len) {
  if (seq_len < 0)
    return make_error(fmt::format("KV memory: sequence length must not be negative, got {}", seq_len), 2);
  return {};
}

// Valid inputs assumed.
std::int64_t tokens_held(const ModelConfig& m, LayerKvBudgets b, std::int64_t seq_len) {
  if (b.full()) return std::int64_t{m.n_layers} * seq_len;
  std::int64_t total = 0;
  for (int budget : b.budgets) total += std::min<std::int64_t>(budget, seq_len);
  return total;
}

}  // namespace

std::int64_t kv_bytes_per_token_per_layer(const ModelConfig& model) {
  return 2 * std::int64_t{model.n_kv_heads} * model.head_dim * dtype_bytes(model.kv_dtype);
}

Result<std::int64_t> kv_tokens_per_sequence(const ModelConfig& model, LayerKvBudgets budgets,
                                             std::int64_t seq_len) {
  SQZ_CHECK(check_kv_shape(model));
  SQZ_CHECK(check_budgets(model, budgets));
  SQZ_CHECK(check_seq_len(seq_len));
  return tokens_held(model, budgets, seq_len);
}

Result<std::int64_t> kv_bytes_per_sequence(const ModelConfig& model, LayerKvBudgets budgets,
                                           std::int64_t seq_len) {
  SQZ_TRY(tokens, kv_tokens_per_sequence(model, budgets, seq_len));
  return tokens * kv_bytes_per_token_per_layer(model);
}

Result<std::int64_t> kv_bytes_per_batch(const ModelConfig& model, LayerKvBudgets budgets,
                                        std::int64_t seq_len, std::int64_t batch) {
  if (batch < 0)
    return make_error(fmt::format("KV memory: batch size must not be negative, got {}", batch), 2);
  SQZ_TRY(per_sequence, kv_bytes_per_sequence(model, budgets, seq_len));
  return per_sequence * batch;
}

Result<std::int64_t> kv_bytes_for_sequences(const ModelConfig& model, LayerKvBudgets budgets,
                                            std::span<const std::int64_t> seq_lens) {
  SQZ_CHECK(check_kv_shape(model));
  SQZ_CHECK(check_budgets(model, budgets));
  std::int64_t tokens = 0;
  for (std::int64_t len : seq_lens) {
    SQZ_CHECK(check_seq_len(len));
    tokens += tokens_held(model, budgets, len);
  }
  return tokens * kv_bytes_per_token_per_layer(model);
}

std::int64_t weight_bytes(const ModelConfig& model) {
  return model.parameter_count() * dtype_bytes(model.weight_dtype);
}

}  // namespace squeeze::core
