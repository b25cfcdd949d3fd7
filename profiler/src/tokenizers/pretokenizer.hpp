#pragma once
// The pre-tokenizer of byte-level BPE models, written out by hand instead of a regex engine.
// Supported splits (tokenizers' Split/ByteLevel regexes; llama.cpp's pre-tokenizer names):
//  Gpt2   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//  Llama3 (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
//         \s*[\r\n]+|\s+(?!\S)|\s+                                     ("llama-bpe")
//  Qwen2  as Llama3 with \p{N} instead of \p{N}{1,3}                       ("qwen2")
// optionally preceded by SmolLM's Digits(individual_digits) split ("smollm").

#include <string>
#include <string_view>
#include <vector>

namespace squeeze::profiler::tokenizers {

enum class SplitRegex { None, Gpt2, Llama3, Qwen2 };

// The regex pattern string as tokenizer.json writes it -> the split it stands for (None if unknown).
[[nodiscard]] SplitRegex split_regex_from_pattern(std::string_view pattern);

struct PreTokenizerSpec {
  bool individual_digits = false;  // SmolLM: every \p{N} character is its own piece first
  SplitRegex regex = SplitRegex::Gpt2;
  bool add_prefix_space = false;   // ByteLevel(add_prefix_space): prepend " " unless present
};

// Splits `text` into the pieces BPE runs on (views into `text`, in order, covering it all).
[[nodiscard]] std::vector<std::string_view> pre_tokenize(std::string_view text, const PreTokenizerSpec& spec);

// One code point starting at text[i]: its value and byte length. Invalid UTF-8 yields one byte
// with value 0xFFFD (a "neither letter, number nor space" character), never a read past the end.
struct CodePoint {
  std::uint32_t value;
  std::size_t length;
};
[[nodiscard]] CodePoint decode_utf8(std::string_view text, std::size_t i);

}  // namespace squeeze::profiler::tokenizers
