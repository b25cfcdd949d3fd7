// Eviction: the engine's kept positions equal a fresh core::LayerKvSelector fed the same
// probabilities; budgets that hold everything change nothing.
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "engine_test_support.hpp"
#include "squeeze/core/kv_policy.hpp"

namespace squeeze::test {
namespace {

using core::PolicyKind;

std::vector<int> random_tokens(int n, int vocab, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<int> t{1};
  for (int i = 1; i < n; ++i) t.push_back(3 + static_cast<int>(rng() % static_cast<unsigned>(vocab - 3)));
  return t;
}

class Eviction : public ::testing::TestWithParam<PolicyKind> {
 protected:
  void SetUp() override {
    weights_ = load_weights(fixture_dir() / "tiny_llama");
    ASSERT_NE(weights_, nullptr);
  }
  std::unique_ptr<profiler::ModelWeights> weights_;
};

TEST_P(Eviction, KeptPositionsEqualAFreshSelectorReplayingTheProbabilities) {
  const auto& cfg = weights_->config;
  // Different budgets per layer, all below the prompt length, so prefill already evicts.
  const std::vector<int> budgets = {7, 11, 5};
  ASSERT_EQ(static_cast<int>(budgets.size()), cfg.n_layers);
  core::PolicySpec spec{GetParam(), 2, -1};

  std::map<int, std::vector<std::vector<double>>> prefill_columns;                  // layer
  std::vector<std::tuple<int, int, std::vector<double>>> decode_probs;             // layer, head
  profiler::CpuEngineOptions options;
  options.observer.on_prefill = [&](profiler::SequenceId, int layer, const auto& columns) {
    prefill_columns[layer] = columns;
  };
  options.observer.on_decode = [&](profiler::SequenceId, int layer, int head, std::span<const double> p) {
    decode_probs.emplace_back(layer, head, std::vector<double>(p.begin(), p.end()));
  };
  auto engine = make_engine(*weights_, options);
  ASSERT_NE(engine, nullptr);
  auto seq = engine->add_sequence({.policy = spec, .layer_budgets = budgets});
  ASSERT_TRUE(seq.ok()) << seq.error().message;
  const auto tokens = random_tokens(40, cfg.vocab, 7);
  const int prompt_len = 16;
  auto pre = engine->prefill(*seq, std::span<const int>(tokens.data(), prompt_len));
  ASSERT_TRUE(pre.ok()) << pre.error().message;
  EXPECT_EQ(pre->layer_budgets, budgets);

  // Replay into fresh selectors, step by step, comparing every head after every step.
  std::vector<core::LayerKvSelector> reference;
  for (int l = 0; l < cfg.n_layers; ++l) {
    auto sel = core::LayerKvSelector::create(spec, budgets[static_cast<std::size_t>(l)], cfg.n_kv_heads);
    ASSERT_TRUE(sel.ok());
    reference.push_back(std::move(sel).value());
    reference.back().prefill(prompt_len, prefill_columns.at(l));
  }
  auto compare = [&](const char* when) {
    for (int l = 0; l < cfg.n_layers; ++l)
      for (int h = 0; h < cfg.n_kv_heads; ++h) {
        auto kept = engine->kept_positions(*seq, l, h);
        ASSERT_TRUE(kept.ok());
        EXPECT_EQ(*kept, reference[static_cast<std::size_t>(l)].kept_positions(h))
            << when << " layer " << l << " head " << h;
      }
  };
  compare("after prefill");
  std::size_t cursor = 0;
  for (int t = prompt_len; t < static_cast<int>(tokens.size()); ++t) {
    ASSERT_TRUE(engine->decode(*seq, tokens[static_cast<std::size_t>(t)]).ok());
    for (auto& sel : reference) (void)sel.admit(t);
    for (; cursor < decode_probs.size(); ++cursor) {
      const auto& [layer, head, probs] = decode_probs[cursor];
      reference[static_cast<std::size_t>(layer)].accumulate(head, probs);
    }
    compare("after decode");
  }
  // The cache really is the budget: capacity per layer, bytes = sum of budgets.
  auto info = engine->sequence_info(*seq);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->layer_capacity, budgets);
  EXPECT_EQ(info->layer_size, budgets);
  EXPECT_EQ(info->kv_bytes, static_cast<std::int64_t>(7 + 11 + 5) * cfg.kv_dim() * 2 * 4);
  if (GetParam() == PolicyKind::H2O) {
    // Heads see different attention, so H2O should not keep identical sets everywhere.
    bool differ = false;
    for (int l = 0; l < cfg.n_layers; ++l)
      differ |= *engine->kept_positions(*seq, l, 0) != *engine->kept_positions(*seq, l, 1);
    EXPECT_TRUE(differ);
  }
}

TEST_P(Eviction, BudgetHoldingEverythingGivesTheFullCacheLogits) {
  const auto& cfg = weights_->config;
  const auto tokens = random_tokens(30, cfg.vocab, 11);
  const int prompt_len = 12;
  auto run = [&](const profiler::CachePlan& plan) {
    auto engine = make_engine(*weights_);
    std::vector<std::vector<float>> all;
    auto seq = engine->add_sequence(plan);
    EXPECT_TRUE(seq.ok());
    auto pre = engine->prefill(*seq, std::span<const int>(tokens.data(), prompt_len));
    EXPECT_TRUE(pre.ok());
    all.push_back(pre->logits);
    for (std::size_t t = prompt_len; t < tokens.size(); ++t) all.push_back(*engine->decode(*seq, tokens[t]));
    return all;
  };
  const auto full = run({});
  const int everything = static_cast<int>(tokens.size());
  const auto budgeted = run({.policy = {GetParam(), 4, -1},
                             .layer_budgets = std::vector<int>(static_cast<std::size_t>(cfg.n_layers), everything)});
  ASSERT_EQ(full.size(), budgeted.size());
  // Same slots in the same order: the arithmetic is identical, so equality is exact.
  for (std::size_t i = 0; i < full.size(); ++i) EXPECT_EQ(full[i], budgeted[i]) << "step " << i;

  // And a budget that does evict changes the logits (the test above is not vacuous).
  const auto tight = run({.policy = {GetParam(), 1, -1},
                          .layer_budgets = std::vector<int>(static_cast<std::size_t>(cfg.n_layers), 4)});
  EXPECT_NE(full.back(), tight.back());
}

// Independent of LayerKvSelector: transformers with 4-D masks that let each decode query see
// exactly the positions the policy keeps (fixtures/gen_masked_eviction_golden.py).
TEST(EvictionVsTransformersMasks, WindowAndStreamingLogitsMatch) {
  auto weights = load_weights(fixture_dir() / "tiny_llama");
  ASSERT_NE(weights, nullptr);
  const auto golden = read_json(fixture_dir() / "tiny_llama" / "eviction_golden.json");
  const auto tokens = ints(golden["tokens"]);
  const int prompt_len = golden["prompt_len"].get<int>();
  const int budget = golden["budget"].get<int>();
  for (const auto& [name, kind] : {std::pair{"window", PolicyKind::SlidingWindow},
                                   std::pair{"streaming", PolicyKind::StreamingLLM}}) {
    auto engine = make_engine(*weights);
    ASSERT_NE(engine, nullptr);
    profiler::CachePlan plan;
    plan.policy = {kind, golden["sink_tokens"].get<int>(), -1};
    plan.layer_budgets.assign(static_cast<std::size_t>(weights->config.n_layers), budget);
    auto seq = engine->add_sequence(plan);
    ASSERT_TRUE(seq.ok());
    auto pre = engine->prefill(*seq, std::span<const int>(tokens.data(), static_cast<std::size_t>(prompt_len)));
    ASSERT_TRUE(pre.ok());
    const auto& expected = golden[name];
    // fp32 on both sides in different orders: rtol 1e-4 as for the other transformers goldens.
    EXPECT_LE(tolerance_ratio(pre->logits, floats(expected[0]), 1e-5, 1e-4), 1.0) << name << " prefill";
    for (std::size_t t = static_cast<std::size_t>(prompt_len); t + 1 < tokens.size(); ++t) {
      auto logits = engine->decode(*seq, tokens[t]);
      ASSERT_TRUE(logits.ok());
      EXPECT_LE(tolerance_ratio(*logits, floats(expected[t - static_cast<std::size_t>(prompt_len) + 1]), 1e-5, 1e-4),
                1.0) << name << " position " << t;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, Eviction,
                         ::testing::Values(PolicyKind::SlidingWindow, PolicyKind::StreamingLLM,
                                           PolicyKind::H2O),
                         [](const auto& info) { return std::string(core::policy_name(info.param)); });

}  // namespace
}  // namespace squeeze::test
