// Tokenizers stored in GGUF metadata (tokenizer.ggml.*). Supported:
//  - model "gpt2": byte-level BPE with the default GPT-2 split or llama.cpp's "smollm" (digits
//    split one by one first), "llama-bpe" (Llama 3) or "qwen2" pre-tokenizers; control (3) and user-defined (4) token
//    types are matched as added tokens.
//  - model "llama": SentencePiece BPE by scores ("▁" spaces, <0xXX> byte fallback), the
//    algorithm of llama.cpp's SPM tokenizer and llama2.c's encode.

#include <fmt/format.h>

#include "bpe_tokenizer.hpp"
#include "score_merge_tokenizer.hpp"
#include "squeeze/profiler/gguf_file.hpp"

namespace squeeze::profiler {
namespace {

int token_id(const GgufFile& g, const char* key, std::size_t vocab_size, int fallback) {
  const auto* v = g.find(key);
  if (!v) return fallback;
  const auto i = v->as_int();
  return i && *i >= 0 && *i < static_cast<std::int64_t>(vocab_size) ? static_cast<int>(*i) : -1;
}

core::Result<std::unique_ptr<Tokenizer>> load_sentencepiece(const GgufFile& g) {
  SQZ_TRY(tokens, g.get_string_array("tokenizer.ggml.tokens"));
  const auto* scores_value = g.find("tokenizer.ggml.scores");
  const auto* scores_array = scores_value ? scores_value->as_array() : nullptr;
  if (!scores_array || scores_array->size() != tokens.size())
    return core::make_error(fmt::format("{}: tokenizer.ggml.scores must hold one number per token ({})", g.path(),
                                        tokens.size()));
  std::vector<float> scores;
  scores.reserve(tokens.size());
  for (const auto& s : *scores_array) {
    const auto d = s.as_double();
    if (!d) return core::make_error(fmt::format("{}: tokenizer.ggml.scores holds a non-number", g.path()));
    scores.push_back(static_cast<float>(*d));
  }
  if (tokens.empty()) return core::make_error(fmt::format("{}: tokenizer.ggml.tokens is empty", g.path()));
  ScoreMergeOptions options;
  options.sentencepiece_spaces = true;
  if (const auto* v = g.find("tokenizer.ggml.add_space_prefix"); v && v->as_int()) options.dummy_prefix = *v->as_int() != 0;
  options.bos_id = token_id(g, "tokenizer.ggml.bos_token_id", tokens.size(), 1);
  options.eos_id = token_id(g, "tokenizer.ggml.eos_token_id", tokens.size(), 2);
  return make_score_merge_tokenizer(std::move(tokens), std::move(scores), options);
}

}  // namespace

core::Result<std::unique_ptr<Tokenizer>> load_gguf_tokenizer(const std::string& path) {
  SQZ_TRY(g, GgufFile::open(path));
  SQZ_TRY(model, g.get_string("tokenizer.ggml.model"));
  if (model == "llama") return load_sentencepiece(g);
  if (model != "gpt2")
    return core::make_error(fmt::format("{}: tokenizer.ggml.model '{}' is not supported (gpt2, llama)", path, model));
  tokenizers::BpeModelData data;
  data.source = path;
  std::string pre = "default";
  if (g.find("tokenizer.ggml.pre")) {
    SQZ_TRY(p, g.get_string("tokenizer.ggml.pre"));
    pre = p;
  }
  if (pre == "smollm") {
    data.pre.individual_digits = true;
  } else if (pre == "llama-bpe") {
    data.pre.regex = tokenizers::SplitRegex::Llama3;
    data.ignore_merges = true;  // Llama 3's tokenizer.json sets it
  } else if (pre == "qwen2") {
    data.pre.regex = tokenizers::SplitRegex::Qwen2;
  } else if (pre != "default" && pre != "gpt-2") {
    return core::make_error(fmt::format(
        "{}: tokenizer.ggml.pre '{}' is not supported (default, gpt-2, smollm, llama-bpe, qwen2)", path, pre));
  }
  SQZ_TRY(tokens, g.get_string_array("tokenizer.ggml.tokens"));
  data.tokens = std::move(tokens);
  SQZ_TRY(merges, g.get_string_array("tokenizer.ggml.merges"));
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& m = merges[rank];
    const auto space = m.find(' ', 1);
    if (space == std::string::npos)
      return core::make_error(fmt::format("{}: tokenizer.ggml.merges[{}] '{}' has no space", path, rank, m));
    data.merges.emplace_back(m.substr(0, space), m.substr(space + 1));
  }
  if (g.find("tokenizer.ggml.token_type")) {
    SQZ_TRY(types, g.get_int_array("tokenizer.ggml.token_type"));
    if (types.size() != data.tokens.size())
      return core::make_error(fmt::format("{}: tokenizer.ggml.token_type has {} entries for {} tokens", path,
                                          types.size(), data.tokens.size()));
    for (std::size_t i = 0; i < types.size(); ++i)
      if (types[i] == 3 || types[i] == 4)
        data.added.push_back({data.tokens[i], static_cast<int>(i), types[i] == 3, false, false});
  }
  auto id = [&](const char* key) -> int {
    const auto* v = g.find(key);
    const auto i = v ? v->as_int() : std::nullopt;
    return i && *i >= 0 && *i < static_cast<std::int64_t>(data.tokens.size()) ? static_cast<int>(*i) : -1;
  };
  data.bos_id = id("tokenizer.ggml.bos_token_id");
  data.eos_id = id("tokenizer.ggml.eos_token_id");
  data.unk_id = id("tokenizer.ggml.unknown_token_id");
  return tokenizers::make_bpe_tokenizer(std::move(data));
}

}  // namespace squeeze::profiler
