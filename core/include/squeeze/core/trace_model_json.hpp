#pragma once
// ModelConfig <-> JSON text, the form a trace stores it in (meta key "model_config"). Keys are
// the ModelConfig field names; see traces/FORMAT.md. Kept as strings so this header stays free of
// any JSON library.

#include <string>
#include <string_view>

#include "squeeze/core/model_config.hpp"
#include "squeeze/core/result.hpp"

namespace squeeze::core {

[[nodiscard]] std::string model_config_to_json(const ModelConfig& config);
// Missing keys keep ModelConfig's defaults; wrong types or malformed JSON are errors. The result
// is not validate()d: callers decide whether an incomplete config is acceptable.
[[nodiscard]] Result<ModelConfig> model_config_from_json(std::string_view json);

}  // namespace squeeze::core
