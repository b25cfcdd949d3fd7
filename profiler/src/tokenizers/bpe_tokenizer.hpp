#pragma once
// Byte-level BPE (GPT-2 / Llama 3 / Qwen2 / SmolLM): pre-tokenize, map bytes to GPT-2's printable
// code points, merge by rank, look the symbols up. Added/special tokens are matched in the raw
// text first (leftmost, longest), as the tokenizers library does. Built from tokenizer.json or
// from GGUF metadata (tokenizer.ggml.model = gpt2).

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "pretokenizer.hpp"
#include "squeeze/core/result.hpp"
#include "squeeze/profiler/tokenizer.hpp"

namespace squeeze::profiler::tokenizers {

struct AddedToken {
  std::string content;
  int id = -1;
  bool special = true;  // skipped by decode(tokens)
  bool lstrip = false;  // swallow whitespace to the left of the match
  bool rstrip = false;  // ... and to the right
};

struct BpeModelData {
  std::vector<std::string> tokens;  // id -> token in byte-level form ("Ġthe"); added tokens raw
  std::vector<std::pair<std::string, std::string>> merges;  // rank order
  std::vector<AddedToken> added;
  PreTokenizerSpec pre;
  bool ignore_merges = false;  // Llama 3: a word already in the vocabulary is not merged
  int unk_id = -1;
  int bos_id = -1;
  int eos_id = -1;
  std::string source;  // for error messages
};

// Checks the data (ids in range, merges of known tokens...) and builds the tokenizer.
[[nodiscard]] core::Result<std::unique_ptr<Tokenizer>> make_bpe_tokenizer(BpeModelData data);

}  // namespace squeeze::profiler::tokenizers
