#include <gtest/gtest.h>

#include "squeeze/profiler/tokenizer.hpp"
#include "test_support.hpp"

namespace {

namespace t = squeeze::test;
using squeeze::profiler::load_sentencepiece_model;
using squeeze::profiler::load_tokenizer;

TEST(SentencePieceModel, MatchesTheSentencepieceLibrary) {
  auto tok = load_tokenizer((t::fixtures_dir() / "sentencepiece").string());
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  const auto expected = t::read_json(t::fixtures_dir() / "sentencepiece_expected.json");
  const auto strings = t::read_json(t::fixtures_dir() / "bpe_expected.json")["strings"];
  EXPECT_STREQ((*tok)->kind(), "sentencepiece");
  EXPECT_EQ((*tok)->vocab_size(), expected["vocab_size"].get<int>());
  EXPECT_EQ((*tok)->bos_id(), expected["bos"].get<int>());
  EXPECT_EQ((*tok)->eos_id(), expected["eos"].get<int>());
  const auto& ids = expected["ids"];
  ASSERT_EQ(ids.size(), strings.size());
  int mismatches = 0;
  for (std::size_t i = 0; i < strings.size() && mismatches < 10; ++i) {
    const auto text = strings[i].get<std::string>();
    const auto got = (*tok)->encode(text, false);
    EXPECT_EQ(got, ids[i].get<std::vector<int>>()) << "string " << i << ": '" << text << "'";
    EXPECT_EQ((*tok)->decode(got), expected["decoded"][i].get<std::string>()) << "string " << i;
    mismatches += got != ids[i].get<std::vector<int>>();
  }
  const auto with_bos = (*tok)->encode("Once upon a time", true);
  EXPECT_EQ(with_bos.front(), 1);
  EXPECT_EQ((*tok)->decode(with_bos), "Once upon a time");
}

// Minimal protobuf writer for hand-made bad models.
void put_varint(std::vector<std::uint8_t>& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}
void put_bytes(std::vector<std::uint8_t>& out, std::uint32_t field, const std::vector<std::uint8_t>& b) {
  put_varint(out, field << 3 | 2);
  put_varint(out, b.size());
  out.insert(out.end(), b.begin(), b.end());
}
std::vector<std::uint8_t> piece(const std::string& s) {
  std::vector<std::uint8_t> p;
  put_bytes(p, 1, {s.begin(), s.end()});
  return p;
}

TEST(SentencePieceModel, UnsupportedAndBrokenModelsAreNamedErrors) {
  t::ScratchDir scratch;
  const auto path = scratch / "tokenizer.model";
  std::vector<std::uint8_t> unigram;
  put_bytes(unigram, 1, piece("<unk>"));
  put_bytes(unigram, 1, piece("a"));
  put_bytes(unigram, 2, {3 << 3, 1});  // trainer_spec { model_type: UNIGRAM }
  t::write_bytes(path, unigram);
  auto tok = load_sentencepiece_model(path.string());
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.error().message.find("Unigram"), std::string::npos) << tok.error().message;

  std::vector<std::uint8_t> nfkc;
  put_bytes(nfkc, 1, piece("a"));
  put_bytes(nfkc, 2, {3 << 3, 2});  // BPE
  put_bytes(nfkc, 3, {1 << 3 | 2, 8, 'n', 'm', 't', '_', 'n', 'f', 'k', 'c'});
  t::write_bytes(path, nfkc);
  tok = load_sentencepiece_model(path.string());
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.error().message.find("nmt_nfkc"), std::string::npos) << tok.error().message;

  auto truncated = t::read_bytes(t::fixtures_dir() / "sentencepiece" / "tokenizer.model");
  truncated.resize(truncated.size() / 2);
  t::write_bytes(path, truncated);
  tok = load_sentencepiece_model(path.string());
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.error().message.find(path.string()), std::string::npos) << tok.error().message;
  EXPECT_NE(tok.error().message.find("truncated"), std::string::npos) << tok.error().message;
}

}  // namespace
