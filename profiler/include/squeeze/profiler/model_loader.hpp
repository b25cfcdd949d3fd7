#pragma once
// Loading a Llama-family model from disk into ModelWeights (fp32, row-major (out, in)).
// Every loader checks what it reads against the file's size and the model's config, and answers
// with an Error naming the file and the tensor instead of crashing on a bad or truncated file.

#include <string>

#include "squeeze/core/result.hpp"
#include "squeeze/profiler/model_weights.hpp"

namespace squeeze::profiler {

enum class ModelFormat {
  Llama2c,      // llama2.c legacy .bin: 7 int32 header + fp32 tensors
  HuggingFace,  // directory with config.json + model.safetensors (or a sharded index)
  Gguf,         // llama.cpp GGUF v2/v3
};

[[nodiscard]] const char* model_format_name(ModelFormat format);

// A directory holding config.json is Hugging Face; a file starting with "GGUF" is GGUF; any other
// regular file is taken as llama2.c.
[[nodiscard]] core::Result<ModelFormat> detect_model_format(const std::string& path);

// Detects the format and loads. The returned config has passed ModelConfig::validate().
[[nodiscard]] core::Result<ModelWeights> load_model(const std::string& path);

// Every weight finite; the error names the file, the tensor and the element. load_model() runs it.
[[nodiscard]] core::Status check_weights_finite(const ModelWeights& weights);

[[nodiscard]] core::Result<ModelWeights> load_llama2c_model(const std::string& path);
[[nodiscard]] core::Result<ModelWeights> load_hf_model(const std::string& directory);
[[nodiscard]] core::Result<ModelWeights> load_gguf_model(const std::string& path);

}  // namespace squeeze::profiler
