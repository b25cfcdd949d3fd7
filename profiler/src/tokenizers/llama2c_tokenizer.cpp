// llama2.c's tokenizer (tokenizer.bin / tok<N>.bin), encoding exactly as run.c's encode():
// BOS, a dummy-prefix " " token, one token per UTF-8 code point (raw byte tokens <0xXX> = id
// byte + 3 when the code point is not in the vocabulary), then repeated merges of the adjacent
// pair whose concatenation is the highest-scoring vocabulary entry (leftmost on ties).
//
// The same algorithm is SentencePiece-BPE as llama.cpp runs GGUF "llama" vocabularies, where a
// space is written U+2581 ("▁"): SentencePieceStyle selects that spelling.
//
// run.c rescans all pairs after every merge (quadratic). This does the same merges with a heap
// of candidate pairs over a linked list, so a 10k-token prompt encodes in milliseconds.

#include <cstdint>
#include <cstdio>
#include <queue>
#include <unordered_map>

#include <fmt/format.h>

#include "score_merge_tokenizer.hpp"
#include "../loaders/byte_reader.hpp"
#include "../loaders/mapped_file.hpp"
#include "squeeze/profiler/tokenizer.hpp"

namespace squeeze::profiler {
namespace {

using core::make_error;
using core::Result;

constexpr int kByteFallbackOffset = 3;  // run.c: token id = byte + 3
constexpr std::int32_t kMaxTokens = 1 << 22;
constexpr std::int32_t kMaxTokenLength = 1 << 16;

constexpr const char* kSentencePieceSpace = "\xE2\x96\x81";  // U+2581

class ScoreMergeTokenizer final : public Tokenizer {
 public:
  ScoreMergeTokenizer(std::vector<std::string> vocab, std::vector<float> scores, ScoreMergeOptions options)
      : vocab_(std::move(vocab)), scores_(std::move(scores)), options_(options) {
    // run.c's bsearch may pick any of equal strings; the first id is the deterministic choice.
    for (int i = 0; i < static_cast<int>(vocab_.size()); ++i) lookup_.emplace(vocab_[i], i);
    for (int b = 0; b < 256; ++b) {
      byte_token_[b] = -1;
      auto it = lookup_.find(fmt::format("<0x{:02X}>", b));
      if (it != lookup_.end()) byte_token_[b] = it->second;
    }
  }

  std::vector<int> encode(std::string_view text, bool add_bos) const override {
    std::vector<int> tokens;
    tokens.reserve(text.size() + 2);
    if (add_bos && options_.bos_id >= 0) tokens.push_back(options_.bos_id);
    std::string escaped;
    if (options_.sentencepiece_spaces) {  // "a b" -> "▁a▁b"
      for (char c : text) {
        if (c == ' ') {
          escaped += kSentencePieceSpace;
        } else {
          escaped += c;
        }
      }
      text = escaped;
    }
    if (!text.empty() && options_.dummy_prefix) {
      auto space = lookup_.find(options_.sentencepiece_spaces ? kSentencePieceSpace : " ");
      if (space != lookup_.end()) tokens.push_back(space->second);
    }
    append_code_points(text, tokens);
    merge_pairs(tokens);
    return tokens;
  }

  std::string decode(int token) const override {
    if (token < 0 || token >= vocab_size()) return {};
    const std::string& piece = vocab_[token];
    unsigned byte = 0;
    // run.c: sscanf(piece, "<0x%02hhX>", ...) turns byte tokens back into raw bytes.
    if (piece.size() == 6 && std::sscanf(piece.c_str(), "<0x%02X>", &byte) == 1 && byte < 256)
      return std::string(1, static_cast<char>(byte));
    if (!options_.sentencepiece_spaces) return piece;
    std::string out;
    for (std::size_t i = 0; i < piece.size(); ++i) {
      if (piece.compare(i, 3, kSentencePieceSpace) == 0) {
        out += ' ';
        i += 2;
      } else {
        out += piece[i];
      }
    }
    return out;
  }

  std::string decode_next(int previous, int token) const override {
    std::string piece = decode(token);
    if (previous == options_.bos_id && options_.dummy_prefix && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    return piece;
  }

  std::string decode(std::span<const int> tokens) const override {
    std::string out;
    // SentencePiece drops the dummy-prefix space at the start of a text even without BOS.
    int previous = options_.sentencepiece_spaces ? options_.bos_id : -1;
    for (int t : tokens) {
      if (t != options_.bos_id && t != options_.eos_id) out += decode_next(previous, t);
      previous = t;
    }
    return out;
  }

  int bos_id() const override { return options_.bos_id; }
  int eos_id() const override { return options_.eos_id; }
  int vocab_size() const override { return static_cast<int>(vocab_.size()); }
  std::string token_text(int token) const override {
    return token >= 0 && token < vocab_size() ? vocab_[token] : std::string{};
  }
  const char* kind() const override { return options_.sentencepiece_spaces ? "sentencepiece" : "llama2c"; }

 private:
  int find(const std::string& s) const {
    auto it = lookup_.find(s);
    return it == lookup_.end() ? -1 : it->second;
  }

  int byte_token(std::uint8_t b) const {
    if (byte_token_[b] >= 0) return byte_token_[b];
    const int id = b + kByteFallbackOffset;  // run.c's fallback when the table has no <0xXX> names
    return id < vocab_size() ? id : 0;
  }

  // run.c groups a leading byte with at most 3 following continuation bytes (so at most 4 bytes)
  // and looks the group up; unknown groups become byte tokens.
  void append_code_points(std::string_view text, std::vector<int>& tokens) const {
    std::string buffer;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const auto c = static_cast<std::uint8_t>(text[i]);
      if ((c & 0xC0) != 0x80) buffer.clear();
      buffer.push_back(static_cast<char>(c));
      const bool next_is_continuation =
          i + 1 < text.size() && (static_cast<std::uint8_t>(text[i + 1]) & 0xC0) == 0x80;
      if (next_is_continuation && buffer.size() < 4) continue;
      const int id = find(buffer);
      if (id != -1) {
        tokens.push_back(id);
      } else {
        for (char b : buffer) tokens.push_back(byte_token(static_cast<std::uint8_t>(b)));
      }
      buffer.clear();
    }
  }

  struct Candidate {
    float score;
    int left;       // position of the left token (original index; order is preserved by merges)
    int right;
    int merged_id;
    int left_version, right_version;  // stale when either token changed since it was pushed
  };
  struct Worse {
    bool operator()(const Candidate& a, const Candidate& b) const {
      if (a.score != b.score) return a.score < b.score;
      return a.left > b.left;  // equal scores: leftmost first, as run.c's strict '>' scan
    }
  };

  void merge_pairs(std::vector<int>& tokens) const {
    const int n = static_cast<int>(tokens.size());
    if (n < 2) return;
    std::vector<int> prev(n), next(n), version(n, 0);
    std::vector<bool> alive(n, true);
    for (int i = 0; i < n; ++i) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    std::priority_queue<Candidate, std::vector<Candidate>, Worse> heap;
    auto push = [&](int left) {
      const int right = next[left];
      if (left < 0 || right < 0) return;
      const int id = find(vocab_[tokens[left]] + vocab_[tokens[right]]);
      // run.c starts its search at best_score = -1e10, so pairs scoring lower never merge.
      if (id != -1 && scores_[id] > -1e10f) heap.push({scores_[id], left, right, id, version[left], version[right]});
    };
    for (int i = 0; i + 1 < n; ++i) push(i);
    while (!heap.empty()) {
      const Candidate c = heap.top();
      heap.pop();
      const int right = next[c.left];
      if (!alive[c.left] || right != c.right || version[c.left] != c.left_version || version[right] != c.right_version)
        continue;
      tokens[c.left] = c.merged_id;
      ++version[c.left];
      alive[right] = false;
      next[c.left] = next[right];
      if (next[right] >= 0) prev[next[right]] = c.left;
      if (prev[c.left] >= 0) push(prev[c.left]);
      push(c.left);
    }
    std::vector<int> merged;
    merged.reserve(n);
    for (int i = 0; i >= 0; i = next[i]) merged.push_back(tokens[i]);
    tokens = std::move(merged);
  }

  std::vector<std::string> vocab_;
  std::vector<float> scores_;
  std::unordered_map<std::string, int> lookup_;
  int byte_token_[256];
  ScoreMergeOptions options_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_score_merge_tokenizer(std::vector<std::string> vocab, std::vector<float> scores,
                                                      ScoreMergeOptions options) {
  const int n = static_cast<int>(vocab.size());
  for (int* id : {&options.bos_id, &options.eos_id})
    if (*id >= n) *id = -1;
  return std::make_unique<ScoreMergeTokenizer>(std::move(vocab), std::move(scores), options);
}

Result<std::unique_ptr<Tokenizer>> load_llama2c_tokenizer(const std::string& path) {
  SQZ_TRY(file, loaders::MappedFile::open(path));
  loaders::ByteReader in(file.bytes(), path);
  SQZ_TRY(max_token_length, in.read<std::int32_t>("max_token_length"));
  if (max_token_length <= 0 || max_token_length > kMaxTokenLength)
    return make_error(fmt::format("{}: max_token_length {} is out of range; not a llama2.c tokenizer?", path,
                                  max_token_length));
  // The file does not store the vocabulary size (run.c takes it from the model): read to the end.
  std::vector<std::string> vocab;
  std::vector<float> scores;
  while (in.remaining() > 0) {
    if (static_cast<std::int32_t>(vocab.size()) >= kMaxTokens)
      return make_error(fmt::format("{}: more than {} tokens", path, kMaxTokens));
    const auto what = fmt::format("token {}", vocab.size());
    SQZ_TRY(score, in.read<float>(what));
    SQZ_TRY(length, in.read<std::int32_t>(what));
    if (length < 0 || length > max_token_length)
      return make_error(fmt::format("{}: {} has length {} (max_token_length is {})", path, what, length,
                                    max_token_length));
    SQZ_TRY(text, in.read_string(static_cast<std::size_t>(length), what));
    vocab.push_back(std::move(text));
    scores.push_back(score);
  }
  if (vocab.size() < 3) return make_error(fmt::format("{}: only {} tokens; expected <unk>, BOS, EOS at least", path, vocab.size()));
  return make_score_merge_tokenizer(std::move(vocab), std::move(scores), ScoreMergeOptions{});
}

}  // namespace squeeze::profiler
