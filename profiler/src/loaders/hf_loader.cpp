// Hugging Face checkpoint directories: config.json + model.safetensors, or shards listed in
// model.safetensors.index.json. Tensors are memory-mapped and converted to fp32 one at a time.
// Q/K stay in transformers' layout (RopeStyle::HalfSplit); nothing is permuted.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "hf_config.hpp"
#include "safetensors_file.hpp"
#include "squeeze/profiler/model_loader.hpp"

namespace squeeze::profiler {
namespace {

namespace fs = std::filesystem;
using core::make_error;
using core::Result;
using loaders::SafetensorsFile;
using loaders::SafetensorsTensor;

// All tensors of a checkpoint, whichever shard holds them.
class TensorSet {
 public:
  static Result<TensorSet> open(const fs::path& dir) {
    TensorSet set;
    const fs::path single = dir / "model.safetensors";
    const fs::path index = dir / "model.safetensors.index.json";
    std::error_code ec;
    if (fs::is_regular_file(index, ec)) {
      SQZ_TRY(shards, shard_names(index));
      for (const auto& shard : shards) {
        SQZ_TRY(file, SafetensorsFile::open((dir / shard).string()));
        set.files_.push_back(std::make_unique<SafetensorsFile>(std::move(file)));
      }
    } else if (fs::is_regular_file(single, ec)) {
      SQZ_TRY(file, SafetensorsFile::open(single.string()));
      set.files_.push_back(std::make_unique<SafetensorsFile>(std::move(file)));
    } else {
      return make_error(fmt::format("{}: neither model.safetensors nor model.safetensors.index.json is there",
                                    dir.string()));
    }
    for (const auto& file : set.files_)
      for (const auto& [name, tensor] : file->tensors()) {
        auto [it, inserted] = set.by_name_.emplace(name, Entry{&tensor, file.get()});
        if (!inserted)
          return make_error(fmt::format("{}: tensor {} is also in {}", file->path(), name, it->second.file->path()));
      }
    return set;
  }

  [[nodiscard]] bool has(const std::string& name) const { return by_name_.count(name) != 0; }

  // The tensor as fp32 after checking its shape. Errors name the file and the tensor.
  Result<std::vector<float>> load(const std::string& name, std::vector<std::int64_t> shape) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end())
      return make_error(fmt::format("{}: tensor {} is missing", where(), name));
    const auto& [tensor, file] = it->second;
    if (tensor->shape != shape)
      return make_error(fmt::format("{}: tensor {} has shape {} but config.json implies {}", file->path(), name,
                                    shape_str(tensor->shape), shape_str(shape)));
    return loaders::safetensors_to_f32(*tensor, fmt::format("{}: tensor {}", file->path(), name));
  }

  [[nodiscard]] std::string where() const {
    return files_.size() == 1 ? files_[0]->path()
                              : fmt::format("{} (and {} other shards)", files_[0]->path(), files_.size() - 1);
  }

 private:
  struct Entry {
    const SafetensorsTensor* tensor;
    const SafetensorsFile* file;
  };

  static std::string shape_str(const std::vector<std::int64_t>& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

  // Distinct shard file names from the index's weight_map, refusing paths that leave the directory.
  static Result<std::vector<std::string>> shard_names(const fs::path& index_path) {
    std::ifstream in(index_path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json index;
    try {
      index = nlohmann::json::parse(text.str());
    } catch (const nlohmann::json::exception& e) {
      return make_error(fmt::format("{}: malformed JSON: {}", index_path.string(), e.what()));
    }
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
      return make_error(fmt::format("{}: no weight_map object", index_path.string()));
    std::vector<std::string> names;
    for (const auto& [tensor, file] : index["weight_map"].items()) {
      if (!file.is_string())
        return make_error(fmt::format("{}: weight_map entry for tensor {} is not a file name", index_path.string(), tensor));
      const auto name = file.get<std::string>();
      const fs::path p(name);
      if (name.empty() || p.is_absolute() || p.filename() != p)
        return make_error(fmt::format("{}: tensor {}: shard name '{}' must be a plain file name", index_path.string(),
                                      tensor, name));
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
    if (names.empty()) return make_error(fmt::format("{}: weight_map is empty", index_path.string()));
    return names;
  }

  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, Entry> by_name_;
};

}  // namespace

Result<ModelWeights> load_hf_model(const std::string& directory) {
  const fs::path dir(directory);
  SQZ_TRY(config, loaders::parse_hf_config((dir / "config.json").string()));
  SQZ_TRY(tensors, TensorSet::open(dir));

  ModelWeights w;
  w.source = directory;
  w.config = config;
  auto& c = w.config;
  const std::int64_t h = c.hidden, q = c.q_dim(), kv = c.kv_dim(), ff = c.intermediate, vocab = c.vocab;

  SQZ_TRY(embedding, tensors.load("model.embed_tokens.weight", {vocab, h}));
  w.token_embedding = std::move(embedding);
  w.layers.resize(static_cast<std::size_t>(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = fmt::format("model.layers.{}.", l);
    auto& L = w.layers[static_cast<std::size_t>(l)];
    struct Spec {
      const char* name;
      std::vector<float> LayerWeights::*field;
      std::vector<std::int64_t> shape;
    };
    const Spec specs[] = {
        {"input_layernorm.weight", &LayerWeights::attn_norm, {h}},
        {"self_attn.q_proj.weight", &LayerWeights::wq, {q, h}},
        {"self_attn.k_proj.weight", &LayerWeights::wk, {kv, h}},
        {"self_attn.v_proj.weight", &LayerWeights::wv, {kv, h}},
        {"self_attn.o_proj.weight", &LayerWeights::wo, {h, q}},
        {"post_attention_layernorm.weight", &LayerWeights::ffn_norm, {h}},
        {"mlp.gate_proj.weight", &LayerWeights::w_gate, {ff, h}},
        {"mlp.up_proj.weight", &LayerWeights::w_up, {ff, h}},
        {"mlp.down_proj.weight", &LayerWeights::w_down, {h, ff}},
    };
    for (const auto& s : specs) {
      SQZ_TRY(values, tensors.load(p + s.name, s.shape));
      L.*s.field = std::move(values);
    }
    if (c.attention_bias) {
      SQZ_TRY(bq, tensors.load(p + "self_attn.q_proj.bias", {q}));
      SQZ_TRY(bk, tensors.load(p + "self_attn.k_proj.bias", {kv}));
      SQZ_TRY(bv, tensors.load(p + "self_attn.v_proj.bias", {kv}));
      L.bq = std::move(bq);
      L.bk = std::move(bk);
      L.bv = std::move(bv);
    }
    if (tensors.has(p + "self_attn.o_proj.bias"))
      return make_error(fmt::format("{}: tensor {}self_attn.o_proj.bias: output-projection biases are not supported",
                                    tensors.where(), p));
  }
  SQZ_TRY(final_norm, tensors.load("model.norm.weight", {h}));
  w.final_norm = std::move(final_norm);
  // transformers drops lm_head from tied checkpoints; an absent lm_head means tied whatever the
  // config says, and a tied config ignores a stored copy (as transformers does).
  if (!c.tied_embeddings && tensors.has("lm_head.weight")) {
    SQZ_TRY(head, tensors.load("lm_head.weight", {vocab, h}));
    w.lm_head = std::move(head);
  } else {
    c.tied_embeddings = true;
  }
  return w;
}

}  // namespace squeeze::profiler
