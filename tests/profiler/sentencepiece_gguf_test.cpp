// GGUF "llama" (SentencePiece BPE) vocabularies. No such GGUF is committed: the test writes one
// from ../shared's tok512.bin with spaces spelled "▁", as llama.cpp's converter would, and checks
// that it tokenizes exactly like the llama2.c tokenizer (same algorithm, other spelling).

#include <gtest/gtest.h>

#include <cstring>

#include "squeeze/profiler/tokenizer.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace t = squeeze::test;
using Bytes = std::vector<std::uint8_t>;

void put_string(Bytes& out, const std::string& s) {
  t::put_le<std::uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

// A metadata-only GGUF v3 file.
class GgufMetadataWriter {
 public:
  void string(const std::string& key, const std::string& value) {
    key_(key, 8);
    put_string(kv_, value);
  }
  void u32(const std::string& key, std::uint32_t value) {
    key_(key, 4);
    t::put_le(kv_, value);
  }
  void strings(const std::string& key, const std::vector<std::string>& values) {
    array_(key, 8, values.size());
    for (const auto& v : values) put_string(kv_, v);
  }
  void floats(const std::string& key, const std::vector<float>& values) {
    array_(key, 6, values.size());
    for (float v : values) t::put_le(kv_, v);
  }
  void int32s(const std::string& key, const std::vector<std::int32_t>& values) {
    array_(key, 5, values.size());
    for (auto v : values) t::put_le(kv_, v);
  }
  Bytes finish() const {
    Bytes out;
    t::put_le<std::uint32_t>(out, 0x46554747u);
    t::put_le<std::uint32_t>(out, 3);
    t::put_le<std::uint64_t>(out, 0);  // tensors
    t::put_le<std::uint64_t>(out, count_);
    out.insert(out.end(), kv_.begin(), kv_.end());
    return out;
  }

 private:
  void key_(const std::string& key, std::uint32_t type) {
    put_string(kv_, key);
    t::put_le(kv_, type);
    ++count_;
  }
  void array_(const std::string& key, std::uint32_t element_type, std::size_t n) {
    key_(key, 9);
    t::put_le(kv_, element_type);
    t::put_le<std::uint64_t>(kv_, n);
  }
  Bytes kv_;
  std::uint64_t count_ = 0;
};

std::string spm_spelling(const std::string& s) {
  std::string out;
  for (char c : s) out += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
  return out;
}

TEST(SentencePieceGguf, TokenizesLikeTheLlama2cTokenizerWithItsVocabulary) {
  const auto tok512 = t::stories_dir() / "tok512.bin";
  if (!fs::exists(tok512)) GTEST_SKIP() << "no " << tok512;
  // Read tok512.bin (max_token_length, then score, length, bytes per token).
  const auto raw = t::read_bytes(tok512);
  std::vector<std::string> tokens;
  std::vector<float> scores;
  for (std::size_t off = 4; off + 8 <= raw.size();) {
    float score;
    std::int32_t len;
    std::memcpy(&score, raw.data() + off, 4);
    std::memcpy(&len, raw.data() + off + 4, 4);
    off += 8;
    tokens.push_back(spm_spelling(std::string(raw.begin() + static_cast<std::ptrdiff_t>(off),
                                              raw.begin() + static_cast<std::ptrdiff_t>(off + static_cast<std::size_t>(len)))));
    scores.push_back(score);
    off += static_cast<std::size_t>(len);
  }
  ASSERT_EQ(tokens.size(), 512u);
  std::vector<std::int32_t> types(tokens.size(), 1);
  types[0] = 2;
  types[1] = types[2] = 3;
  for (int b = 0; b < 256; ++b) types[static_cast<std::size_t>(3 + b)] = 6;

  GgufMetadataWriter w;
  w.string("general.architecture", "llama");
  w.string("tokenizer.ggml.model", "llama");
  w.strings("tokenizer.ggml.tokens", tokens);
  w.floats("tokenizer.ggml.scores", scores);
  w.int32s("tokenizer.ggml.token_type", types);
  w.u32("tokenizer.ggml.bos_token_id", 1);
  w.u32("tokenizer.ggml.eos_token_id", 2);
  t::ScratchDir scratch;
  t::write_bytes(scratch / "spm.gguf", w.finish());

  auto tok = squeeze::profiler::load_tokenizer((scratch / "spm.gguf").string());
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_STREQ((*tok)->kind(), "sentencepiece");
  const auto cases = t::read_json(t::fixtures_dir() / "llama2c_expected.json")["tokenizer_cases"];
  for (const auto& c : cases) {
    const auto bytes = t::hex_to_bytes(c["hex"].get<std::string>());
    const std::string text(bytes.begin(), bytes.end());
    EXPECT_EQ((*tok)->encode(text, c["bos"].get<bool>()), c["ids"].get<std::vector<int>>()) << "text: " << text;
  }
  const std::string story = "Once upon a time, there was a little girl named Lily.";
  EXPECT_EQ((*tok)->decode((*tok)->encode(story, true)), story);
}

TEST(SentencePieceGguf, ScoresMustMatchTheTokens) {
  GgufMetadataWriter w;
  w.string("tokenizer.ggml.model", "llama");
  w.strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
  w.floats("tokenizer.ggml.scores", {0.f, 0.f});
  t::ScratchDir scratch;
  t::write_bytes(scratch / "bad.gguf", w.finish());
  auto tok = squeeze::profiler::load_gguf_tokenizer((scratch / "bad.gguf").string());
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.error().message.find("tokenizer.ggml.scores"), std::string::npos) << tok.error().message;
}

}  // namespace
