#pragma once
// The shape of a Llama-family decoder: everything memory accounting, the engines and the cost
// model need, and nothing about where the weights live.

#include <cstdint>
#include <string>

#include "squeeze/core/result.hpp"

namespace squeeze::core {

// How RoPE pairs the dimensions of a head.
//  - Interleaved: pairs (2i, 2i+1). llama2.c and GGUF (llama.cpp permutes Q/K at conversion).
//  - HalfSplit:   pairs (i, i + head_dim/2). Hugging Face transformers' rotate_half.
enum class RopeStyle { Interleaved, HalfSplit };

// Storage type of weights and KV entries, as it matters for bytes.
enum class DType { F32, F16, BF16 };

[[nodiscard]] int dtype_bytes(DType t);
[[nodiscard]] const char* dtype_name(DType t);
[[nodiscard]] Result<DType> parse_dtype(const std::string& name);

struct RopeScaling {
  // "none", "linear", "llama3", "dynamic", "yarn": the fields of config.json's rope_scaling.
  std::string type = "none";
  double factor = 1.0;
  double low_freq_factor = 1.0;       // llama3
  double high_freq_factor = 4.0;      // llama3
  int original_max_position = 8192;   // llama3 / yarn
};

struct ModelConfig {
  std::string name;             // e.g. "stories260K", "SmolLM2-135M-Instruct", "llama-2-7b-shape"
  std::string architecture = "llama";  // llama, mistral, qwen2
  int n_layers = 0;
  int hidden = 0;               // model dimension
  int n_heads = 0;              // query heads
  int n_kv_heads = 0;           // key/value heads (GQA when < n_heads)
  int head_dim = 0;             // usually hidden / n_heads, but config.json may say otherwise
  int intermediate = 0;         // SwiGLU hidden size
  int vocab = 0;
  int max_seq = 0;              // context length the model was trained for
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  RopeStyle rope_style = RopeStyle::Interleaved;
  double rms_eps = 1e-5;
  bool tied_embeddings = true;  // LM head shares the token embedding
  bool attention_bias = false;  // Qwen2 has q/k/v biases
  int sliding_window = 0;       // Mistral's native window (0 = none); informational
  DType weight_dtype = DType::BF16;  // as served (bytes for memory planning)
  DType kv_dtype = DType::BF16;

  [[nodiscard]] int q_dim() const { return n_heads * head_dim; }
  [[nodiscard]] int kv_dim() const { return n_kv_heads * head_dim; }
  [[nodiscard]] int group_size() const { return n_kv_heads > 0 ? n_heads / n_kv_heads : 0; }
  // Parameter count of the decoder (embedding, layers, final norm, LM head when untied).
  [[nodiscard]] std::int64_t parameter_count() const;
  // Problems a loader must reject: non-positive sizes, heads not dividing, odd head_dim, ...
  [[nodiscard]] Status validate() const;
};

}  // namespace squeeze::core
