#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>

#include "squeeze/profiler/model_loader.hpp"
#include "test_support.hpp"

namespace {

using squeeze::profiler::LayerWeights;
using squeeze::profiler::load_model;
using squeeze::profiler::ModelWeights;
using nlohmann::json;
namespace fs = std::filesystem;
namespace t = squeeze::test;

const json& expected() {
  static const json e = t::read_json(t::fixtures_dir() / "hf_expected.json");
  return e;
}

void expect_tensor(const std::vector<float>& got, const json& want, const std::string& what) {
  ASSERT_EQ(got.size(), want["count"].get<std::size_t>()) << what;
  double sum = 0, abs_sum = 0;
  for (float v : got) {
    sum += v;
    abs_sum += std::fabs(v);
  }
  const double tol = 1e-9 * (1 + want["abs_sum"].get<double>());
  EXPECT_NEAR(sum, want["sum"].get<double>(), tol) << what;
  EXPECT_NEAR(abs_sum, want["abs_sum"].get<double>(), tol) << what;
  for (const auto& s : want["samples"])
    EXPECT_EQ(got[s[0].get<std::size_t>()], s[1].get<float>()) << what << " element " << s[0];
}

// Every tensor torch holds for the checkpoint equals what the loader put in ModelWeights.
void expect_all_tensors(const ModelWeights& w, const std::string& fixture) {
  const auto& want = expected()[fixture]["tensors"];
  std::size_t checked = 0;
  auto check = [&](const std::vector<float>& got, const std::string& name) {
    ASSERT_TRUE(want.contains(name)) << name;
    expect_tensor(got, want[name], fixture + ": " + name);
    ++checked;
  };
  check(w.token_embedding, "model.embed_tokens.weight");
  check(w.final_norm, "model.norm.weight");
  if (!w.config.tied_embeddings) check(w.lm_head, "lm_head.weight");
  const std::pair<const char*, std::vector<float> LayerWeights::*> fields[] = {
      {"input_layernorm.weight", &LayerWeights::attn_norm},
      {"self_attn.q_proj.weight", &LayerWeights::wq},
      {"self_attn.k_proj.weight", &LayerWeights::wk},
      {"self_attn.v_proj.weight", &LayerWeights::wv},
      {"self_attn.o_proj.weight", &LayerWeights::wo},
      {"post_attention_layernorm.weight", &LayerWeights::ffn_norm},
      {"mlp.gate_proj.weight", &LayerWeights::w_gate},
      {"mlp.up_proj.weight", &LayerWeights::w_up},
      {"mlp.down_proj.weight", &LayerWeights::w_down},
      {"self_attn.q_proj.bias", &LayerWeights::bq},
      {"self_attn.k_proj.bias", &LayerWeights::bk},
      {"self_attn.v_proj.bias", &LayerWeights::bv}};
  for (std::size_t l = 0; l < w.layers.size(); ++l)
    for (const auto& [name, field] : fields) {
      const auto full = "model.layers." + std::to_string(l) + "." + name;
      if (!want.contains(full)) {
        EXPECT_TRUE((w.layers[l].*field).empty()) << full;
        continue;
      }
      check(w.layers[l].*field, full);
    }
  EXPECT_EQ(checked, want.size()) << "tensors in the checkpoint that the loader did not produce";
}

ModelWeights load_fixture(const std::string& name) {
  auto w = load_model((t::fixtures_dir() / name).string());
  EXPECT_TRUE(w.ok()) << w.error().message;
  return w.ok() ? std::move(w).value() : ModelWeights{};
}

TEST(HfLoader, LlamaF32TiedWithLlama3RopeScaling) {
  const auto w = load_fixture("hf_llama");
  const auto& c = w.config;
  EXPECT_EQ(c.architecture, "llama");
  EXPECT_EQ(c.hidden, 64);
  EXPECT_EQ(c.n_layers, 2);
  EXPECT_EQ(c.n_heads, 4);
  EXPECT_EQ(c.n_kv_heads, 2);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.intermediate, 96);
  EXPECT_EQ(c.vocab, 320);
  EXPECT_EQ(c.max_seq, 16384);
  EXPECT_EQ(c.rope_style, squeeze::core::RopeStyle::HalfSplit);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_scaling.type, "llama3");
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope_scaling.original_max_position, 8192);
  EXPECT_DOUBLE_EQ(c.rms_eps, 1e-6);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_FALSE(c.attention_bias);
  EXPECT_EQ(c.weight_dtype, squeeze::core::DType::F32);
  expect_all_tensors(w, "hf_llama");
}

TEST(HfLoader, MistralBf16ShardedUntiedInTransformers4ConfigStyle) {
  const auto w = load_fixture("hf_mistral_sharded");
  const auto& c = w.config;
  EXPECT_EQ(c.architecture, "mistral");
  EXPECT_FALSE(c.tied_embeddings);
  EXPECT_EQ(c.sliding_window, 4096);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1000000.0);
  EXPECT_EQ(c.rope_scaling.type, "none");
  EXPECT_EQ(c.weight_dtype, squeeze::core::DType::BF16);
  EXPECT_EQ(w.lm_head.size(), 256u * 64u);
  expect_all_tensors(w, "hf_mistral_sharded");
}

TEST(HfLoader, Qwen2F16WithAttentionBiases) {
  const auto w = load_fixture("hf_qwen2_f16");
  const auto& c = w.config;
  EXPECT_EQ(c.architecture, "qwen2");
  EXPECT_TRUE(c.attention_bias);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.sliding_window, 0);  // use_sliding_window is false
  EXPECT_EQ(c.weight_dtype, squeeze::core::DType::F16);
  ASSERT_EQ(w.layers.size(), 2u);
  EXPECT_EQ(w.layers[1].bk.size(), 32u);
  expect_all_tensors(w, "hf_qwen2_f16");
}

// Copies a fixture to a scratch directory so a test can break one thing in it.
class HfCorrupt : public ::testing::Test {
 protected:
  fs::path copy(const std::string& fixture) {
    const auto dst = scratch_ / fixture;
    fs::copy(t::fixtures_dir() / fixture, dst, fs::copy_options::recursive);
    return dst;
  }

  // Rewrites a safetensors header (data section unchanged).
  static void edit_header(const fs::path& file, const std::function<void(json&)>& edit) {
    auto bytes = t::read_bytes(file);
    std::uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    auto header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
    edit(header);
    const auto text = header.dump();
    std::vector<std::uint8_t> out;
    t::put_le<std::uint64_t>(out, text.size());
    out.insert(out.end(), text.begin(), text.end());
    out.insert(out.end(), bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n), bytes.end());
    t::write_bytes(file, out);
  }

  static void edit_config(const fs::path& dir, const std::function<void(json&)>& edit) {
    auto config = t::read_json(dir / "config.json");
    edit(config);
    t::write_text(dir / "config.json", config.dump());
  }

  // Loading must fail with a message containing every one of `needles`.
  static void expect_error(const fs::path& dir, std::initializer_list<std::string> needles) {
    auto w = load_model(dir.string());
    ASSERT_FALSE(w.ok());
    for (const auto& n : needles) EXPECT_NE(w.error().message.find(n), std::string::npos) << w.error().message;
  }

  t::ScratchDir scratch_;
};

TEST_F(HfCorrupt, TruncatedDataNamesFileAndTensor) {
  const auto dir = copy("hf_llama");
  const auto file = dir / "model.safetensors";
  auto bytes = t::read_bytes(file);
  bytes.resize(bytes.size() - 10);
  t::write_bytes(file, bytes);
  expect_error(dir, {file.string(), "past the end", "tensor"});
}

TEST_F(HfCorrupt, HugeHeaderLengthIsRejected) {
  const auto dir = copy("hf_llama");
  const auto file = dir / "model.safetensors";
  auto bytes = t::read_bytes(file);
  t::set_le<std::uint64_t>(bytes, 0, 0xffffffffffull);
  t::write_bytes(file, bytes);
  expect_error(dir, {file.string(), "header length"});
}

TEST_F(HfCorrupt, TinyFileIsRejected) {
  const auto dir = copy("hf_llama");
  t::write_bytes(dir / "model.safetensors", {1, 2, 3});
  expect_error(dir, {"model.safetensors", "too short"});
}

TEST_F(HfCorrupt, MalformedAndNonUtf8HeadersAreRejected) {
  const auto dir = copy("hf_llama");
  const auto file = dir / "model.safetensors";
  auto bytes = t::read_bytes(file);
  bytes[8 + 1] = '#';  // break the JSON syntax
  t::write_bytes(file, bytes);
  expect_error(dir, {file.string(), "malformed"});

  bytes = t::read_bytes(t::fixtures_dir() / "hf_llama" / "model.safetensors");
  // Replace the first letter of the first tensor name with an invalid UTF-8 byte.
  const std::string header(bytes.begin() + 8, bytes.begin() + 200);
  const auto quote = header.find("\"model.");
  ASSERT_NE(quote, std::string::npos);
  bytes[8 + quote + 1] = 0xff;
  t::write_bytes(file, bytes);
  expect_error(dir, {file.string(), "malformed"});
}

TEST_F(HfCorrupt, OffsetsPastTheEndAreRejected) {
  const auto dir = copy("hf_qwen2_f16");
  edit_header(dir / "model.safetensors",
              [](json& h) { h["model.norm.weight"]["data_offsets"] = {1u << 30, (1u << 30) + 128}; });
  expect_error(dir, {"model.norm.weight", "past the end"});
}

TEST_F(HfCorrupt, OverlappingTensorsAreRejected) {
  const auto dir = copy("hf_qwen2_f16");
  edit_header(dir / "model.safetensors",
              [](json& h) { h["model.norm.weight"]["data_offsets"] = h["model.layers.0.input_layernorm.weight"]["data_offsets"]; });
  expect_error(dir, {"overlap", "model.norm.weight"});
}

TEST_F(HfCorrupt, SizeDisagreeingWithShapeIsRejected) {
  const auto dir = copy("hf_qwen2_f16");
  edit_header(dir / "model.safetensors", [](json& h) { h["model.norm.weight"]["shape"] = {65}; });
  expect_error(dir, {"model.norm.weight", "elements"});
  edit_header(dir / "model.safetensors", [](json& h) { h["model.norm.weight"]["shape"] = {-64}; });
  expect_error(dir, {"model.norm.weight", "negative"});
}

TEST_F(HfCorrupt, ShapeDisagreeingWithConfigNamesTheTensor) {
  const auto dir = copy("hf_llama");
  edit_config(dir, [](json& c) { c["intermediate_size"] = 128; });
  expect_error(dir, {"model.layers.0.mlp.gate_proj.weight", "[96, 64]", "[128, 64]"});
}

TEST_F(HfCorrupt, MissingTensorIsNamed) {
  const auto dir = copy("hf_llama");
  edit_header(dir / "model.safetensors", [](json& h) { h.erase("model.layers.1.self_attn.v_proj.weight"); });
  expect_error(dir, {"model.layers.1.self_attn.v_proj.weight", "missing"});
}

TEST_F(HfCorrupt, UnsupportedDtypeIsNamed) {
  const auto dir = copy("hf_qwen2_f16");
  edit_header(dir / "model.safetensors", [](json& h) { h["model.norm.weight"]["dtype"] = "I16"; });
  expect_error(dir, {"model.norm.weight", "I16"});
}

TEST_F(HfCorrupt, MissingShardAndEscapingShardNamesAreRejected) {
  const auto dir = copy("hf_mistral_sharded");
  fs::remove(dir / "model-00003-of-00004.safetensors");
  expect_error(dir, {"model-00003-of-00004.safetensors"});
  auto index = t::read_json(dir / "model.safetensors.index.json");
  index["weight_map"]["model.norm.weight"] = "../../etc/passwd";
  t::write_text(dir / "model.safetensors.index.json", index.dump());
  expect_error(dir, {"model.norm.weight", "plain file name"});
}

TEST_F(HfCorrupt, BadConfigsAreRejected) {
  const auto dir = copy("hf_llama");
  edit_config(dir, [](json& c) { c["num_key_value_heads"] = 3; });
  expect_error(dir, {"config.json", "n_kv_heads"});
  edit_config(dir, [](json& c) { c["num_key_value_heads"] = 2; c["num_attention_heads"] = -4; });
  expect_error(dir, {"config.json", "num_attention_heads"});
  edit_config(dir, [](json& c) { c["num_attention_heads"] = 4; c["model_type"] = "gpt2"; });
  expect_error(dir, {"config.json", "gpt2"});
  edit_config(dir, [](json& c) { c["model_type"] = "llama"; c.erase("hidden_size"); });
  expect_error(dir, {"config.json", "hidden_size"});
  t::write_text(dir / "config.json", "{\"model_type\": \"llama\", \"hidden_size\": 6");
  expect_error(dir, {"config.json", "malformed"});
}

TEST_F(HfCorrupt, UntiedConfigWithoutLmHeadFallsBackToTied) {
  const auto dir = copy("hf_llama");
  edit_config(dir, [](json& c) { c["tie_word_embeddings"] = false; });
  auto w = load_model(dir.string());
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_TRUE(w->config.tied_embeddings);
  EXPECT_TRUE(w->lm_head.empty());
}

}  // namespace
