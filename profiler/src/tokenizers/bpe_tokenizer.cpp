#include "bpe_tokenizer.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <mutex>
#include <queue>

#include <fmt/format.h>

namespace squeeze::profiler::tokenizers {
namespace {

// GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for themselves, the other 68 bytes
// for U+0100 onwards, in byte order.
std::array<std::uint32_t, 256> byte_to_code_point() {
  std::array<std::uint32_t, 256> map{};
  std::uint32_t next = 256;
  for (std::uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    map[b] = printable ? b : next++;
  }
  return map;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

struct PairHash {
  std::size_t operator()(const std::pair<int, int>& p) const {
    return std::hash<std::uint64_t>()((static_cast<std::uint64_t>(static_cast<std::uint32_t>(p.first)) << 32) |
                                      static_cast<std::uint32_t>(p.second));
  }
};

class BpeTokenizer final : public Tokenizer {
 public:
  explicit BpeTokenizer(BpeModelData data) : data_(std::move(data)) {
    const auto map = byte_to_code_point();
    for (int b = 0; b < 256; ++b) {
      std::string s;
      append_utf8(s, map[b]);
      byte_symbol_[b] = std::move(s);
      code_point_to_byte_[map[b]] = static_cast<std::uint8_t>(b);
    }
    for (int i = 0; i < static_cast<int>(data_.tokens.size()); ++i) vocab_.emplace(data_.tokens[i], i);
    for (const auto& a : data_.added) {
      if (!a.content.empty()) added_first_byte_[static_cast<std::uint8_t>(a.content[0])] = true;
      added_by_id_[a.id] = &a;
      vocab_[a.content] = a.id;
    }
    // Merges work on token ids: (left, right) -> (rank, merged id).
    for (int rank = 0; rank < static_cast<int>(data_.merges.size()); ++rank) {
      const auto& [l, r] = data_.merges[rank];
      auto li = vocab_.find(l), ri = vocab_.find(r), mi = vocab_.find(l + r);
      if (li == vocab_.end() || ri == vocab_.end() || mi == vocab_.end()) continue;  // as tokenizers: unusable
      merges_.try_emplace({li->second, ri->second}, rank, mi->second);
    }
  }

  std::vector<int> encode(std::string_view text, bool add_bos) const override {
    std::vector<int> ids;
    if (add_bos && data_.bos_id >= 0) ids.push_back(data_.bos_id);
    std::size_t plain_start = 0;
    for (std::size_t i = 0; i < text.size();) {
      const AddedToken* match = match_added(text, i);
      if (!match) {
        ++i;
        continue;
      }
      std::size_t plain_end = i, next = i + match->content.size();
      if (match->lstrip)
        while (plain_end > plain_start && is_ascii_space(text[plain_end - 1])) --plain_end;
      if (match->rstrip)
        while (next < text.size() && is_ascii_space(text[next])) ++next;
      encode_plain(text.substr(plain_start, plain_end - plain_start), ids);
      ids.push_back(match->id);
      plain_start = i = next;
    }
    encode_plain(text.substr(plain_start), ids);
    return ids;
  }

  std::string decode(int token) const override {
    if (token < 0 || token >= vocab_size()) return {};
    if (auto it = added_by_id_.find(token); it != added_by_id_.end()) return it->second->content;
    std::string out;
    const std::string& s = data_.tokens[token];
    for (std::size_t i = 0; i < s.size();) {
      const auto cp = decode_utf8(s, i);
      auto it = code_point_to_byte_.find(cp.value);
      if (it != code_point_to_byte_.end()) {
        out.push_back(static_cast<char>(it->second));
      } else {
        out.append(s, i, cp.length);  // not a byte-level symbol: keep as written
      }
      i += cp.length;
    }
    return out;
  }

  std::string decode(std::span<const int> tokens) const override {
    std::string out;
    for (int t : tokens) {
      auto it = added_by_id_.find(t);
      if (it != added_by_id_.end() && it->second->special) continue;
      if (t == data_.bos_id || t == data_.eos_id) continue;
      out += decode(t);
    }
    return out;
  }

  int bos_id() const override { return data_.bos_id; }
  int eos_id() const override { return data_.eos_id; }
  int vocab_size() const override { return static_cast<int>(data_.tokens.size()); }
  std::string token_text(int token) const override {
    return token >= 0 && token < vocab_size() ? data_.tokens[token] : std::string{};
  }
  const char* kind() const override { return "bpe"; }

 private:
  static bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

  // The longest added token starting at text[i], if any.
  const AddedToken* match_added(std::string_view text, std::size_t i) const {
    if (!added_first_byte_[static_cast<std::uint8_t>(text[i])]) return nullptr;
    const AddedToken* best = nullptr;
    for (const auto& a : data_.added)
      if (!a.content.empty() && text.substr(i, a.content.size()) == a.content &&
          (best == nullptr || a.content.size() > best->content.size()))
        best = &a;
    return best;
  }

  void encode_plain(std::string_view text, std::vector<int>& ids) const {
    if (text.empty()) return;
    std::string prefixed;
    if (data_.pre.add_prefix_space && text.front() != ' ') {
      prefixed.reserve(text.size() + 1);
      prefixed.push_back(' ');
      prefixed.append(text);
      text = prefixed;
    }
    for (std::string_view piece : pre_tokenize(text, data_.pre)) encode_word(piece, ids);
  }

  void encode_word(std::string_view piece, std::vector<int>& ids) const {
    std::string word;
    for (char c : piece) word += byte_symbol_[static_cast<std::uint8_t>(c)];
    {
      std::lock_guard lock(cache_mutex_);
      if (auto it = cache_.find(word); it != cache_.end()) {
        ids.insert(ids.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    std::vector<int> out;
    if (auto whole = vocab_.find(word); data_.ignore_merges && whole != vocab_.end()) {
      out.push_back(whole->second);
    } else {
      out = merge(piece);
    }
    ids.insert(ids.end(), out.begin(), out.end());
    std::lock_guard lock(cache_mutex_);
    if (cache_.size() < kCacheLimit) cache_.emplace(std::move(word), std::move(out));
  }

  // Start from one symbol per byte; repeatedly merge the adjacent pair of lowest rank (leftmost
  // on ties), as tokenizers' BPE::merge_word does.
  std::vector<int> merge(std::string_view piece) const {
    std::vector<int> sym;
    for (char c : piece) {
      auto it = vocab_.find(byte_symbol_[static_cast<std::uint8_t>(c)]);
      if (it != vocab_.end()) {
        sym.push_back(it->second);
      } else if (data_.unk_id >= 0) {
        sym.push_back(data_.unk_id);
      }
    }
    const int n = static_cast<int>(sym.size());
    std::vector<int> next(n), prev(n), version(n, 0);
    std::vector<bool> alive(n, true);
    for (int i = 0; i < n; ++i) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    struct Candidate {
      int rank, left, right, merged, left_version, right_version;
      bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
    auto push = [&](int left) {
      if (left < 0 || next[left] < 0) return;
      const int right = next[left];
      auto it = merges_.find({sym[left], sym[right]});
      if (it != merges_.end())
        heap.push({it->second.first, left, right, it->second.second, version[left], version[right]});
    };
    for (int i = 0; i + 1 < n; ++i) push(i);
    while (!heap.empty()) {
      const Candidate c = heap.top();
      heap.pop();
      if (!alive[c.left] || next[c.left] != c.right || version[c.left] != c.left_version ||
          version[c.right] != c.right_version)
        continue;
      sym[c.left] = c.merged;
      ++version[c.left];
      alive[c.right] = false;
      next[c.left] = next[c.right];
      if (next[c.right] >= 0) prev[next[c.right]] = c.left;
      push(prev[c.left]);
      push(c.left);
    }
    std::vector<int> out;
    for (int i = n > 0 ? 0 : -1; i >= 0; i = next[i]) out.push_back(sym[i]);
    return out;
  }

  static constexpr std::size_t kCacheLimit = 1 << 16;

  BpeModelData data_;
  std::unordered_map<std::string, int> vocab_;
  std::unordered_map<std::pair<int, int>, std::pair<int, int>, PairHash> merges_;
  std::unordered_map<int, const AddedToken*> added_by_id_;
  std::array<std::string, 256> byte_symbol_;
  std::unordered_map<std::uint32_t, std::uint8_t> code_point_to_byte_;
  std::array<bool, 256> added_first_byte_{};
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int>> cache_;  // word -> ids
};

}  // namespace

core::Result<std::unique_ptr<Tokenizer>> make_bpe_tokenizer(BpeModelData data) {
  const int n = static_cast<int>(data.tokens.size());
  if (n == 0) return core::make_error(fmt::format("{}: the vocabulary is empty", data.source));
  for (const auto& a : data.added)
    if (a.id < 0 || a.id >= n)
      return core::make_error(fmt::format("{}: added token '{}' has id {} outside the vocabulary (size {})",
                                          data.source, a.content, a.id, n));
  for (int* id : {&data.bos_id, &data.eos_id, &data.unk_id})
    if (*id >= n) *id = -1;
  return std::unique_ptr<Tokenizer>(std::make_unique<BpeTokenizer>(std::move(data)));
}

}  // namespace squeeze::profiler::tokenizers
