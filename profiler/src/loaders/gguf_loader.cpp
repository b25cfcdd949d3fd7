// GGUF models (llama.cpp): architecture metadata -> ModelConfig, tensors dequantized to fp32.
// GGUF lists dims innermost first (ne[0] = in_features), so a (ne[0], ne[1]) tensor is already
// row-major (out, in) = (ne[1], ne[0]). llama.cpp's converter permutes Q/K of llama models for
// interleaved RoPE, so llama GGUFs are RopeStyle::Interleaved; qwen2 GGUFs keep the HF layout
// (llama.cpp runs them with NEOX RoPE), so they are HalfSplit.

#include <algorithm>
#include <filesystem>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "squeeze/profiler/gguf_file.hpp"
#include "squeeze/profiler/model_loader.hpp"

namespace squeeze::profiler {
namespace {

using core::make_error;
using core::Result;

constexpr std::int64_t kMaxDim = 1 << 24;

Result<int> positive(const GgufFile& g, const std::string& key, std::optional<std::int64_t> fallback = std::nullopt) {
  std::int64_t v;
  if (g.find(key) == nullptr && fallback) {
    v = *fallback;
  } else {
    SQZ_TRY(got, g.get_int(key));
    v = got;
  }
  if (v <= 0 || v > kMaxDim)
    return make_error(fmt::format("{}: metadata {} = {} is out of range (1..{})", g.path(), key, v, kMaxDim));
  return static_cast<int>(v);
}

Result<core::ModelConfig> read_config(const GgufFile& g) {
  SQZ_TRY(arch, g.get_string("general.architecture"));
  if (arch != "llama" && arch != "qwen2")
    return make_error(fmt::format("{}: architecture '{}' is not supported (llama, qwen2)", g.path(), arch));
  core::ModelConfig c;
  c.architecture = arch;
  if (const auto* name = g.find("general.name"); name && name->as_string()) c.name = *name->as_string();
  if (c.name.empty()) c.name = std::filesystem::path(g.path()).stem().string();
  const std::string p = arch + ".";
  SQZ_TRY(layers, positive(g, p + "block_count"));
  SQZ_TRY(hidden, positive(g, p + "embedding_length"));
  SQZ_TRY(ff, positive(g, p + "feed_forward_length"));
  SQZ_TRY(heads, positive(g, p + "attention.head_count"));
  SQZ_TRY(kv_heads, positive(g, p + "attention.head_count_kv", heads));
  SQZ_TRY(context, positive(g, p + "context_length", std::int64_t{0} + kMaxDim));
  SQZ_TRY(head_dim, positive(g, p + "rope.dimension_count", hidden / std::max(heads, 1)));
  c.n_layers = layers;
  c.hidden = hidden;
  c.intermediate = ff;
  c.n_heads = heads;
  c.n_kv_heads = kv_heads;
  c.max_seq = g.find(p + "context_length") ? context : 0;
  c.head_dim = head_dim;
  if (const auto* key_length = g.find(p + "attention.key_length"); key_length && key_length->as_int())
    c.head_dim = static_cast<int>(*key_length->as_int());
  if (g.find(p + "rope.freq_base")) {
    SQZ_TRY(theta, g.get_double(p + "rope.freq_base"));
    c.rope_theta = theta;
  }
  // GGUF stores fp32; widen through float so 1e-5 reads back as 1e-5, not 9.99999974e-06.
  if (g.find(p + "attention.layer_norm_rms_epsilon")) {
    SQZ_TRY(eps, g.get_double(p + "attention.layer_norm_rms_epsilon"));
    c.rms_eps = std::stod(fmt::format("{}", static_cast<float>(eps)));
  }
  if (const auto* type = g.find(p + "rope.scaling.type"); type && type->as_string() && *type->as_string() != "none") {
    c.rope_scaling.type = *type->as_string();
    if (g.find(p + "rope.scaling.factor")) {
      SQZ_TRY(factor, g.get_double(p + "rope.scaling.factor"));
      c.rope_scaling.factor = factor;
    }
    if (g.find(p + "rope.scaling.original_context_length")) {
      SQZ_TRY(original, g.get_int(p + "rope.scaling.original_context_length"));
      c.rope_scaling.original_max_position = static_cast<int>(original);
    }
  }
  if (g.find_tensor("rope_freqs.weight"))
    return make_error(fmt::format("{}: tensor rope_freqs.weight (Llama 3 RoPE scaling baked into frequencies) is "
                                  "not supported; load the Hugging Face checkpoint instead", g.path()));
  c.rope_style = arch == "qwen2" ? core::RopeStyle::HalfSplit : core::RopeStyle::Interleaved;
  c.attention_bias = arch == "qwen2";
  const auto* embd = g.find_tensor("token_embd.weight");
  if (!embd) return make_error(fmt::format("{}: tensor token_embd.weight is missing", g.path()));
  if (embd->dims.size() != 2 || embd->dims[1] > static_cast<std::uint64_t>(kMaxDim))
    return make_error(fmt::format("{}: tensor token_embd.weight is not (embedding_length, vocab)", g.path()));
  c.vocab = static_cast<int>(embd->dims[1]);
  if (g.find(p + "vocab_size")) {
    SQZ_TRY(vocab, g.get_int(p + "vocab_size"));
    if (vocab != c.vocab)
      return make_error(fmt::format("{}: metadata {}vocab_size = {} but tensor token_embd.weight has {} rows",
                                    g.path(), p, vocab, c.vocab));
  }
  c.tied_embeddings = g.find_tensor("output.weight") == nullptr;
  auto valid = c.validate();
  if (!valid.ok()) return make_error(fmt::format("{}: {}", g.path(), valid.error().message));
  return c;
}

// A weight that must exist with GGUF dims {in, out} (or {n} for vectors).
struct Wanted {
  std::string name;
  std::vector<std::uint64_t> dims;
  std::vector<float>* dst;
};

Result<std::vector<float>> load_tensor(const GgufFile& g, const Wanted& w) {
  const auto* t = g.find_tensor(w.name);
  if (!t) return make_error(fmt::format("{}: tensor {} is missing", g.path(), w.name));
  if (t->dims != w.dims)
    return make_error(fmt::format("{}: tensor {} has dims [{}] but the metadata implies [{}]", g.path(), w.name,
                                  fmt::join(t->dims, ", "), fmt::join(w.dims, ", ")));
  return g.dequantize(*t);
}

}  // namespace

Result<ModelWeights> load_gguf_model(const std::string& path) {
  SQZ_TRY(g, GgufFile::open(path));
  SQZ_TRY(config, read_config(g));
  ModelWeights w;
  w.source = path;
  w.config = config;
  const auto& c = w.config;
  const std::uint64_t h = c.hidden, q = c.q_dim(), kv = c.kv_dim(), ff = c.intermediate, vocab = c.vocab;

  std::vector<Wanted> wanted;
  wanted.push_back({"token_embd.weight", {h, vocab}, &w.token_embedding});
  wanted.push_back({"output_norm.weight", {h}, &w.final_norm});
  if (!c.tied_embeddings) wanted.push_back({"output.weight", {h, vocab}, &w.lm_head});
  w.layers.resize(static_cast<std::size_t>(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l) {
    auto& L = w.layers[static_cast<std::size_t>(l)];
    const auto b = fmt::format("blk.{}.", l);
    wanted.push_back({b + "attn_norm.weight", {h}, &L.attn_norm});
    wanted.push_back({b + "attn_q.weight", {h, q}, &L.wq});
    wanted.push_back({b + "attn_k.weight", {h, kv}, &L.wk});
    wanted.push_back({b + "attn_v.weight", {h, kv}, &L.wv});
    wanted.push_back({b + "attn_output.weight", {q, h}, &L.wo});
    wanted.push_back({b + "ffn_norm.weight", {h}, &L.ffn_norm});
    wanted.push_back({b + "ffn_gate.weight", {h, ff}, &L.w_gate});
    wanted.push_back({b + "ffn_up.weight", {h, ff}, &L.w_up});
    wanted.push_back({b + "ffn_down.weight", {ff, h}, &L.w_down});
    if (c.attention_bias) {
      wanted.push_back({b + "attn_q.bias", {q}, &L.bq});
      wanted.push_back({b + "attn_k.bias", {kv}, &L.bk});
      wanted.push_back({b + "attn_v.bias", {kv}, &L.bv});
    }
  }
  // Check every tensor before the (slow) dequantization so a bad file fails fast.
  for (const auto& want : wanted) {
    const auto* t = g.find_tensor(want.name);
    if (!t) return make_error(fmt::format("{}: tensor {} is missing", path, want.name));
    if (t->dims != want.dims)
      return make_error(fmt::format("{}: tensor {} has dims [{}] but the metadata implies [{}]", path, want.name,
                                    fmt::join(t->dims, ", "), fmt::join(want.dims, ", ")));
    if (t->data.empty())
      return make_error(fmt::format("{}: tensor {}: type {} ({}) cannot be dequantized", path, want.name,
                                    ggml_type_name(t->type), t->type));
  }
  // Dequantize on a few threads: tensors are independent and the work is memory-bound per tensor.
  const unsigned n_threads = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
  std::vector<std::optional<core::Error>> errors(n_threads);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < n_threads; ++t)
    pool.emplace_back([&, t] {
      for (std::size_t i = t; i < wanted.size(); i += n_threads) {
        auto values = load_tensor(g, wanted[i]);
        if (!values.ok()) {
          errors[t] = values.error();
          return;
        }
        *wanted[i].dst = std::move(values).value();
      }
    });
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) return *e;
  return w;
}

}  // namespace squeeze::profiler
