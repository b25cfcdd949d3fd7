#pragma once
// The CPU backend: fp32 weights, fp64 accumulation where rounding would show (dot products are
// summed in fp32 over short blocks and in fp64 across them; RMSNorm, softmax and cosine
// similarity in fp64). The reference the CUDA engine is checked against; fast enough for small
// models (both cores, matrix-matrix prefill).

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "squeeze/profiler/engine.hpp"

namespace squeeze::profiler {

// Hooks into the forward pass, for tests: the residual stream (compared with transformers'
// hidden states) and the attention probabilities as the KV policy sees them (replayed into a
// fresh core::LayerKvSelector). Called on the engine's thread, in layer order.
struct EngineObserver {
  // During a prefill: the residual stream entering decoder layer `layer`. (prompt_len, hidden)
  std::function<void(SequenceId, int layer, std::span<const float> residual)> on_layer_input;
  // After a prefill: column_scores[h][t] = sum over prompt queries and the query heads of KV
  // group h of the probability on key t. (kv_heads, prompt_len)
  std::function<void(SequenceId, int layer, const std::vector<std::vector<double>>& column_scores)>
      on_prefill;
  // After each decode step: the new query's probabilities by slot, summed over the group.
  std::function<void(SequenceId, int layer, int kv_head, std::span<const double> probs_by_slot)>
      on_decode;
};

struct CpuEngineOptions {
  int threads = 0;  // 0: std::thread::hardware_concurrency()
  EngineObserver observer;
};

[[nodiscard]] core::Result<std::unique_ptr<Engine>> make_cpu_engine(ModelWeights weights,
                                                                    CpuEngineOptions options = {});

}  // namespace squeeze::profiler
