#pragma once
// Text <-> token ids, one interface over the tokenizers Llama-family models ship with:
// llama2.c's tokenizer.bin (SentencePiece-like, scores + byte fallback) and byte-level BPE
// (GPT-2 style; tokenizer.json or GGUF vocab + merges), and SentencePiece BPE (tokenizer.model,
// GGUF "llama" vocabularies).

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "squeeze/core/result.hpp"

namespace squeeze::profiler {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Token ids for `text`, with the BOS id first when add_bos (and the tokenizer has one).
  // Never fails: bytes no token covers fall back to byte tokens.
  [[nodiscard]] virtual std::vector<int> encode(std::string_view text, bool add_bos) const = 0;

  // The bytes token `token` stands for (byte-fallback and byte-level tokens resolved to raw
  // bytes). May be part of a UTF-8 character. Out-of-range ids decode to "".
  [[nodiscard]] virtual std::string decode(int token) const = 0;

  // Streaming decode: the bytes to print for `token` when it follows `previous` (llama2.c strips
  // the leading space of the first piece after BOS). Default: decode(token).
  [[nodiscard]] virtual std::string decode_next(int previous, int token) const;

  // The text of a whole sequence (special tokens such as BOS/EOS are skipped).
  [[nodiscard]] virtual std::string decode(std::span<const int> tokens) const;

  [[nodiscard]] virtual int bos_id() const = 0;  // -1 when none
  [[nodiscard]] virtual int eos_id() const = 0;  // -1 when none
  [[nodiscard]] virtual int vocab_size() const = 0;
  // The vocabulary entry as stored (e.g. "<0x0A>", "Ġthe"), for debugging and tests.
  [[nodiscard]] virtual std::string token_text(int token) const = 0;
  // "llama2c" or "bpe".
  [[nodiscard]] virtual const char* kind() const = 0;
};

// Finds and loads the tokenizer that belongs to a model:
//  - tokenizer_path given: .json -> tokenizer.json, .model -> SentencePiece, GGUF magic -> GGUF
//    metadata, else llama2.c.
//  - model is a directory: its tokenizer.json, or its tokenizer.model when there is no
//    tokenizer.json or it uses a pipeline only tokenizer.model describes here (SentencePiece-style).
//  - model is a GGUF file: its tokenizer.ggml.* metadata.
//  - model is a llama2.c .bin: tok<vocab>.bin or tokenizer.bin in the same directory.
[[nodiscard]] core::Result<std::unique_ptr<Tokenizer>> load_tokenizer(
    const std::string& model_path, const std::optional<std::string>& tokenizer_path = std::nullopt);

// Format-specific entry points.
[[nodiscard]] core::Result<std::unique_ptr<Tokenizer>> load_llama2c_tokenizer(const std::string& path);
[[nodiscard]] core::Result<std::unique_ptr<Tokenizer>> load_hf_tokenizer_json(const std::string& path);
[[nodiscard]] core::Result<std::unique_ptr<Tokenizer>> load_gguf_tokenizer(const std::string& path);
[[nodiscard]] core::Result<std::unique_ptr<Tokenizer>> load_sentencepiece_model(const std::string& path);

}  // namespace squeeze::profiler
