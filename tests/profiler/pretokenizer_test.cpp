#include <gtest/gtest.h>

#include "../../profiler/src/tokenizers/pretokenizer.hpp"

namespace {

using squeeze::profiler::tokenizers::decode_utf8;
using squeeze::profiler::tokenizers::pre_tokenize;
using squeeze::profiler::tokenizers::PreTokenizerSpec;

using squeeze::profiler::tokenizers::SplitRegex;

std::vector<std::string> split(std::string_view text, bool digits = false, SplitRegex regex = SplitRegex::Gpt2) {
  PreTokenizerSpec spec;
  spec.individual_digits = digits;
  spec.regex = regex;
  std::vector<std::string> out;
  for (auto piece : pre_tokenize(text, spec)) out.emplace_back(piece);
  return out;
}

using V = std::vector<std::string>;

TEST(PreTokenizer, Gpt2SplitKeepsTheSpaceWithTheFollowingWord) {
  EXPECT_EQ(split("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(split("Hello   world"), (V{"Hello", "  ", " world"}));
  EXPECT_EQ(split("a\n\nb"), (V{"a", "\n", "\n", "b"}));
  EXPECT_EQ(split("end  "), (V{"end", "  "}));
  EXPECT_EQ(split("x !!? y"), (V{"x", " !!?", " y"}));
}

TEST(PreTokenizer, ContractionsAndClasses) {
  EXPECT_EQ(split("don't we'll"), (V{"don", "'t", " we", "'ll"}));
  EXPECT_EQ(split("DON'T"), (V{"DON", "'", "T"}));  // GPT-2's contractions are lower-case only
  EXPECT_EQ(split("abc123def"), (V{"abc", "123", "def"}));
  EXPECT_EQ(split("café日本"), (V{"café日本"}));  // all \p{L}
}

TEST(PreTokenizer, SmolLMSplitsDigitsOneByOne) {
  EXPECT_EQ(split("in 2024!", true), (V{"in", " ", "2", "0", "2", "4", "!"}));
  EXPECT_EQ(split("½٣", true), (V{"½", "٣"}));
}

TEST(PreTokenizer, Llama3Split) {
  const auto l3 = [](std::string_view t) { return split(t, false, SplitRegex::Llama3); };
  EXPECT_EQ(l3("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(l3("I'M (done)"), (V{"I", "'M", " (", "done", ")"}));  // case-insensitive contractions
  EXPECT_EQ(l3("\thello"), (V{"\thello"}));                          // any non-newline prefix joins letters
  EXPECT_EQ(l3("12345 67"), (V{"123", "45", " ", "67"}));            // digits in threes
  EXPECT_EQ(l3("a \n\n b"), (V{"a", " \n\n", " b"}));              // whitespace up to the last newline
  EXPECT_EQ(l3("x!!\n\ny"), (V{"x", "!!\n\n", "y"}));              // punctuation takes following newlines
  EXPECT_EQ(split("12345", false, SplitRegex::Qwen2), (V{"1", "2", "3", "4", "5"}));
}

TEST(PreTokenizer, KnowsTheRegexPatternsOfTokenizerJson) {
  using squeeze::profiler::tokenizers::split_regex_from_pattern;
  EXPECT_EQ(split_regex_from_pattern(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)"),
            SplitRegex::Gpt2);
  EXPECT_EQ(split_regex_from_pattern("\\p{N}{1,3}"), SplitRegex::None);
}

TEST(PreTokenizer, InvalidUtf8NeverReadsPastTheEnd) {
  EXPECT_EQ(decode_utf8("\xe6\x97", 0).length, 1u);      // truncated 3-byte sequence
  EXPECT_EQ(decode_utf8("\xc0\x80", 0).value, 0xFFFDu);  // overlong NUL
  EXPECT_EQ(decode_utf8("\xed\xa0\x80", 0).value, 0xFFFDu);  // surrogate
  EXPECT_EQ(decode_utf8("\xf0\x9f\x98\x80", 0).value, 0x1F600u);
  const std::string bad = "a\xff\xfe b\xe6";
  std::string joined;
  for (const auto& p : split(bad)) joined += p;
  EXPECT_EQ(joined, bad);  // pieces cover the input exactly
}

}  // namespace
