// LayerKvSelector against brute-force recomputations written over positions (not slots), on
// crafted and random token streams.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "squeeze/core/kv_policy.hpp"

using squeeze::core::LayerKvSelector;
using squeeze::core::parse_policy;
using squeeze::core::policy_name;
using squeeze::core::PolicyKind;
using squeeze::core::PolicySpec;

namespace {

std::vector<int> range(int first, int last) {  // [first, last)
  std::vector<int> v;
  for (int t = first; t < last; ++t) v.push_back(t);
  return v;
}

LayerKvSelector make(PolicySpec spec, int budget, int heads) {
  auto r = LayerKvSelector::create(spec, budget, heads);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return std::move(r).value();
}

// Slots may only change where admit() says it wrote: keys never move once cached.
void expect_only_slot_changed(const std::vector<int>& before, std::span<const int> after, int slot,
                              int pos) {
  ASSERT_EQ(static_cast<int>(after.size()), std::max(static_cast<int>(before.size()), slot + 1));
  for (int i = 0; i < static_cast<int>(after.size()); ++i) {
    if (i == slot) EXPECT_EQ(after[i], pos);
    else EXPECT_EQ(after[i], before[i]) << "slot " << i << " moved";
  }
}

// ---- window and StreamingLLM: the kept set is a closed formula over the positions seen --------

std::vector<int> expected_streaming(int seen, int budget, int sinks) {
  if (seen <= budget) return range(0, seen);
  auto kept = range(0, sinks);
  for (int t = seen - (budget - sinks); t < seen; ++t) kept.push_back(t);
  return kept;
}

void run_ring_policy(PolicyKind kind, int prompt, int budget, int sinks, int heads, int decode) {
  PolicySpec spec{kind, sinks, -1};
  auto sel = make(spec, budget, heads);
  const int s = kind == PolicyKind::StreamingLLM ? std::min(sinks, budget - 1) : 0;
  sel.prefill(prompt, {});
  for (int h = 0; h < heads; ++h) {
    EXPECT_EQ(sel.kept_positions(h), expected_streaming(prompt, budget, s));
    // Prefill writes kept positions to slots 0..k-1 in ascending order.
    auto slots = sel.slot_positions(h);
    EXPECT_TRUE(std::is_sorted(slots.begin(), slots.end()));
  }
  for (int pos = prompt; pos < prompt + decode; ++pos) {
    const std::vector<int> before(sel.slot_positions(0).begin(), sel.slot_positions(0).end());
    const auto written = sel.admit(pos);
    ASSERT_EQ(static_cast<int>(written.size()), heads);
    if (static_cast<int>(before.size()) == budget) {
      // The victim is the oldest evictable position: never a sink.
      const int victim = before[static_cast<std::size_t>(written[0])];
      EXPECT_GE(written[0], s);
      const int oldest_non_sink = *std::min_element(before.begin() + s, before.end());
      EXPECT_EQ(victim, oldest_non_sink);
    }
    expect_only_slot_changed(before, sel.slot_positions(0), written[0], pos);
    for (int h = 0; h < heads; ++h) {
      EXPECT_EQ(written[h], written[0]) << "ring policies treat every head alike";
      EXPECT_EQ(sel.kept_positions(h), expected_streaming(pos + 1, budget, s)) << "pos " << pos;
    }
    EXPECT_LE(sel.size(), budget);
  }
}

TEST(KvPolicy, WindowKeepsTheLastBudgetPositions) {
  run_ring_policy(PolicyKind::SlidingWindow, 40, 16, 0, 2, 100);
  run_ring_policy(PolicyKind::SlidingWindow, 5, 16, 0, 1, 50);   // prompt shorter than budget
  run_ring_policy(PolicyKind::SlidingWindow, 16, 16, 0, 4, 33);  // prompt exactly the budget
}

TEST(KvPolicy, StreamingKeepsSinksPlusTheMostRecent) {
  run_ring_policy(PolicyKind::StreamingLLM, 40, 16, 4, 2, 100);
  run_ring_policy(PolicyKind::StreamingLLM, 2, 10, 4, 1, 30);   // prompt shorter than the sinks
  run_ring_policy(PolicyKind::StreamingLLM, 30, 5, 9, 8, 40);   // sinks clamped to budget - 1
}

TEST(KvPolicy, StreamingClampsSinksToBudgetMinusOne) {
  auto sel = make({PolicyKind::StreamingLLM, 9, -1}, 5, 1);
  EXPECT_EQ(sel.spec().sink_tokens, 4);
  sel.prefill(20, {});
  EXPECT_EQ(sel.kept_positions(0), (std::vector<int>{0, 1, 2, 3, 19}));
  sel.admit(20);
  EXPECT_EQ(sel.kept_positions(0), (std::vector<int>{0, 1, 2, 3, 20}));
}

TEST(KvPolicy, FullKeepsEverythingAndGrows) {
  auto sel = make({PolicyKind::Full, 4, -1}, 3, 2);
  sel.prefill(10, {});
  EXPECT_EQ(sel.capacity(), 10);
  for (int pos = 10; pos < 50; ++pos) {
    const auto written = sel.admit(pos);
    EXPECT_EQ(written, (std::vector<int>{pos, pos}));  // appended, never evicted
  }
  EXPECT_EQ(sel.kept_positions(1), range(0, 50));
  EXPECT_EQ(sel.capacity(), 50);
}

TEST(KvPolicy, BudgetOfOneHoldsOneTokenAndDecodeReplacesIt) {
  for (PolicyKind kind : {PolicyKind::SlidingWindow, PolicyKind::StreamingLLM, PolicyKind::H2O}) {
    auto sel = make({kind, 4, -1}, 1, 2);
    std::vector<std::vector<double>> scores(2, std::vector<double>(7, 1.0));
    scores[0][2] = scores[1][2] = 3.0;
    sel.prefill(7, scores);
    // H2O with b = 1 has r = b / 2 = 0 recent slots: its one slot goes to the heaviest key.
    const int kept = kind == PolicyKind::H2O ? 2 : 6;
    EXPECT_EQ(sel.kept_positions(0), std::vector<int>{kept}) << policy_name(kind);
    for (int pos = 7; pos < 12; ++pos) {
      EXPECT_EQ(sel.admit(pos), (std::vector<int>{0, 0}));
      EXPECT_EQ(sel.kept_positions(1), std::vector<int>{pos}) << policy_name(kind);
    }
  }
}

// ---- H2O: a naive simulation over positions -------------------------------------------------

// Per head: position -> accumulated score. Written without slots, without partial sorts and
// without thresholds, so it shares no code path with the selector.
struct NaiveH2O {
  int budget, recent;
  std::map<int, double> held;

  void prefill(int n, const std::vector<double>& scores) {
    held.clear();
    for (int t = 0; t < n; ++t) {
      bool keep = n <= budget || t >= n - recent;
      if (!keep) {
        // Rank among the older positions: how many beat t (higher score, or equal and earlier).
        int better = 0;
        for (int u = 0; u < n - recent; ++u)
          if (scores[u] > scores[t] || (scores[u] == scores[t] && u < t)) ++better;
        keep = better < budget - recent;
      }
      if (keep) held[t] = scores[t];
    }
  }

  void admit(int pos) {
    if (static_cast<int>(held.size()) == budget) {
      // Protect the recent-1 newest held positions (map is ordered: walk from the back).
      std::set<int> protected_pos;
      for (auto it = held.rbegin(); it != held.rend() && (int)protected_pos.size() < recent - 1; ++it)
        protected_pos.insert(it->first);
      int victim = -1;
      double best = 0;
      for (const auto& [p, s] : held) {  // ascending positions: strict < keeps the oldest on ties
        if (protected_pos.count(p)) continue;
        if (victim < 0 || s < best) { victim = p; best = s; }
      }
      held.erase(victim);
    }
    held[pos] = 0.0;
  }

  std::vector<int> kept() const {
    std::vector<int> v;
    for (const auto& kv : held) v.push_back(kv.first);
    return v;
  }
};

// Runs selector and naive model side by side. `integer_scores` makes ties frequent so the
// tie-breaking rule is exercised, not just the ordering.
void run_h2o(int prompt, int budget, int recent_spec, int heads, int decode, unsigned seed,
             bool integer_scores) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> real(0.0, 1.0);
  std::uniform_int_distribution<int> small(0, 3);
  auto draw = [&] { return integer_scores ? static_cast<double>(small(rng)) : real(rng); };

  auto sel = make({PolicyKind::H2O, 4, recent_spec}, budget, heads);
  const int recent = recent_spec < 0 ? budget / 2 : recent_spec;
  EXPECT_EQ(sel.spec().recent_tokens, recent);
  std::vector<NaiveH2O> naive(heads, NaiveH2O{budget, recent, {}});

  std::vector<std::vector<double>> prompt_scores(heads, std::vector<double>(prompt));
  for (auto& row : prompt_scores)
    for (auto& x : row) x = draw();
  sel.prefill(prompt, prompt_scores);
  for (int h = 0; h < heads; ++h) {
    naive[h].prefill(prompt, prompt_scores[h]);
    ASSERT_EQ(sel.kept_positions(h), naive[h].kept()) << "after prefill, head " << h;
    for (int i = 0; i < sel.size(); ++i)  // scores travel with their positions
      EXPECT_EQ(sel.slot_scores(h)[i], prompt_scores[h][sel.slot_positions(h)[i]]);
  }

  for (int pos = prompt; pos < prompt + decode; ++pos) {
    std::vector<std::vector<int>> before;
    for (int h = 0; h < heads; ++h)
      before.emplace_back(sel.slot_positions(h).begin(), sel.slot_positions(h).end());
    const auto written = sel.admit(pos);
    for (int h = 0; h < heads; ++h) {
      naive[h].admit(pos);
      expect_only_slot_changed(before[h], sel.slot_positions(h), written[h], pos);
      EXPECT_EQ(sel.slot_scores(h)[written[h]], 0.0) << "a new token's score starts at zero";
      ASSERT_EQ(sel.kept_positions(h), naive[h].kept()) << "pos " << pos << " head " << h;
      // The new query's probabilities, drawn per position and handed over by slot.
      std::vector<double> probs(sel.size());
      for (int i = 0; i < sel.size(); ++i) {
        probs[i] = draw();
        naive[h].held[sel.slot_positions(h)[i]] += probs[i];
      }
      sel.accumulate(h, probs);
      for (int i = 0; i < sel.size(); ++i)
        EXPECT_DOUBLE_EQ(sel.slot_scores(h)[i], naive[h].held[sel.slot_positions(h)[i]]);
    }
    EXPECT_LE(sel.size(), budget);
  }
}

TEST(KvPolicy, H2OMatchesNaiveSimulationOnRandomStreams) {
  unsigned seed = 1;
  for (int budget : {2, 3, 8, 17}) {
    for (int recent : {-1, 0, 1, budget}) {
      run_h2o(40, budget, recent, 2, 60, seed++, false);
      run_h2o(40, budget, recent, 1, 60, seed++, true);
    }
  }
}

TEST(KvPolicy, H2OPromptShorterThanBudgetKeepsAllThenEvicts) {
  run_h2o(5, 12, -1, 4, 40, 77, false);
  run_h2o(12, 12, -1, 4, 40, 78, true);
}

TEST(KvPolicy, H2OHeavyHitterSurvivesAndHeadsDiverge) {
  // Head 0 piles attention on position 1, head 1 on position 2; both keep their own heavy hitter.
  auto sel = make({PolicyKind::H2O, 4, 2}, 4, 2);
  std::vector<std::vector<double>> scores = {{0.1, 5.0, 0.2, 0.3, 0.1, 0.1, 0.1, 0.1},
                                             {0.1, 0.2, 5.0, 0.3, 0.1, 0.1, 0.1, 0.1}};
  sel.prefill(8, scores);
  // r = 2 recent (6, 7) + 2 heavy: head 0 -> {1, 3}, head 1 -> {2, 3}.
  EXPECT_EQ(sel.kept_positions(0), (std::vector<int>{1, 3, 6, 7}));
  EXPECT_EQ(sel.kept_positions(1), (std::vector<int>{2, 3, 6, 7}));
  for (int pos = 8; pos < 30; ++pos) {
    sel.admit(pos);
    for (int h = 0; h < 2; ++h) {
      std::vector<double> probs(sel.size(), 0.01);
      sel.accumulate(h, probs);
    }
  }
  const auto k0 = sel.kept_positions(0), k1 = sel.kept_positions(1);
  EXPECT_TRUE(std::count(k0.begin(), k0.end(), 1));
  EXPECT_FALSE(std::count(k0.begin(), k0.end(), 2));
  EXPECT_TRUE(std::count(k1.begin(), k1.end(), 2));
  EXPECT_FALSE(std::count(k1.begin(), k1.end(), 1));
  EXPECT_NE(k0, k1);
}

TEST(KvPolicy, H2OTiesEvictTheOldestPosition) {
  // Equal scores: the earlier position wins a place at prefill and is evicted first at decode.
  auto sel = make({PolicyKind::H2O, 4, 1}, 3, 1);
  sel.prefill(6, {{1, 1, 1, 1, 1, 1}});
  EXPECT_EQ(sel.kept_positions(0), (std::vector<int>{0, 1, 5}));  // ties: earlier wins
  sel.admit(6);  // r - 1 = 0 held tokens protected; all scores equal -> the oldest (0) goes
  EXPECT_EQ(sel.kept_positions(0), (std::vector<int>{1, 5, 6}));
  sel.admit(7);  // 6 never gained attention (score 0): it is now the lowest and is evicted
  EXPECT_EQ(sel.kept_positions(0), (std::vector<int>{1, 5, 7}));
}

TEST(KvPolicy, AccumulateIgnoredOutsideH2O) {
  auto sel = make({PolicyKind::SlidingWindow, 4, -1}, 4, 1);
  sel.prefill(4, {});
  const std::vector<double> probs(4, 0.5);
  sel.accumulate(0, probs);
  for (double s : sel.slot_scores(0)) EXPECT_EQ(s, 0.0);
}

// ---- names and errors ----------------------------------------------------------------------

TEST(KvPolicy, ParsesNamesAndRoundTrips) {
  for (PolicyKind k : {PolicyKind::Full, PolicyKind::SlidingWindow, PolicyKind::StreamingLLM,
                       PolicyKind::H2O}) {
    auto parsed = parse_policy(policy_name(k));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, k);
  }
  EXPECT_EQ(*parse_policy("sliding_window"), PolicyKind::SlidingWindow);
  EXPECT_EQ(*parse_policy("sliding"), PolicyKind::SlidingWindow);
  EXPECT_EQ(*parse_policy("StreamingLLM"), PolicyKind::StreamingLLM);
  EXPECT_EQ(*parse_policy("H2O"), PolicyKind::H2O);
  auto bad = parse_policy("lru");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("lru"), std::string::npos);
  EXPECT_NE(bad.error().message.find("h2o"), std::string::npos);
}

TEST(KvPolicy, CreateRejectsBadArguments) {
  auto expect_error = [](PolicySpec spec, int budget, int heads, const char* needle) {
    auto r = LayerKvSelector::create(spec, budget, heads);
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  expect_error({PolicyKind::SlidingWindow, 4, -1}, 0, 1, "budget");
  expect_error({PolicyKind::H2O, 4, -1}, -3, 1, "budget");
  expect_error({PolicyKind::H2O, 4, -1}, 8, 0, "n_kv_heads");
  expect_error({PolicyKind::StreamingLLM, -1, -1}, 8, 1, "sink");
  expect_error({PolicyKind::H2O, 4, 9}, 8, 1, "recent");
  expect_error({PolicyKind::H2O, 4, -2}, 8, 1, "recent");
  // Full ignores its budget; recent == budget is allowed (H2O degenerates to a window).
  EXPECT_TRUE(LayerKvSelector::create({PolicyKind::Full, 4, -1}, 0, 1).ok());
  EXPECT_TRUE(LayerKvSelector::create({PolicyKind::H2O, 4, 8}, 8, 1).ok());
}

}  // namespace
