#pragma once
// config.json of a Hugging Face Llama / Mistral / Qwen2 / SmolLM checkpoint -> ModelConfig.
// Accepts the transformers-4 spelling (rope_theta, rope_scaling, torch_dtype) and the
// transformers-5 one (rope_parameters, dtype).

#include <string>

#include "squeeze/core/model_config.hpp"
#include "squeeze/core/result.hpp"

namespace squeeze::profiler::loaders {

[[nodiscard]] core::Result<core::ModelConfig> parse_hf_config(const std::string& config_json_path);

}  // namespace squeeze::profiler::loaders
