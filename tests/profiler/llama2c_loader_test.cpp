#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "squeeze/profiler/model_loader.hpp"
#include "test_support.hpp"

namespace {

using squeeze::profiler::LayerWeights;
using squeeze::profiler::load_model;
using squeeze::profiler::ModelWeights;
namespace t = squeeze::test;

std::string stories_bin() { return (t::stories_dir() / "stories260K.bin").string(); }

#define REQUIRE_STORIES()                                                              \
  if (!std::filesystem::exists(stories_bin())) GTEST_SKIP() << "no " << stories_bin()

void expect_tensor(const std::vector<float>& got, const nlohmann::json& want, const std::string& what) {
  ASSERT_EQ(got.size(), want["count"].get<std::size_t>()) << what;
  double sum = 0, abs_sum = 0;
  for (float v : got) {
    sum += v;
    abs_sum += std::fabs(v);
  }
  // Sums in double over identical floats: only summation order can differ.
  EXPECT_NEAR(sum, want["sum"].get<double>(), 1e-9 * (1 + want["abs_sum"].get<double>())) << what;
  EXPECT_NEAR(abs_sum, want["abs_sum"].get<double>(), 1e-9 * (1 + want["abs_sum"].get<double>())) << what;
  for (const auto& s : want["samples"])
    EXPECT_EQ(got[s[0].get<std::size_t>()], s[1].get<float>()) << what << " element " << s[0];
}

TEST(Llama2cLoader, LoadsStories260KWithItsHeaderConfig) {
  REQUIRE_STORIES();
  auto w = load_model(stories_bin());
  ASSERT_TRUE(w.ok()) << w.error().message;
  const auto& c = w->config;
  EXPECT_EQ(c.name, "stories260K");
  EXPECT_EQ(c.hidden, 64);
  EXPECT_EQ(c.intermediate, 172);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.vocab, 512);
  EXPECT_EQ(c.max_seq, 512);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.rope_style, squeeze::core::RopeStyle::Interleaved);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_DOUBLE_EQ(c.rms_eps, 1e-5);
  EXPECT_TRUE(w->lm_head.empty());
  EXPECT_EQ(&w->classifier(), &w->token_embedding);
}

TEST(Llama2cLoader, EveryTensorEqualsTheFileContents) {
  REQUIRE_STORIES();
  auto w = load_model(stories_bin());
  ASSERT_TRUE(w.ok()) << w.error().message;
  const auto expected = t::read_json(t::fixtures_dir() / "llama2c_expected.json")["model"]["tensors"];
  expect_tensor(w->token_embedding, expected["token_embedding"], "token_embedding");
  expect_tensor(w->final_norm, expected["final_norm"], "final_norm");
  const std::pair<const char*, std::vector<float> LayerWeights::*> fields[] = {
      {"attn_norm", &LayerWeights::attn_norm}, {"wq", &LayerWeights::wq},         {"wk", &LayerWeights::wk},
      {"wv", &LayerWeights::wv},               {"wo", &LayerWeights::wo},         {"ffn_norm", &LayerWeights::ffn_norm},
      {"w_gate", &LayerWeights::w_gate},       {"w_down", &LayerWeights::w_down}, {"w_up", &LayerWeights::w_up}};
  ASSERT_EQ(w->layers.size(), 5u);
  for (const auto& [name, field] : fields)
    for (std::size_t l = 0; l < w->layers.size(); ++l)
      expect_tensor(w->layers[l].*field, expected[name][l], std::string(name) + " layer " + std::to_string(l));
}

// A llama2.c file with stories260K's header (dim 64, hidden 172, 5 layers, 8 heads, 4 KV heads,
// vocab 512, seq 512: 264128 floats after the 7-int header, 1056540 bytes) and made-up weights.
// The corrupt-file cases only depend on the header and the size, so they run without ../shared.
std::vector<std::uint8_t> stories_shaped_bytes() {
  std::vector<std::uint8_t> bytes;
  for (std::int32_t v : {64, 172, 5, 8, 4, 512, 512}) t::put_le<std::int32_t>(bytes, v);
  for (int i = 0; i < 264128; ++i) t::put_le<float>(bytes, 0.01f * static_cast<float>(i % 7));
  return bytes;
}

TEST(Llama2cLoader, StoriesShapedSyntheticFileLoads) {
  t::ScratchDir scratch;
  t::write_bytes(scratch / "synthetic.bin", stories_shaped_bytes());
  auto w = load_model((scratch / "synthetic.bin").string());
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->config.n_layers, 5);
  EXPECT_EQ(w->config.vocab, 512);
  EXPECT_EQ(w->token_embedding[8], 0.01f);  // element 8 holds 0.01 * (8 % 7)
}

// stories260K's bytes when ../shared has it, else the synthetic file of the same shape.
std::vector<std::uint8_t> stories_or_stand_in_bytes() {
  return std::filesystem::exists(stories_bin()) ? t::read_bytes(stories_bin()) : stories_shaped_bytes();
}

class Llama2cCorrupt : public ::testing::Test {
 protected:
  void SetUp() override {
    bytes_ = stories_or_stand_in_bytes();
  }
  // Writes the modified bytes and loads them; the load must fail naming the file.
  std::string load_error() {
    const auto path = scratch_ / "model.bin";
    t::write_bytes(path, bytes_);
    auto w = load_model(path.string());
    EXPECT_FALSE(w.ok());
    if (w.ok()) return {};
    EXPECT_NE(w.error().message.find(path.string()), std::string::npos) << w.error().message;
    return w.error().message;
  }
  t::ScratchDir scratch_;
  std::vector<std::uint8_t> bytes_;
};

TEST_F(Llama2cCorrupt, TruncatedFileIsRejectedWithBothSizes) {
  bytes_.resize(bytes_.size() - 100);
  const auto msg = load_error();
  EXPECT_NE(msg.find("1056540"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1056440"), std::string::npos) << msg;
}

TEST_F(Llama2cCorrupt, TrailingBytesAreRejected) {
  bytes_.push_back(0);
  EXPECT_NE(load_error().find("implies"), std::string::npos);
}

TEST_F(Llama2cCorrupt, NegativeDimensionIsRejected) {
  t::set_le<std::int32_t>(bytes_, 0, -64);
  EXPECT_NE(load_error().find("dim"), std::string::npos);
}

TEST_F(Llama2cCorrupt, HugeDimensionDoesNotOverflow) {
  t::set_le<std::int32_t>(bytes_, 4, 0x7fffffff);
  EXPECT_NE(load_error().find("hidden_dim"), std::string::npos);
}

TEST_F(Llama2cCorrupt, HeadsThatDoNotDivideAreRejected) {
  t::set_le<std::int32_t>(bytes_, 16, 3);  // n_kv_heads 3 does not divide n_heads 8
  EXPECT_NE(load_error().find("n_kv_heads"), std::string::npos);
}

TEST_F(Llama2cCorrupt, HeaderShorterThanSevenFieldsIsRejected) {
  bytes_.resize(12);
  EXPECT_NE(load_error().find("truncated"), std::string::npos);
}

TEST_F(Llama2cCorrupt, UntiedClassifierNeedsItsExtraTensor) {
  t::set_le<std::int32_t>(bytes_, 20, -512);  // negative vocab = a wcls tensor follows
  EXPECT_NE(load_error().find("implies"), std::string::npos);
}

TEST(Llama2cLoader, UntiedClassifierIsReadAfterFreqCis) {
  t::ScratchDir scratch;
  auto bytes = stories_or_stand_in_bytes();
  t::set_le<std::int32_t>(bytes, 20, -512);
  const std::size_t wcls_floats = 512 * 64;
  for (std::size_t i = 0; i < wcls_floats; ++i) t::put_le<float>(bytes, static_cast<float>(i) * 0.5f);
  t::write_bytes(scratch / "untied.bin", bytes);
  auto w = load_model((scratch / "untied.bin").string());
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_FALSE(w->config.tied_embeddings);
  ASSERT_EQ(w->lm_head.size(), wcls_floats);
  EXPECT_EQ(w->lm_head[0], 0.0f);
  EXPECT_EQ(w->lm_head[wcls_floats - 1], static_cast<float>(wcls_floats - 1) * 0.5f);
  EXPECT_EQ(&w->classifier(), &w->lm_head);
}

TEST(ModelLoader, MissingPathAndEmptyFileAreErrors) {
  t::ScratchDir scratch;
  auto missing = load_model((scratch / "nope.bin").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope.bin"), std::string::npos);
  t::write_text(scratch / "empty.bin", "");
  auto empty = load_model((scratch / "empty.bin").string());
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("empty.bin"), std::string::npos);
  auto dir = load_model(scratch.path().string());
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.error().message.find("config.json"), std::string::npos);
}

}  // namespace
