#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <algorithm>
#include <filesystem>
#include <set>

#include "squeeze/profiler/gguf_file.hpp"
#include "squeeze/profiler/model_loader.hpp"
#include "test_support.hpp"

namespace {

using squeeze::profiler::GgufFile;
using squeeze::profiler::GgufType;
using squeeze::profiler::load_model;
using squeeze::profiler::ModelWeights;
using nlohmann::json;
namespace fs = std::filesystem;
namespace t = squeeze::test;

const json& expected() {
  static const json e = t::read_json(t::fixtures_dir() / "gguf_expected.json");
  return e;
}

fs::path tiny_path() { return t::fixtures_dir() / "tiny_llama.gguf"; }

void expect_values(const std::vector<float>& got, const json& want, const std::string& what) {
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

TEST(GgufFile, ParsesEveryMetadataValueType) {
  auto g = GgufFile::open(tiny_path().string());
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->version(), 3u);
  EXPECT_EQ(g->alignment(), 32u);
  EXPECT_EQ(*g->get_int("test.u8"), 200);
  EXPECT_EQ(*g->get_int("test.i8"), -100);
  EXPECT_EQ(*g->get_int("test.u16"), 60000);
  EXPECT_EQ(*g->get_int("test.i16"), -30000);
  EXPECT_EQ(*g->get_int("test.u32"), 4000000000LL);
  EXPECT_EQ(*g->get_int("test.i32"), -2000000000LL);
  EXPECT_EQ(*g->get_double("test.f32"), 0.25);
  EXPECT_EQ(*g->get_int("test.bool"), 1);
  EXPECT_EQ(*g->get_string("test.string"), "héllo wörld");
  EXPECT_EQ(std::get<std::uint64_t>(g->find("test.u64")->value), (std::uint64_t{1} << 63) + 5);
  EXPECT_FALSE(g->get_int("test.u64").ok());  // does not fit int64: an error, not a wrap-around
  EXPECT_EQ(*g->get_int("test.i64"), -(std::int64_t{1} << 40));
  EXPECT_EQ(*g->get_double("test.f64"), -1.5e300);
  EXPECT_EQ(*g->get_int_array("test.array_i32"), (std::vector<std::int64_t>{1, -2, 3}));
  const auto* nested = g->find("test.array_of_arrays");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->element_type, GgufType::Array);
  ASSERT_EQ(nested->as_array()->size(), 2u);
  EXPECT_EQ(nested->as_array()->at(1).as_array()->at(0).as_int(), 3);
  EXPECT_EQ(*g->get_string("general.architecture"), "llama");
  auto missing = g->get_int("no.such.key");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no.such.key"), std::string::npos);
  auto wrong_type = g->get_int("test.string");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.error().message.find("string"), std::string::npos);
}

TEST(GgufFile, DequantizesEveryTypeLikeTheGgufPackage) {
  auto g = GgufFile::open(tiny_path().string());
  ASSERT_TRUE(g.ok()) << g.error().message;
  const auto& want = expected()["tiny_llama"];
  ASSERT_EQ(g->tensors().size(), want.size());
  std::set<std::string> types;
  for (const auto& tensor : g->tensors()) {
    ASSERT_TRUE(want.contains(tensor.name)) << tensor.name;
    EXPECT_EQ(squeeze::profiler::ggml_type_name(tensor.type), want[tensor.name]["type"].get<std::string>());
    EXPECT_EQ(tensor.dims, want[tensor.name]["dims"].get<std::vector<std::uint64_t>>()) << tensor.name;
    auto values = g->dequantize(tensor);
    ASSERT_TRUE(values.ok()) << values.error().message;
    expect_values(*values, want[tensor.name], tensor.name);
    types.insert(squeeze::profiler::ggml_type_name(tensor.type));
  }
  EXPECT_EQ(types, (std::set<std::string>{"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q6_K"}));
}

void expect_tiny_model(const ModelWeights& w) {
  const auto& c = w.config;
  EXPECT_EQ(c.name, "tiny-llama-fixture");
  EXPECT_EQ(c.n_layers, 2);
  EXPECT_EQ(c.hidden, 64);
  EXPECT_EQ(c.intermediate, 96);
  EXPECT_EQ(c.n_heads, 4);
  EXPECT_EQ(c.n_kv_heads, 2);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.vocab, 320);
  EXPECT_EQ(c.max_seq, 2048);
  EXPECT_DOUBLE_EQ(c.rope_theta, 50000.0);
  EXPECT_DOUBLE_EQ(c.rms_eps, 1e-5);
  EXPECT_EQ(c.rope_style, squeeze::core::RopeStyle::Interleaved);
  EXPECT_FALSE(c.tied_embeddings);
  const auto& want = expected()["tiny_llama"];
  expect_values(w.token_embedding, want["token_embd.weight"], "token_embd");
  expect_values(w.lm_head, want["output.weight"], "output");
  expect_values(w.final_norm, want["output_norm.weight"], "output_norm");
  ASSERT_EQ(w.layers.size(), 2u);
  for (int l = 0; l < 2; ++l) {
    const auto b = "blk." + std::to_string(l) + ".";
    const auto& L = w.layers[static_cast<std::size_t>(l)];
    expect_values(L.attn_norm, want[b + "attn_norm.weight"], b + "attn_norm");
    expect_values(L.wq, want[b + "attn_q.weight"], b + "attn_q");
    expect_values(L.wk, want[b + "attn_k.weight"], b + "attn_k");
    expect_values(L.wv, want[b + "attn_v.weight"], b + "attn_v");
    expect_values(L.wo, want[b + "attn_output.weight"], b + "attn_output");
    expect_values(L.ffn_norm, want[b + "ffn_norm.weight"], b + "ffn_norm");
    expect_values(L.w_gate, want[b + "ffn_gate.weight"], b + "ffn_gate");
    expect_values(L.w_up, want[b + "ffn_up.weight"], b + "ffn_up");
    expect_values(L.w_down, want[b + "ffn_down.weight"], b + "ffn_down");
    EXPECT_TRUE(L.bq.empty());
  }
}

TEST(GgufLoader, LoadsTheTinyModelWithEveryTensorInPlace) {
  auto w = load_model(tiny_path().string());
  ASSERT_TRUE(w.ok()) << w.error().message;
  expect_tiny_model(*w);
}

TEST(GgufLoader, ReadsVersion2Files) {
  t::ScratchDir scratch;
  auto bytes = t::read_bytes(tiny_path());
  t::set_le<std::uint32_t>(bytes, 4, 2);  // v2 and v3 share the little-endian layout
  t::write_bytes(scratch / "v2.gguf", bytes);
  auto w = load_model((scratch / "v2.gguf").string());
  ASSERT_TRUE(w.ok()) << w.error().message;
  expect_tiny_model(*w);
}

TEST(GgufLoader, Qwen2WithBiasesCustomAlignmentAndLinearRopeScaling) {
  const auto path = t::fixtures_dir() / "tiny_qwen2.gguf";
  auto g = GgufFile::open(path.string());
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->alignment(), 64u);
  auto w = load_model(path.string());
  ASSERT_TRUE(w.ok()) << w.error().message;
  const auto& c = w->config;
  EXPECT_EQ(c.architecture, "qwen2");
  EXPECT_EQ(c.rope_style, squeeze::core::RopeStyle::HalfSplit);  // llama.cpp runs qwen2 with NEOX RoPE
  EXPECT_TRUE(c.attention_bias);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.vocab, 64);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1000000.0);
  EXPECT_DOUBLE_EQ(c.rms_eps, 1e-6);
  EXPECT_EQ(c.rope_scaling.type, "linear");
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 4.0);
  const auto& want = expected()["tiny_qwen2"];
  expect_values(w->token_embedding, want["token_embd.weight"], "token_embd (F16)");
  const auto& L = w->layers.at(0);
  expect_values(L.wq, want["blk.0.attn_q.weight"], "attn_q");
  expect_values(L.bq, want["blk.0.attn_q.bias"], "attn_q.bias");
  expect_values(L.bk, want["blk.0.attn_k.bias"], "attn_k.bias");
  expect_values(L.bv, want["blk.0.attn_v.bias"], "attn_v.bias");
  expect_values(L.w_down, want["blk.0.ffn_down.weight"], "ffn_down");
}

TEST(GgufLoader, SmolLM2Q4_1MatchesTheGgufPackage) {
  const auto path = t::smollm2_gguf();
  if (!path) GTEST_SKIP() << "SmolLM2 GGUF not found (set SQUEEZE_SMOLLM2_GGUF)";
  if (!expected().contains("smollm2")) GTEST_SKIP() << "gguf_expected.json has no smollm2 values";
  const auto start = std::chrono::steady_clock::now();
  auto w = load_model(*path);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(w.ok()) << w.error().message;
  std::printf("SmolLM2-135M Q4_1 GGUF loaded and dequantized in %.3f s\n", seconds);
  const auto& c = w->config;
  EXPECT_EQ(c.n_layers, 30);
  EXPECT_EQ(c.hidden, 576);
  EXPECT_EQ(c.intermediate, 1536);
  EXPECT_EQ(c.n_heads, 9);
  EXPECT_EQ(c.n_kv_heads, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.vocab, 49152);
  EXPECT_EQ(c.max_seq, 8192);
  EXPECT_DOUBLE_EQ(c.rope_theta, 100000.0);
  EXPECT_DOUBLE_EQ(c.rms_eps, 1e-5);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.rope_style, squeeze::core::RopeStyle::Interleaved);
  const auto& want = expected()["smollm2"];
  expect_values(w->token_embedding, want["token_embd.weight"], "token_embd (Q8_0)");
  expect_values(w->final_norm, want["output_norm.weight"], "output_norm");
  expect_values(w->layers[0].wq, want["blk.0.attn_q.weight"], "blk.0.attn_q");
  expect_values(w->layers[0].attn_norm, want["blk.0.attn_norm.weight"], "blk.0.attn_norm");
  expect_values(w->layers[0].w_down, want["blk.0.ffn_down.weight"], "blk.0.ffn_down");
  expect_values(w->layers[17].wk, want["blk.17.attn_k.weight"], "blk.17.attn_k");
  expect_values(w->layers[29].w_up, want["blk.29.ffn_up.weight"], "blk.29.ffn_up");
  expect_values(w->layers[29].wv, want["blk.29.attn_v.weight"], "blk.29.attn_v");
}

// Byte surgery on a copy of tiny_llama.gguf; each load must fail naming the file and the culprit.
class GgufCorrupt : public ::testing::Test {
 protected:
  void SetUp() override { bytes_ = t::read_bytes(tiny_path()); }

  std::size_t find(const std::string& needle) const {
    auto it = std::search(bytes_.begin(), bytes_.end(), needle.begin(), needle.end());
    EXPECT_NE(it, bytes_.end()) << needle;
    return static_cast<std::size_t>(it - bytes_.begin());
  }
  // Offset just past a tensor info's name (its n_dims field).
  std::size_t tensor_info(const std::string& name) const {
    std::string needle = name;
    std::vector<std::uint8_t> prefix;
    t::put_le<std::uint64_t>(prefix, name.size());
    needle.insert(needle.begin(), prefix.begin(), prefix.end());
    return find(needle) + needle.size();
  }

  void expect_error(std::initializer_list<std::string> needles) {
    const auto path = scratch_ / "bad.gguf";
    t::write_bytes(path, bytes_);
    auto w = load_model(path.string());
    ASSERT_FALSE(w.ok());
    EXPECT_NE(w.error().message.find(path.string()), std::string::npos) << w.error().message;
    for (const auto& n : needles) EXPECT_NE(w.error().message.find(n), std::string::npos) << w.error().message;
  }

  t::ScratchDir scratch_;
  std::vector<std::uint8_t> bytes_;
};

TEST_F(GgufCorrupt, UnsupportedVersion) {
  t::set_le<std::uint32_t>(bytes_, 4, 1);
  expect_error({"version 1"});
}

TEST_F(GgufCorrupt, TruncatedDataNamesTheTensor) {
  bytes_.resize(bytes_.size() - 100);
  expect_error({"extra.q6_k", "past the end"});
}

TEST_F(GgufCorrupt, TruncatedHeader) {
  bytes_.resize(2000);  // inside tokenizer.ggml.tokens
  expect_error({"tokenizer.ggml.tokens", "truncated"});
}

TEST_F(GgufCorrupt, HugeCounts) {
  t::set_le<std::uint64_t>(bytes_, 16, std::uint64_t{1} << 60);  // kv_count
  expect_error({"too small"});
}

TEST_F(GgufCorrupt, HugeStringLength) {
  const auto key = find("general.architecture");
  t::set_le<std::uint64_t>(bytes_, key - 8, std::uint64_t{1} << 50);
  expect_error({"metadata key", "past the end"});
}

TEST_F(GgufCorrupt, HugeArrayLength) {
  const auto key = find("test.array_i32");
  // key, then type (u32 = 9), element type (u32), count (u64)
  t::set_le<std::uint64_t>(bytes_, key + 14 + 8, std::uint64_t{1} << 40);
  expect_error({"test.array_i32", "array length"});
}

TEST_F(GgufCorrupt, TooManyDims) {
  t::set_le<std::uint32_t>(bytes_, tensor_info("blk.1.attn_v.weight"), 7);
  expect_error({"blk.1.attn_v.weight", "dimensions"});
}

TEST_F(GgufCorrupt, UnsupportedTensorTypeIsNamed) {
  const auto at = tensor_info("blk.0.attn_norm.weight");
  t::set_le<std::uint32_t>(bytes_, at + 4 + 8, 10);  // n_dims 1, one dim, then type -> Q2_K
  expect_error({"blk.0.attn_norm.weight", "Q2_K", "cannot be dequantized"});
}

TEST_F(GgufCorrupt, MisalignedOffset) {
  const auto at = tensor_info("output_norm.weight");
  std::uint64_t offset;
  std::memcpy(&offset, bytes_.data() + at + 4 + 8 + 4, 8);
  t::set_le<std::uint64_t>(bytes_, at + 4 + 8 + 4, offset + 4);
  expect_error({"output_norm.weight", "aligned"});
}

TEST_F(GgufCorrupt, MissingTensorIsNamed) {
  bytes_[tensor_info("blk.1.ffn_up.weight") - 8] = 'X';  // "blk.1.ffn_up.weighX"
  expect_error({"blk.1.ffn_up.weight", "missing"});
}

TEST_F(GgufCorrupt, ShapeDisagreeingWithMetadataIsNamed) {
  const auto key = find("llama.feed_forward_length");
  t::set_le<std::uint32_t>(bytes_, key + std::string("llama.feed_forward_length").size() + 4, 128);
  expect_error({"blk.0.ffn_gate.weight", "[64, 128]"});
}

TEST_F(GgufCorrupt, HeadsThatDoNotDivide) {
  const auto key = find("llama.attention.head_count_kv");
  t::set_le<std::uint32_t>(bytes_, key + std::string("llama.attention.head_count_kv").size() + 4, 3);
  expect_error({"n_kv_heads"});
}

TEST_F(GgufCorrupt, NegativeDimensionMetadata) {
  const auto key = find("llama.block_count");
  // Turn the uint32 into an int32 holding -2.
  t::set_le<std::uint32_t>(bytes_, key + std::string("llama.block_count").size(), 5);
  t::set_le<std::int32_t>(bytes_, key + std::string("llama.block_count").size() + 4, -2);
  expect_error({"llama.block_count", "-2"});
}

TEST_F(GgufCorrupt, EveryTruncationIsAnErrorNeverACrash) {
  // A cheap fuzz: cut the file at many points through header, metadata and tensor infos.
  const auto full = bytes_;
  const auto path = scratch_ / "cut.gguf";
  // Header, metadata and tensor infos are in the first ~9 KB: cut densely there, sparsely in the
  // data. The last 32 bytes may be alignment padding, which a valid file can do without.
  for (std::size_t cut = 0; cut + 32 < full.size(); cut += cut < 9000 ? 53 : 4099) {
    std::vector<std::uint8_t> part(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
    t::write_bytes(path, part);
    EXPECT_FALSE(load_model(path.string()).ok()) << "cut at " << cut;
  }
}

}  // namespace
