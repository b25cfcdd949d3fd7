#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>

#include "squeeze/profiler/tokenizer.hpp"
#include "test_support.hpp"

namespace {

using squeeze::profiler::load_hf_tokenizer_json;
using squeeze::profiler::load_tokenizer;
using squeeze::profiler::Tokenizer;
using nlohmann::json;
namespace fs = std::filesystem;
namespace t = squeeze::test;

const json& expected() {
  static const json e = t::read_json(t::fixtures_dir() / "bpe_expected.json");
  return e;
}

// Every string encodes to the ids the tokenizers library produced, and decodes back.
void expect_matches_tokenizers_library(const Tokenizer& tok, const std::string& key) {
  const auto& strings = expected()["strings"];
  const auto& ids = expected()[key];
  ASSERT_EQ(strings.size(), ids.size());
  ASSERT_GT(strings.size(), 300u);
  int mismatches = 0;
  for (std::size_t i = 0; i < strings.size(); ++i) {
    const auto text = strings[i].get<std::string>();
    const auto got = tok.encode(text, false);
    const auto want = ids[i].get<std::vector<int>>();
    EXPECT_EQ(got, want) << key << " string " << i << ": '" << text << "'";
    mismatches += got != want;
    if (text.find("<|") == std::string::npos) {
      EXPECT_EQ(tok.decode(got), text) << key << " string " << i;
    }
    if (mismatches > 10) FAIL() << "too many mismatches";
  }
}

TEST(BpeTokenizer, TokenizerJsonMatchesTheTokenizersLibrary) {
  auto tok = load_tokenizer((t::fixtures_dir() / "hf_llama").string());
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_STREQ((*tok)->kind(), "bpe");
  EXPECT_EQ((*tok)->vocab_size(), 320);
  expect_matches_tokenizers_library(**tok, "hf_llama");
}

TEST(BpeTokenizer, GgufMetadataTokenizerMatchesTheSameTokenizerJson) {
  // tiny_llama.gguf carries hf_llama/tokenizer.json's vocabulary and merges as tokenizer.ggml.*.
  auto tok = load_tokenizer((t::fixtures_dir() / "tiny_llama.gguf").string());
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_EQ((*tok)->bos_id(), 1);
  EXPECT_EQ((*tok)->eos_id(), 2);
  expect_matches_tokenizers_library(**tok, "hf_llama");
  const auto with_bos = (*tok)->encode("Hello", true);
  ASSERT_FALSE(with_bos.empty());
  EXPECT_EQ(with_bos.front(), 1);
  EXPECT_EQ(std::vector<int>(with_bos.begin() + 1, with_bos.end()), (*tok)->encode("Hello", false));
}

TEST(BpeTokenizer, Llama3AndQwen2SplitRegexesMatchTheTokenizersLibrary) {
  // A vocabulary whose merges cross word, digit and line boundaries, so a wrong split shows.
  for (const std::string name : {"llama3_split", "qwen2_split"}) {
    auto tok = load_tokenizer((t::fixtures_dir() / ("bpe_" + name)).string());
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    expect_matches_tokenizers_library(**tok, name);
  }
}

TEST(BpeTokenizer, SmolLM2FromGgufMatchesTheTokenizersLibrary) {
  const auto path = t::smollm2_gguf();
  if (!path) GTEST_SKIP() << "SmolLM2 GGUF not found (set SQUEEZE_SMOLLM2_GGUF)";
  if (!expected().contains("smollm2")) GTEST_SKIP() << "bpe_expected.json has no smollm2 ids";
  auto tok = load_tokenizer(*path);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_EQ((*tok)->vocab_size(), 49152);
  EXPECT_EQ((*tok)->bos_id(), 1);
  EXPECT_EQ((*tok)->eos_id(), 2);
  EXPECT_EQ((*tok)->decode(1), "<|im_start|>");
  expect_matches_tokenizers_library(**tok, "smollm2");
}

TEST(BpeTokenizer, SpecialTokensAreSkippedWhenDecodingSequences) {
  auto tok = load_tokenizer((t::fixtures_dir() / "hf_llama").string());
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  const auto ids = (*tok)->encode("<|im_start|>user\nHi<|im_end|>", false);
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(ids.back(), 2);
  EXPECT_EQ((*tok)->decode(ids), "user\nHi");
  EXPECT_EQ((*tok)->decode(ids.front()), "<|im_start|>");
  EXPECT_EQ((*tok)->decode(-5), "");
}

TEST(BpeTokenizer, LongTextIsFast) {
  auto tok = load_tokenizer((t::fixtures_dir() / "hf_llama").string());
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "Lily saw " + std::to_string(i) + " big red balls in the park. ";
  const auto start = std::chrono::steady_clock::now();
  const auto ids = (*tok)->encode(text, false);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ((*tok)->decode(ids), text);
  EXPECT_LT(s, 2.0) << "encoding " << text.size() << " bytes took " << s << " s";
}

class TokenizerJsonErrors : public ::testing::Test {
 protected:
  std::string error_for(const std::function<void(json&)>& edit) {
    auto j = t::read_json(t::fixtures_dir() / "hf_llama" / "tokenizer.json");
    edit(j);
    const auto path = scratch_ / "tokenizer.json";
    t::write_text(path, j.dump());
    auto tok = load_hf_tokenizer_json(path.string());
    EXPECT_FALSE(tok.ok());
    if (tok.ok()) return {};
    EXPECT_NE(tok.error().message.find(path.string()), std::string::npos) << tok.error().message;
    return tok.error().message;
  }
  t::ScratchDir scratch_;
};

TEST_F(TokenizerJsonErrors, RegexSplitPreTokenizersAreRefused) {
  const auto msg = error_for([](json& j) {
    j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "\\p{N}{1,3}"}}}};
  });
  EXPECT_NE(msg.find("Split"), std::string::npos) << msg;
}

TEST_F(TokenizerJsonErrors, NormalizersAndOtherModelsAreRefused) {
  EXPECT_NE(error_for([](json& j) { j["normalizer"] = {{"type", "NFC"}}; }).find("normalizer"), std::string::npos);
  EXPECT_NE(error_for([](json& j) { j["model"]["type"] = "Unigram"; }).find("Unigram"), std::string::npos);
}

TEST_F(TokenizerJsonErrors, BadIdsAndMergesAreNamed) {
  EXPECT_NE(error_for([](json& j) { j["model"]["vocab"]["Ġthe"] = -3; }).find("Ġthe"), std::string::npos);
  EXPECT_NE(error_for([](json& j) { j["model"]["merges"][5] = 17; }).find("merge 5"), std::string::npos);
}

TEST_F(TokenizerJsonErrors, MalformedJson) {
  const auto path = scratch_ / "tokenizer.json";
  t::write_text(path, "{\"model\": {\"vocab\": {\"a\": 0}");
  auto tok = load_hf_tokenizer_json(path.string());
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.error().message.find("malformed"), std::string::npos);
  t::write_bytes(path, {'{', '"', 0xff, 0xfe, '"', ':', '1', '}'});  // not UTF-8
  tok = load_hf_tokenizer_json(path.string());
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.error().message.find("malformed"), std::string::npos);
}

}  // namespace
