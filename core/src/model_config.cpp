#include "squeeze/core/model_config.hpp"

#include <fmt/format.h>

namespace squeeze::core {

int dtype_bytes(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
  }
  return "?";
}

Result<DType> parse_dtype(const std::string& name) {
  if (name == "f32" || name == "float32") return DType::F32;
  if (name == "f16" || name == "float16") return DType::F16;
  if (name == "bf16" || name == "bfloat16") return DType::BF16;
  return make_error(fmt::format("unknown dtype '{}' (expected f32, f16 or bf16)", name), 2);
}

std::int64_t ModelConfig::parameter_count() const {
  const std::int64_t h = hidden;
  const std::int64_t per_layer = h * q_dim() + 2 * h * kv_dim() + std::int64_t(q_dim()) * h +
                                 3 * h * intermediate + 2 * h +
                                 (attention_bias ? q_dim() + 2 * kv_dim() : 0);
  const std::int64_t embed = std::int64_t(vocab) * h;
  return embed + n_layers * per_layer + h + (tied_embeddings ? 0 : embed);
}

Status ModelConfig::validate() const {
  auto bad = [&](const std::string& what) {
    return make_error(fmt::format("model config{}: {}", name.empty() ? "" : " '" + name + "'", what));
  };
  if (n_layers <= 0) return bad(fmt::format("n_layers must be positive, got {}", n_layers));
  if (hidden <= 0) return bad(fmt::format("hidden size must be positive, got {}", hidden));
  if (n_heads <= 0) return bad(fmt::format("n_heads must be positive, got {}", n_heads));
  if (n_kv_heads <= 0) return bad(fmt::format("n_kv_heads must be positive, got {}", n_kv_heads));
  if (n_heads % n_kv_heads != 0)
    return bad(fmt::format("n_heads ({}) is not a multiple of n_kv_heads ({})", n_heads, n_kv_heads));
  if (head_dim <= 0 || head_dim % 2 != 0)
    return bad(fmt::format("head_dim must be positive and even (RoPE pairs), got {}", head_dim));
  if (intermediate <= 0) return bad(fmt::format("intermediate size must be positive, got {}", intermediate));
  if (vocab <= 0) return bad(fmt::format("vocab size must be positive, got {}", vocab));
  if (max_seq < 0) return bad(fmt::format("max_seq must not be negative, got {}", max_seq));
  if (!(rope_theta > 0)) return bad(fmt::format("rope_theta must be positive, got {}", rope_theta));
  if (!(rms_eps > 0)) return bad(fmt::format("rms_norm_eps must be positive, got {}", rms_eps));
  return {};
}

}  // namespace squeeze::core
