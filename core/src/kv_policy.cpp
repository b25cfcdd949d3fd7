#include "squeeze/core/kv_policy.hpp"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <functional>
#include <limits>
#include <numeric>

#include <fmt/format.h>

namespace squeeze::core {

namespace {

std::string to_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Score of key t of head h as the caller handed it over; a missing row or entry counts as zero so
// that a policy which never reads scores can be prefilled with an empty vector.
double column_score(const std::vector<std::vector<double>>& scores, int h, int t) {
  if (h >= static_cast<int>(scores.size())) return 0.0;
  const auto& row = scores[static_cast<std::size_t>(h)];
  return t < static_cast<int>(row.size()) ? row[static_cast<std::size_t>(t)] : 0.0;
}

// H2O prefill for one head: the `recent` last positions plus the `budget - recent` earlier
// positions with the largest scores (ties: the earlier position wins). Ascending.
std::vector<int> h2o_prefill_keep(int n, int budget, int recent,
                                  const std::vector<std::vector<double>>& scores, int h) {
  const int first_recent = n - recent;
  std::vector<int> older(static_cast<std::size_t>(first_recent));
  std::iota(older.begin(), older.end(), 0);
  const int heavy = budget - recent;
  std::partial_sort(older.begin(), older.begin() + heavy, older.end(), [&](int a, int b) {
    const double sa = column_score(scores, h, a), sb = column_score(scores, h, b);
    return sa != sb ? sa > sb : a < b;
  });
  std::vector<int> keep(older.begin(), older.begin() + heavy);
  for (int t = first_recent; t < n; ++t) keep.push_back(t);
  std::sort(keep.begin(), keep.end());
  return keep;
}

// First slot of the ring that window / StreamingLLM overwrite; StreamingLLM's sinks sit before it.
int ring_start(const PolicySpec& spec) {
  return spec.kind == PolicyKind::StreamingLLM ? spec.sink_tokens : 0;
}

}  // namespace

Result<PolicyKind> parse_policy(const std::string& name) {
  const std::string n = to_lower(name);
  if (n == "full") return PolicyKind::Full;
  if (n == "window" || n == "sliding" || n == "sliding_window" || n == "sliding-window")
    return PolicyKind::SlidingWindow;
  if (n == "streaming" || n == "streamingllm") return PolicyKind::StreamingLLM;
  if (n == "h2o") return PolicyKind::H2O;
  return make_error(
      fmt::format("unknown KV policy '{}' (expected full, window, streaming or h2o)", name), 2);
}

const char* policy_name(PolicyKind kind) {
  switch (kind) {
    case PolicyKind::Full: return "full";
    case PolicyKind::SlidingWindow: return "window";
    case PolicyKind::StreamingLLM: return "streaming";
    case PolicyKind::H2O: return "h2o";
  }
  return "?";
}

Result<LayerKvSelector> LayerKvSelector::create(PolicySpec spec, int budget, int n_kv_heads) {
  const char* name = policy_name(spec.kind);
  if (n_kv_heads < 1)
    return make_error(fmt::format("KV policy {}: n_kv_heads must be at least 1, got {}", name,
                                  n_kv_heads), 2);
  // Full keeps everything, so its budget means nothing and is not checked.
  if (spec.kind != PolicyKind::Full && budget < 1)
    return make_error(fmt::format("KV policy {}: budget must be at least 1 token, got {} (a layer "
                                  "with no cache cannot attend)", name, budget), 2);
  if (spec.sink_tokens < 0)
    return make_error(fmt::format("KV policy {}: sink tokens must not be negative, got {}", name,
                                  spec.sink_tokens), 2);
  if (spec.recent_tokens < -1)
    return make_error(fmt::format("KV policy {}: recent tokens must be >= 0 (or -1 for budget/2), "
                                  "got {}", name, spec.recent_tokens), 2);
  if (spec.kind == PolicyKind::H2O && spec.recent_tokens > budget)
    return make_error(fmt::format("KV policy h2o: recent tokens ({}) exceed the budget ({})",
                                  spec.recent_tokens, budget), 2);
  return LayerKvSelector(spec, budget, n_kv_heads);
}

LayerKvSelector::LayerKvSelector(PolicySpec spec, int budget, int n_kv_heads)
    : spec_(spec), budget_(budget),
      slots_(static_cast<std::size_t>(n_kv_heads)),
      scores_(static_cast<std::size_t>(n_kv_heads)) {
  // Resolve the defaults once so spec() reports what is actually applied.
  if (spec_.kind == PolicyKind::StreamingLLM)
    spec_.sink_tokens = std::min(spec_.sink_tokens, budget_ - 1);
  if (spec_.kind == PolicyKind::H2O && spec_.recent_tokens < 0) spec_.recent_tokens = budget_ / 2;
  next_ring_slot_ = ring_start(spec_);
}

int LayerKvSelector::size() const { return static_cast<int>(slots_.front().size()); }

int LayerKvSelector::capacity() const {
  return spec_.kind == PolicyKind::Full ? size() : budget_;
}

std::vector<int> LayerKvSelector::kept_positions(int kv_head) const {
  std::vector<int> kept = slots_[static_cast<std::size_t>(kv_head)];
  std::sort(kept.begin(), kept.end());
  return kept;
}

void LayerKvSelector::prefill(int n_tokens, const std::vector<std::vector<double>>& column_scores) {
  n_tokens = std::max(n_tokens, 0);
  const bool h2o = spec_.kind == PolicyKind::H2O;
  const bool keep_all = spec_.kind == PolicyKind::Full || n_tokens <= budget_;
  for (int h = 0; h < n_kv_heads(); ++h) {
    std::vector<int> keep;
    if (keep_all) {
      keep.resize(static_cast<std::size_t>(n_tokens));
      std::iota(keep.begin(), keep.end(), 0);
    } else if (spec_.kind == PolicyKind::SlidingWindow) {
      for (int t = n_tokens - budget_; t < n_tokens; ++t) keep.push_back(t);
    } else if (spec_.kind == PolicyKind::StreamingLLM) {
      const int sinks = spec_.sink_tokens;
      for (int t = 0; t < sinks; ++t) keep.push_back(t);
      for (int t = n_tokens - (budget_ - sinks); t < n_tokens; ++t) keep.push_back(t);
    } else {
      keep = h2o_prefill_keep(n_tokens, budget_, spec_.recent_tokens, column_scores, h);
    }
    auto& scores = scores_[static_cast<std::size_t>(h)];
    scores.clear();
    for (int t : keep) scores.push_back(h2o ? column_score(column_scores, h, t) : 0.0);
    slots_[static_cast<std::size_t>(h)] = std::move(keep);
  }
  // Slots hold ascending positions, so the oldest evictable token sits at the first ring slot.
  next_ring_slot_ = ring_start(spec_);
}

int LayerKvSelector::choose_victim_slot(int kv_head) const {
  if (spec_.kind != PolicyKind::H2O) return next_ring_slot_;
  const auto& positions = slots_[static_cast<std::size_t>(kv_head)];
  const auto& scores = scores_[static_cast<std::size_t>(kv_head)];
  // The r-1 most recent held tokens are protected: with the arriving token they make up the
  // recent window of r. Positions are unique, so a threshold identifies them exactly.
  const int protect = std::max(spec_.recent_tokens - 1, 0);
  int threshold = std::numeric_limits<int>::max();
  if (protect > 0) {
    std::vector<int> sorted = positions;
    std::nth_element(sorted.begin(), sorted.begin() + (protect - 1), sorted.end(),
                     std::greater<int>());
    threshold = sorted[static_cast<std::size_t>(protect - 1)];
  }
  int victim = -1;
  for (int i = 0; i < static_cast<int>(positions.size()); ++i) {
    const auto si = static_cast<std::size_t>(i);
    if (positions[si] >= threshold) continue;
    if (victim < 0) { victim = i; continue; }
    const auto sv = static_cast<std::size_t>(victim);
    if (scores[si] < scores[sv] || (scores[si] == scores[sv] && positions[si] < positions[sv]))
      victim = i;
  }
  assert(victim >= 0);  // protect <= budget - 1 < size(), so a candidate always exists
  return victim;
}

std::vector<int> LayerKvSelector::admit(int pos) {
  std::vector<int> written(static_cast<std::size_t>(n_kv_heads()));
  const bool full = spec_.kind != PolicyKind::Full && size() >= budget_;
  for (int h = 0; h < n_kv_heads(); ++h) {
    auto& positions = slots_[static_cast<std::size_t>(h)];
    auto& scores = scores_[static_cast<std::size_t>(h)];
    if (!full) {
      written[static_cast<std::size_t>(h)] = static_cast<int>(positions.size());
      positions.push_back(pos);
      scores.push_back(0.0);
      continue;
    }
    const int slot = choose_victim_slot(h);
    positions[static_cast<std::size_t>(slot)] = pos;
    scores[static_cast<std::size_t>(slot)] = 0.0;
    written[static_cast<std::size_t>(h)] = slot;
  }
  if (full && spec_.kind != PolicyKind::H2O) {
    // The ring covers slots ring_start(spec_)..budget-1; the sinks before it never move.
    next_ring_slot_ = next_ring_slot_ + 1 < budget_ ? next_ring_slot_ + 1 : ring_start(spec_);
  }
  return written;
}

void LayerKvSelector::accumulate(int kv_head, std::span<const double> probs_by_slot) {
  if (spec_.kind != PolicyKind::H2O) return;
  // A wrong head or length is a caller bug; debug builds stop on it, release builds leave the
  // scores untouched rather than read or write out of bounds.
  const bool valid_head = kv_head >= 0 && kv_head < n_kv_heads();
  assert(valid_head && static_cast<int>(probs_by_slot.size()) == size());
  if (!valid_head || static_cast<int>(probs_by_slot.size()) != size()) return;
  auto& scores = scores_[static_cast<std::size_t>(kv_head)];
  for (std::size_t i = 0; i < scores.size(); ++i) scores[i] += probs_by_slot[i];
}

}  // namespace squeeze::core
