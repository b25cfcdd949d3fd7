#pragma once
// Tokenizers that merge by vocabulary score (llama2.c's run.c encode, SentencePiece BPE as in
// llama.cpp): one implementation, two spellings of the space.

#include <memory>
#include <string>
#include <vector>

#include "squeeze/profiler/tokenizer.hpp"

namespace squeeze::profiler {

struct ScoreMergeOptions {
  bool sentencepiece_spaces = false;  // spaces are "▁" (U+2581) in the vocabulary
  bool dummy_prefix = true;           // a space token before non-empty text
  int bos_id = 1;
  int eos_id = 2;
};

// `scores` has one entry per vocabulary entry (the caller checks).
[[nodiscard]] std::unique_ptr<Tokenizer> make_score_merge_tokenizer(std::vector<std::string> vocab,
                                                                    std::vector<float> scores,
                                                                    ScoreMergeOptions options);

}  // namespace squeeze::profiler
