// Online mode: prefill with the full cache, then budgets from the prompt's own similarities
// (core::squeeze_budgets) and compression of every layer to its budget; plan validation.
#include <numeric>

#include <gtest/gtest.h>

#include "engine_test_support.hpp"
#include "squeeze/core/layer_budget.hpp"

namespace squeeze::test {
namespace {

TEST(OnlineBudgets, SqueezeBudgetsComeFromThePromptSimilarities) {
  auto weights = load_weights(fixture_dir() / "tiny_llama");
  ASSERT_NE(weights, nullptr);
  auto engine = make_engine(*weights);
  ASSERT_NE(engine, nullptr);
  std::vector<int> prompt(40);
  for (int i = 0; i < 40; ++i) prompt[static_cast<std::size_t>(i)] = 1 + (i * 37) % 250;
  const profiler::CachePlan plan{.policy = {core::PolicyKind::H2O, 4, -1}, .layer_budgets = {}, .budget_fraction = 0.5, .p = 0.3};
  auto seq = engine->add_sequence(plan);
  ASSERT_TRUE(seq.ok());
  auto pre = engine->prefill(*seq, prompt);
  ASSERT_TRUE(pre.ok()) << pre.error().message;
  auto expected = core::squeeze_budgets(pre->layer_similarity, 20, 0.3);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(pre->layer_budgets, expected->budgets);
  EXPECT_EQ(std::accumulate(pre->layer_budgets.begin(), pre->layer_budgets.end(), 0), 3 * 20);
  // The fixture's layer 0 changes its input far more than the others: budgets must differ.
  EXPECT_NE(pre->layer_budgets.front(), pre->layer_budgets.back());
  auto info = engine->sequence_info(*seq);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->layer_capacity, pre->layer_budgets);
  EXPECT_EQ(info->layer_size, pre->layer_budgets);
  ASSERT_TRUE(engine->decode(*seq, 5).ok());
  info = engine->sequence_info(*seq);
  EXPECT_EQ(info->layer_size, pre->layer_budgets);  // full layers evict before admitting
}

TEST(OnlineBudgets, UniformWhenPIsOneAndTokensWinOverFraction) {
  auto weights = load_weights(fixture_dir() / "tiny_llama");
  ASSERT_NE(weights, nullptr);
  auto engine = make_engine(*weights);
  const std::vector<int> prompt(30, 9);
  auto seq = engine->add_sequence({.policy = {core::PolicyKind::SlidingWindow, 4, -1}, .layer_budgets = {},
                                   .budget_fraction = 0.9, .budget_tokens = 6, .p = 1.0});
  ASSERT_TRUE(seq.ok());
  auto pre = engine->prefill(*seq, prompt);
  ASSERT_TRUE(pre.ok());
  EXPECT_EQ(pre->layer_budgets, std::vector<int>(3, 6));
}

TEST(OnlineBudgets, BadPlansAreRejectedWithCode2) {
  auto weights = load_weights(fixture_dir() / "tiny_llama");
  ASSERT_NE(weights, nullptr);
  auto engine = make_engine(*weights);
  const core::PolicySpec h2o{core::PolicyKind::H2O, 4, -1};
  for (const profiler::CachePlan& plan :
       {profiler::CachePlan{.policy = h2o, .layer_budgets = {4, 4}},        // wrong count
        profiler::CachePlan{.policy = h2o, .layer_budgets = {4, 0, 4}},     // zero budget
        profiler::CachePlan{.policy = h2o, .layer_budgets = {}},                                 // no budget at all
        profiler::CachePlan{.policy = h2o, .layer_budgets = {}, .budget_fraction = 0.2, .p = 0.0},
        profiler::CachePlan{.policy = h2o, .layer_budgets = {}, .budget_fraction = 0.2, .p = 1.5}}) {
    auto seq = engine->add_sequence(plan);
    ASSERT_FALSE(seq.ok());
    EXPECT_EQ(seq.error().code, 2) << seq.error().message;
  }
  auto seq = engine->add_sequence({});
  ASSERT_TRUE(seq.ok());
  EXPECT_FALSE(engine->decode(*seq, 3).ok());                       // no prefill yet
  EXPECT_FALSE(engine->prefill(*seq, std::vector<int>{}).ok());      // empty prompt
  EXPECT_FALSE(engine->prefill(*seq, std::vector<int>{1, 9999}).ok());  // out of vocab
  EXPECT_FALSE(engine->sequence_info(12345).ok());
}

}  // namespace
}  // namespace squeeze::test
