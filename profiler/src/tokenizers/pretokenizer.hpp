#pragma once
// The pre-tokenizer of byte-level BPE models, written out by hand instead of a regex engine:
// GPT-2's split  's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// optionally preceded by SmolLM's Digits(individual_digits) split, as the tokenizers library and
// llama.cpp ("smollm" pre-tokenizer) apply them.

#include <string>
#include <string_view>
#include <vector>

namespace squeeze::profiler::tokenizers {

struct PreTokenizerSpec {
  bool individual_digits = false;  // SmolLM: every \p{N} character is its own piece first
  bool gpt2_regex = true;          // ByteLevel(use_regex = true)
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
