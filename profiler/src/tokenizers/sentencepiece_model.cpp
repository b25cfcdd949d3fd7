// SentencePiece tokenizer.model files (a protobuf ModelProto), read with a small hand-written
// wire-format parser rather than a protobuf dependency. Only BPE models with identity
// normalization and kept whitespace are accepted (Llama 2, Mistral, TinyLlama): their encoding
// is exactly the score-merge algorithm llama2.c and llama.cpp use, with "▁" for spaces.
// Unigram models and NFKC normalization would need other algorithms: refused by name.
//
// Field numbers (sentencepiece_model.proto): ModelProto{1 pieces, 2 trainer_spec,
// 3 normalizer_spec}; SentencePiece{1 piece, 2 score, 3 type}; TrainerSpec{3 model_type,
// 35 byte_fallback, 40 unk_id, 41 bos_id, 42 eos_id}; NormalizerSpec{1 name, 3 add_dummy_prefix,
// 4 remove_extra_whitespaces}.

#include <cstring>

#include <fmt/format.h>

#include "../loaders/mapped_file.hpp"
#include "score_merge_tokenizer.hpp"

namespace squeeze::profiler {
namespace {

using core::make_error;
using core::Result;

// One protobuf field: number, wire type and either an integer or a byte range.
struct Field {
  std::uint32_t number = 0;
  std::uint32_t wire = 0;
  std::uint64_t integer = 0;            // varint (0), fixed32 (5), fixed64 (1)
  std::span<const std::uint8_t> bytes;  // length-delimited (2)
};

class WireReader {
 public:
  WireReader(std::span<const std::uint8_t> bytes, const std::string& path) : bytes_(bytes), path_(path) {}
  [[nodiscard]] bool done() const { return pos_ >= bytes_.size(); }

  Result<Field> next() {
    SQZ_TRY(key, varint());
    Field f;
    f.number = static_cast<std::uint32_t>(key >> 3);
    f.wire = static_cast<std::uint32_t>(key & 7);
    switch (f.wire) {
      case 0: {
        SQZ_TRY(v, varint());
        f.integer = v;
        return f;
      }
      case 1:
      case 5: {
        const std::size_t n = f.wire == 1 ? 8 : 4;
        if (bytes_.size() - pos_ < n) return truncated();
        std::memcpy(&f.integer, bytes_.data() + pos_, n);  // little-endian host
        pos_ += n;
        return f;
      }
      case 2: {
        SQZ_TRY(n, varint());
        if (n > bytes_.size() - pos_) return truncated();
        f.bytes = bytes_.subspan(pos_, static_cast<std::size_t>(n));
        pos_ += static_cast<std::size_t>(n);
        return f;
      }
      default:
        return make_error(fmt::format("{}: not a SentencePiece model (protobuf wire type {} at byte {})", path_, f.wire, pos_));
    }
  }

 private:
  Result<std::uint64_t> varint() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= bytes_.size()) return truncated();
      const std::uint8_t b = bytes_[pos_++];
      value |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) return value;
    }
    return make_error(fmt::format("{}: malformed varint at byte {}", path_, pos_));
  }
  core::Error truncated() const { return make_error(fmt::format("{}: truncated protobuf at byte {}", path_, pos_)); }

  std::span<const std::uint8_t> bytes_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

struct ModelProto {
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::uint64_t model_type = 1;  // proto default: UNIGRAM
  std::int64_t bos_id = 1, eos_id = 2;
  std::string normalizer = "nmt_nfkc";
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
};

std::string as_string(std::span<const std::uint8_t> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

Result<ModelProto> parse_model(std::span<const std::uint8_t> bytes, const std::string& path) {
  ModelProto m;
  WireReader top(bytes, path);
  while (!top.done()) {
    SQZ_TRY(f, top.next());
    if (f.wire != 2) continue;
    WireReader sub(f.bytes, path);
    if (f.number == 1) {  // SentencePiece
      std::string piece;
      float score = 0;
      while (!sub.done()) {
        SQZ_TRY(g, sub.next());
        if (g.number == 1 && g.wire == 2) piece = as_string(g.bytes);
        if (g.number == 2 && g.wire == 5) {
          const auto bits = static_cast<std::uint32_t>(g.integer);
          std::memcpy(&score, &bits, 4);
        }
      }
      m.pieces.push_back(std::move(piece));
      m.scores.push_back(score);
    } else if (f.number == 2) {  // TrainerSpec
      while (!sub.done()) {
        SQZ_TRY(g, sub.next());
        if (g.wire != 0) continue;
        const auto as_int32 = static_cast<std::int64_t>(static_cast<std::int32_t>(g.integer));
        if (g.number == 3) m.model_type = g.integer;
        if (g.number == 41) m.bos_id = as_int32;
        if (g.number == 42) m.eos_id = as_int32;
      }
    } else if (f.number == 3) {  // NormalizerSpec
      while (!sub.done()) {
        SQZ_TRY(g, sub.next());
        if (g.number == 1 && g.wire == 2) m.normalizer = as_string(g.bytes);
        if (g.number == 3 && g.wire == 0) m.add_dummy_prefix = g.integer != 0;
        if (g.number == 4 && g.wire == 0) m.remove_extra_whitespaces = g.integer != 0;
      }
    }
  }
  return m;
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> load_sentencepiece_model(const std::string& path) {
  SQZ_TRY(file, loaders::MappedFile::open(path));
  SQZ_TRY(m, parse_model(file.bytes(), path));
  if (m.pieces.empty()) return make_error(fmt::format("{}: no pieces; not a SentencePiece model?", path));
  if (m.model_type != 2)
    return make_error(fmt::format("{}: SentencePiece model type {} is not supported (only BPE = 2; Unigram = 1 needs "
                                  "Viterbi decoding)", path, m.model_type));
  if (m.normalizer != "identity")
    return make_error(fmt::format("{}: normalizer '{}' is not supported (only identity)", path, m.normalizer));
  if (m.remove_extra_whitespaces)
    return make_error(fmt::format("{}: remove_extra_whitespaces = true is not supported", path));
  ScoreMergeOptions options;
  options.sentencepiece_spaces = true;
  options.dummy_prefix = m.add_dummy_prefix;
  const auto n = static_cast<std::int64_t>(m.pieces.size());
  options.bos_id = m.bos_id >= 0 && m.bos_id < n ? static_cast<int>(m.bos_id) : -1;
  options.eos_id = m.eos_id >= 0 && m.eos_id < n ? static_cast<int>(m.eos_id) : -1;
  return make_score_merge_tokenizer(std::move(m.pieces), std::move(m.scores), options);
}

}  // namespace squeeze::profiler
