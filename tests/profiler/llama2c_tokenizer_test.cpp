#include <gtest/gtest.h>

#include <filesystem>

#include "squeeze/profiler/tokenizer.hpp"
#include "test_support.hpp"

namespace {

using squeeze::profiler::load_llama2c_tokenizer;
using squeeze::profiler::load_tokenizer;
namespace t = squeeze::test;

std::string tok512() { return (t::stories_dir() / "tok512.bin").string(); }

class Llama2cTokenizer : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(tok512())) GTEST_SKIP() << "no " << tok512();
    auto tok = load_llama2c_tokenizer(tok512());
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    tok_ = std::move(tok).value();
  }
  std::unique_ptr<squeeze::profiler::Tokenizer> tok_;
};

TEST_F(Llama2cTokenizer, MatchesAPortOfRunCEncode) {
  const auto cases = t::read_json(t::fixtures_dir() / "llama2c_expected.json")["tokenizer_cases"];
  ASSERT_GT(cases.size(), 40u);
  for (const auto& c : cases) {
    const auto bytes = t::hex_to_bytes(c["hex"].get<std::string>());
    const std::string text(bytes.begin(), bytes.end());
    EXPECT_EQ(tok_->encode(text, c["bos"].get<bool>()), c["ids"].get<std::vector<int>>()) << "text: " << text;
  }
}

TEST_F(Llama2cTokenizer, VocabularyAndSpecialIds) {
  EXPECT_EQ(tok_->vocab_size(), 512);
  EXPECT_EQ(tok_->bos_id(), 1);
  EXPECT_EQ(tok_->eos_id(), 2);
  EXPECT_STREQ(tok_->kind(), "llama2c");
  EXPECT_EQ(tok_->token_text(3), "<0x00>");
  EXPECT_EQ(tok_->decode(3 + 'A'), "A");  // byte tokens decode to the raw byte
  EXPECT_EQ(tok_->decode(-1), "");
  EXPECT_EQ(tok_->decode(512), "");
}

TEST_F(Llama2cTokenizer, DecodeInvertsEncodeAndStripsTheSpaceAfterBos) {
  for (const std::string text : {"Once upon a time, there was a little girl named Lily.", "café 日本 😀\n\tx"}) {
    const auto ids = tok_->encode(text, true);
    EXPECT_EQ(tok_->decode(ids), text);
    // run.c prints decode(prev, token) piece by piece; the same text comes out.
    std::string streamed;
    for (std::size_t i = 1; i < ids.size(); ++i) streamed += tok_->decode_next(ids[i - 1], ids[i]);
    EXPECT_EQ(streamed, text);
  }
}

TEST_F(Llama2cTokenizer, LongTextEncodesQuicklyAndRoundTrips) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "Lily saw a big red ball in the park. ";
  const auto ids = tok_->encode(text, true);
  EXPECT_LT(ids.size(), text.size() / 2);
  EXPECT_EQ(tok_->decode(ids), text);
}

TEST(Llama2cTokenizerLoad, FoundNextToTheModel) {
  const auto model = t::stories_dir() / "stories260K.bin";
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "no " << model;
  auto tok = load_tokenizer(model.string());
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_EQ((*tok)->vocab_size(), 512);
}

TEST(Llama2cTokenizerLoad, CorruptFilesAreErrorsNamingTheFile) {
  t::ScratchDir scratch;
  const auto path = scratch / "tok.bin";
  std::vector<std::uint8_t> bytes;
  t::put_le<std::int32_t>(bytes, 8);
  for (int i = 0; i < 4; ++i) {
    t::put_le<float>(bytes, 0.f);
    t::put_le<std::int32_t>(bytes, 1);
    bytes.push_back('a');
  }
  auto truncated = bytes;
  truncated.resize(truncated.size() - 1);
  t::write_bytes(path, truncated);
  auto r = load_llama2c_tokenizer(path.string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(path.string()), std::string::npos);
  EXPECT_NE(r.error().message.find("token 3"), std::string::npos) << r.error().message;

  auto too_long = bytes;
  t::set_le<std::int32_t>(too_long, 4 + 4, 1 << 30);  // token 0 claims a gigabyte
  t::write_bytes(path, too_long);
  r = load_llama2c_tokenizer(path.string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("token 0"), std::string::npos) << r.error().message;

  auto negative = bytes;
  t::set_le<std::int32_t>(negative, 0, -1);
  t::write_bytes(path, negative);
  EXPECT_FALSE(load_llama2c_tokenizer(path.string()).ok());
}

}  // namespace
