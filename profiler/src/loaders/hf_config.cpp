#include "hf_config.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace squeeze::profiler::loaders {
namespace {

using core::make_error;
using nlohmann::json;

constexpr std::int64_t kMaxDim = 1 << 24;

struct Reader {
  const json& j;
  const std::string& path;

  // A required positive int, or the default when absent / null (default < 0: required).
  core::Result<int> positive_int(const char* key, std::int64_t fallback = -1) const {
    if (!j.contains(key) || j[key].is_null()) {
      if (fallback >= 0) return static_cast<int>(fallback);
      return make_error(fmt::format("{}: missing '{}'", path, key));
    }
    if (!j[key].is_number_integer())
      return make_error(fmt::format("{}: '{}' must be an integer, got {}", path, key, j[key].dump()));
    const auto v = j[key].get<std::int64_t>();
    if (v <= 0 || v > kMaxDim)
      return make_error(fmt::format("{}: '{}' = {} is out of range (1..{})", path, key, v, kMaxDim));
    return static_cast<int>(v);
  }

  core::Result<double> number(const json& obj, const char* key, double fallback) const {
    if (!obj.contains(key) || obj[key].is_null()) return fallback;
    if (!obj[key].is_number()) return make_error(fmt::format("{}: '{}' must be a number, got {}", path, key, obj[key].dump()));
    return obj[key].get<double>();
  }

  bool flag(const char* key, bool fallback) const {
    return j.contains(key) && j[key].is_boolean() ? j[key].get<bool>() : fallback;
  }
};

// rope_scaling (transformers 4) or rope_parameters (transformers 5, which also holds rope_theta).
core::Status parse_rope(const Reader& r, core::ModelConfig& c) {
  const json& j = r.j;
  SQZ_TRY(theta, r.number(j, "rope_theta", 10000.0));
  c.rope_theta = theta;
  const json* scaling = nullptr;
  if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) {
    const auto& params = j["rope_parameters"];
    SQZ_TRY(t, r.number(params, "rope_theta", c.rope_theta));
    c.rope_theta = t;
    scaling = &params;
  }
  if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) scaling = &j["rope_scaling"];
  if (scaling == nullptr) return {};
  std::string type = "default";
  for (const char* key : {"rope_type", "type"})
    if (scaling->contains(key) && (*scaling)[key].is_string()) type = (*scaling)[key].get<std::string>();
  if (type == "default") return {};
  if (type != "linear" && type != "llama3" && type != "dynamic" && type != "yarn")
    return make_error(fmt::format("{}: rope scaling type '{}' is not supported (linear, llama3, dynamic, yarn)", r.path, type));
  c.rope_scaling.type = type;
  SQZ_TRY(factor, r.number(*scaling, "factor", 1.0));
  SQZ_TRY(low, r.number(*scaling, "low_freq_factor", 1.0));
  SQZ_TRY(high, r.number(*scaling, "high_freq_factor", 4.0));
  SQZ_TRY(original, r.number(*scaling, "original_max_position_embeddings", c.max_seq > 0 ? c.max_seq : 8192));
  // Range checks before the int conversion: a value past INT_MAX would be undefined behaviour.
  if (!(original >= 1 && original <= (1 << 24)))
    return make_error(fmt::format("{}: rope scaling original_max_position_embeddings {} is out of range (1..{})",
                                  r.path, original, 1 << 24));
  for (const auto& [name, v] : {std::pair{"factor", factor}, {"low_freq_factor", low}, {"high_freq_factor", high}})
    if (!(std::isfinite(v) && v > 0))
      return make_error(fmt::format("{}: rope scaling {} must be a positive number, got {}", r.path, name, v));
  if (type == "llama3" && !(high > low))  // llama3 smoothing divides by high - low
    return make_error(fmt::format("{}: llama3 rope scaling needs high_freq_factor > low_freq_factor, got {} and {}",
                                  r.path, high, low));
  c.rope_scaling.factor = factor;
  c.rope_scaling.low_freq_factor = low;
  c.rope_scaling.high_freq_factor = high;
  c.rope_scaling.original_max_position = static_cast<int>(original);
  return {};
}

}  // namespace

core::Result<core::ModelConfig> parse_hf_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(fmt::format("{}: cannot open", path));
  std::stringstream text;
  text << in.rdbuf();
  json j;
  try {
    j = json::parse(text.str());
  } catch (const json::exception& e) {
    return make_error(fmt::format("{}: malformed JSON: {}", path, e.what()));
  }
  if (!j.is_object()) return make_error(fmt::format("{}: not a JSON object", path));
  const Reader r{j, path};

  core::ModelConfig c;
  c.name = std::filesystem::path(path).parent_path().filename().string();
  std::string model_type = j.contains("model_type") && j["model_type"].is_string() ? j["model_type"].get<std::string>() : "";
  if (model_type != "llama" && model_type != "mistral" && model_type != "qwen2")
    return make_error(fmt::format("{}: model_type '{}' is not supported (llama, mistral, qwen2)", path, model_type));
  c.architecture = model_type;

  SQZ_TRY(hidden, r.positive_int("hidden_size"));
  SQZ_TRY(intermediate, r.positive_int("intermediate_size"));
  SQZ_TRY(layers, r.positive_int("num_hidden_layers"));
  SQZ_TRY(heads, r.positive_int("num_attention_heads"));
  SQZ_TRY(kv_heads, r.positive_int("num_key_value_heads", heads));
  SQZ_TRY(vocab, r.positive_int("vocab_size"));
  SQZ_TRY(max_seq, r.positive_int("max_position_embeddings", 0));
  if (!j.contains("head_dim") || j["head_dim"].is_null()) {
    if (hidden % heads != 0)
      return make_error(fmt::format("{}: hidden_size {} is not divisible by num_attention_heads {} and no head_dim is given",
                                    path, hidden, heads));
  }
  SQZ_TRY(head_dim, r.positive_int("head_dim", hidden / heads));
  c.hidden = hidden;
  c.intermediate = intermediate;
  c.n_layers = layers;
  c.n_heads = heads;
  c.n_kv_heads = kv_heads;
  c.vocab = vocab;
  c.max_seq = max_seq;
  c.head_dim = head_dim;
  SQZ_TRY(eps, r.number(j, "rms_norm_eps", 1e-6));  // transformers' default for all three
  c.rms_eps = eps;
  SQZ_CHECK(parse_rope(r, c));
  c.rope_style = core::RopeStyle::HalfSplit;  // transformers' rotate_half on unpermuted Q/K
  c.tied_embeddings = r.flag("tie_word_embeddings", false);
  // Qwen2 always has q/k/v biases; Llama may declare attention_bias (which also adds an o_proj
  // bias ModelWeights cannot hold: the loader rejects it when the tensor is there).
  c.attention_bias = model_type == "qwen2" || r.flag("attention_bias", false);
  if (r.flag("mlp_bias", false)) return make_error(fmt::format("{}: mlp_bias = true is not supported", path));
  if (j.contains("sliding_window") && j["sliding_window"].is_number_integer() && r.flag("use_sliding_window", model_type != "qwen2"))
    c.sliding_window = std::max(0, j["sliding_window"].get<int>());
  for (const char* key : {"dtype", "torch_dtype"}) {
    if (j.contains(key) && j[key].is_string()) {
      auto parsed = core::parse_dtype(j[key].get<std::string>());
      if (parsed.ok()) c.weight_dtype = *parsed;
      break;
    }
  }
  auto valid = c.validate();
  if (!valid.ok()) return make_error(fmt::format("{}: {}", path, valid.error().message));
  return c;
}

}  // namespace squeeze::profiler::loaders
