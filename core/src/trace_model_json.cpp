#include "squeeze/core/trace_model_json.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace squeeze::core {
namespace {

using nlohmann::json;

const char* rope_style_name(RopeStyle style) {
  return style == RopeStyle::HalfSplit ? "half_split" : "interleaved";
}

// Reads `key` into `out` when present; a present key of the wrong type is an error.
template <class T>
Status read_key(const json& object, const char* key, T& out) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    return make_error(
        fmt::format("model config JSON: key '{}' has the wrong type ({})", key, it->type_name()));
  }
  return {};
}

}  // namespace

std::string model_config_to_json(const ModelConfig& c) {
  const json j = {
      {"name", c.name},
      {"architecture", c.architecture},
      {"n_layers", c.n_layers},
      {"hidden", c.hidden},
      {"n_heads", c.n_heads},
      {"n_kv_heads", c.n_kv_heads},
      {"head_dim", c.head_dim},
      {"intermediate", c.intermediate},
      {"vocab", c.vocab},
      {"max_seq", c.max_seq},
      {"rope_theta", c.rope_theta},
      {"rope_scaling",
       {{"type", c.rope_scaling.type},
        {"factor", c.rope_scaling.factor},
        {"low_freq_factor", c.rope_scaling.low_freq_factor},
        {"high_freq_factor", c.rope_scaling.high_freq_factor},
        {"original_max_position", c.rope_scaling.original_max_position}}},
      {"rope_style", rope_style_name(c.rope_style)},
      {"rms_eps", c.rms_eps},
      {"tied_embeddings", c.tied_embeddings},
      {"attention_bias", c.attention_bias},
      {"sliding_window", c.sliding_window},
      {"weight_dtype", dtype_name(c.weight_dtype)},
      {"kv_dtype", dtype_name(c.kv_dtype)},
  };
  return j.dump();
}

Result<ModelConfig> model_config_from_json(std::string_view text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error("model config JSON is malformed");
  if (!j.is_object()) return make_error("model config JSON is not an object");

  ModelConfig c;
  SQZ_CHECK(read_key(j, "name", c.name));
  SQZ_CHECK(read_key(j, "architecture", c.architecture));
  SQZ_CHECK(read_key(j, "n_layers", c.n_layers));
  SQZ_CHECK(read_key(j, "hidden", c.hidden));
  SQZ_CHECK(read_key(j, "n_heads", c.n_heads));
  SQZ_CHECK(read_key(j, "n_kv_heads", c.n_kv_heads));
  SQZ_CHECK(read_key(j, "head_dim", c.head_dim));
  SQZ_CHECK(read_key(j, "intermediate", c.intermediate));
  SQZ_CHECK(read_key(j, "vocab", c.vocab));
  SQZ_CHECK(read_key(j, "max_seq", c.max_seq));
  SQZ_CHECK(read_key(j, "rope_theta", c.rope_theta));
  SQZ_CHECK(read_key(j, "rms_eps", c.rms_eps));
  SQZ_CHECK(read_key(j, "tied_embeddings", c.tied_embeddings));
  SQZ_CHECK(read_key(j, "attention_bias", c.attention_bias));
  SQZ_CHECK(read_key(j, "sliding_window", c.sliding_window));

  if (const auto it = j.find("rope_scaling"); it != j.end() && it->is_object()) {
    SQZ_CHECK(read_key(*it, "type", c.rope_scaling.type));
    SQZ_CHECK(read_key(*it, "factor", c.rope_scaling.factor));
    SQZ_CHECK(read_key(*it, "low_freq_factor", c.rope_scaling.low_freq_factor));
    SQZ_CHECK(read_key(*it, "high_freq_factor", c.rope_scaling.high_freq_factor));
    SQZ_CHECK(read_key(*it, "original_max_position", c.rope_scaling.original_max_position));
  }

  std::string style = rope_style_name(c.rope_style);
  SQZ_CHECK(read_key(j, "rope_style", style));
  if (style == "half_split") {
    c.rope_style = RopeStyle::HalfSplit;
  } else if (style == "interleaved") {
    c.rope_style = RopeStyle::Interleaved;
  } else {
    return make_error(fmt::format(
        "model config JSON: rope_style '{}' (expected interleaved or half_split)", style));
  }

  std::string weight_dtype = dtype_name(c.weight_dtype);
  std::string kv_dtype = dtype_name(c.kv_dtype);
  SQZ_CHECK(read_key(j, "weight_dtype", weight_dtype));
  SQZ_CHECK(read_key(j, "kv_dtype", kv_dtype));
  SQZ_TRY(wd, parse_dtype(weight_dtype));
  SQZ_TRY(kd, parse_dtype(kv_dtype));
  c.weight_dtype = wd;
  c.kv_dtype = kd;
  return c;
}

}  // namespace squeeze::core
