#pragma once
// Causal GQA attention on the CPU, softmax in fp64: prefill over a whole prompt (optionally
// summing each key's probabilities per KV head, for H2O) and decode over one layer's slots.

#include <vector>

#include "kv_cache.hpp"
#include "thread_pool.hpp"

namespace squeeze::profiler::cpu {

struct AttentionShape {
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  [[nodiscard]] int group() const { return n_heads / n_kv_heads; }
  [[nodiscard]] int q_dim() const { return n_heads * head_dim; }
  [[nodiscard]] int kv_dim() const { return n_kv_heads * head_dim; }
};

// out(n, q_dim) = softmax(q k^T / sqrt(d), causal) v for rows q(n, q_dim), k, v (n, kv_dim).
// column_scores, when not null, receives (kv_heads, n): per key, its probabilities summed over
// all queries and the group's query heads.
void prefill_attention(const AttentionShape& shape, int n, const float* q, const float* k,
                       const float* v, float* out,
                       std::vector<std::vector<double>>* column_scores, ThreadPool& pool);

// out(q_dim) for one query attending over the cache's slots 0..size()-1 (the new token's key is
// already written). probs_by_slot receives (kv_heads, size): the group-summed probabilities.
void decode_attention(const AttentionShape& shape, const float* q, const LayerCache& cache,
                      float* out, std::vector<std::vector<double>>& probs_by_slot);

}  // namespace squeeze::profiler::cpu
