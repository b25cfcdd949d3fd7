#pragma once
// Reference sequence policies (DESIGN.md §2): which tokens each KV head of one layer of one
// sequence keeps under a budget. Simple and obviously right; the CPU engine evicts through it and
// the CUDA kernels are tested against its decisions, slot for slot.
//
// Slot model (shared with the engines, so decisions compare exactly):
//  - A head's cache is an array of `capacity()` slots; slot i holds the absolute position
//    slot_positions(h)[i]. Keys are stored after RoPE at that position; eviction never moves them.
//  - prefill(n, scores): the whole prompt 0..n-1 was attended with a full cache (online mode). The
//    kept positions are written to slots 0..k-1 in ascending position order.
//  - admit(pos): a decode token arrives. If the head is full, one occupant is evicted *before* the
//    new token is written and the new token takes its slot (ring buffer for window/StreamingLLM,
//    victim's slot for H2O), so a layer never holds more than its budget. Then the new query
//    attends over slots 0..size()-1 and accumulate() adds its probabilities (H2O).
//  - full: capacity grows without bound; admit appends at slot size().

#include <span>
#include <string>
#include <vector>

#include "squeeze/core/result.hpp"

namespace squeeze::core {

enum class PolicyKind { Full, SlidingWindow, StreamingLLM, H2O };

// "full", "window" (also "sliding", "sliding_window"), "streaming" (also "streamingllm"), "h2o".
[[nodiscard]] Result<PolicyKind> parse_policy(const std::string& name);
[[nodiscard]] const char* policy_name(PolicyKind kind);  // canonical: full, window, streaming, h2o

struct PolicySpec {
  PolicyKind kind = PolicyKind::Full;
  int sink_tokens = 4;     // StreamingLLM: first s positions always kept (clamped to budget - 1)
  int recent_tokens = -1;  // H2O: r most recent kept; -1 means budget / 2
};

class LayerKvSelector {
 public:
  // budget: tokens kept per sequence in this layer (ignored for Full). Errors: budget < 1,
  // n_kv_heads < 1, negative sinks, recent_tokens > budget.
  [[nodiscard]] static Result<LayerKvSelector> create(PolicySpec spec, int budget, int n_kv_heads);

  // column_scores[h][t]: accumulated softmax probability on key t over all prompt queries (and the
  // query heads of KV group h). Only H2O reads them; others may pass an empty vector.
  void prefill(int n_tokens, const std::vector<std::vector<double>>& column_scores);

  // A decode token at absolute position `pos` (> every position held) arrives. Returns the slot it
  // was written to, per KV head (heads differ under H2O).
  std::vector<int> admit(int pos);

  // H2O: add the new query's attention probabilities, indexed by slot (0..size()-1), summed over
  // the group's query heads. Other policies ignore it.
  void accumulate(int kv_head, std::span<const double> probs_by_slot);

  [[nodiscard]] int size() const;      // tokens held per head (all heads hold the same count)
  [[nodiscard]] int capacity() const;  // budget (Full: current size)
  [[nodiscard]] int n_kv_heads() const { return static_cast<int>(slots_.size()); }
  [[nodiscard]] std::span<const int> slot_positions(int kv_head) const { return slots_[kv_head]; }
  [[nodiscard]] std::span<const double> slot_scores(int kv_head) const { return scores_[kv_head]; }
  [[nodiscard]] std::vector<int> kept_positions(int kv_head) const;  // ascending
  [[nodiscard]] const PolicySpec& spec() const { return spec_; }
  [[nodiscard]] int budget() const { return budget_; }

 private:
  LayerKvSelector(PolicySpec spec, int budget, int n_kv_heads);
  int choose_victim_slot(int kv_head) const;

  PolicySpec spec_;
  int budget_ = 0;
  int next_ring_slot_ = 0;                   // window / StreamingLLM: next slot to overwrite
  std::vector<std::vector<int>> slots_;      // (kv_heads, size): absolute position per slot
  std::vector<std::vector<double>> scores_;  // (kv_heads, size): H2O accumulated attention
};

}  // namespace squeeze::core
