// A Hugging Face directory whose config.json is valid and whose model.safetensors is the input:
// the 8-byte header length, the JSON header, dtypes, shapes and data_offsets.
#include "fuzz_input_file.hpp"
#include "squeeze/profiler/model_loader.hpp"

namespace {
// A 1-layer model small enough that a mutated header can describe it completely.
constexpr const char* kConfig = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama",
  "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
  "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 16,
  "max_position_embeddings": 32, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
  "tie_word_embeddings": true, "torch_dtype": "float32"
})";
}  // namespace

SQUEEZE_FUZZ_TARGET(safetensors) {
  squeeze::fuzz::FuzzInputFile input("model.safetensors", data, size);
  input.add_sibling("config.json", kConfig);
  (void)squeeze::profiler::load_hf_model(input.dir().string());
  return 0;
}
