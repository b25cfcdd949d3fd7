#pragma once
// A loaded model: its config and fp32 weights (dequantized at load), in one layout whatever the
// file format. Matrices are row-major (out_features, in_features), as y = W x.
// RoPE convention is recorded in config.rope_style; loaders do not permute Q/K.

#include <string>
#include <vector>

#include "squeeze/core/model_config.hpp"

namespace squeeze::profiler {

struct LayerWeights {
  std::vector<float> attn_norm;  // (hidden)
  std::vector<float> wq;         // (n_heads * head_dim, hidden)
  std::vector<float> wk;         // (n_kv_heads * head_dim, hidden)
  std::vector<float> wv;         // (n_kv_heads * head_dim, hidden)
  std::vector<float> bq, bk, bv; // (q_dim), (kv_dim), (kv_dim): Qwen2 only; empty otherwise
  std::vector<float> wo;         // (hidden, n_heads * head_dim)
  std::vector<float> ffn_norm;   // (hidden)
  std::vector<float> w_gate;     // (intermediate, hidden)   w1 in llama2.c
  std::vector<float> w_up;       // (intermediate, hidden)   w3 in llama2.c
  std::vector<float> w_down;     // (hidden, intermediate)   w2 in llama2.c
};

struct ModelWeights {
  core::ModelConfig config;
  std::string source;                // file or directory it was loaded from
  std::vector<float> token_embedding;  // (vocab, hidden)
  std::vector<LayerWeights> layers;    // (n_layers)
  std::vector<float> final_norm;       // (hidden)
  std::vector<float> lm_head;          // (vocab, hidden); empty when config.tied_embeddings

  [[nodiscard]] const std::vector<float>& classifier() const {
    return config.tied_embeddings ? token_embedding : lm_head;
  }
};

}  // namespace squeeze::profiler
