// stories260K against an independent numpy port of llama2.c's run.c
// (fixtures/gen_stories260k_golden.py): greedy tokens, logits, layer similarities, tokenizer.
#include <filesystem>

#include <gtest/gtest.h>

#include "engine_test_support.hpp"
#include "squeeze/profiler/sampling.hpp"
#include "squeeze/profiler/tokenizer.hpp"

namespace squeeze::test {
namespace {

class Stories260k : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto bin = stories260k_dir() / "stories260K.bin";
    if (!std::filesystem::exists(bin)) GTEST_SKIP() << bin << " absent (../shared not beside the checkout)";
    golden_ = read_json(fixture_dir() / "stories260k_golden.json");
    weights_ = load_weights(bin);
    ASSERT_NE(weights_, nullptr);
    engine_ = make_engine(*weights_);
    ASSERT_NE(engine_, nullptr);
  }
  nlohmann::json golden_;
  std::unique_ptr<profiler::ModelWeights> weights_;
  std::unique_ptr<profiler::Engine> engine_;
};

TEST_F(Stories260k, GreedyMatchesLlama2cRunC) {
  const auto prompt = ints(golden_["prompt_ids"]);
  const auto expected = ints(golden_["greedy_ids"]);
  auto seq = engine_->add_sequence({});
  ASSERT_TRUE(seq.ok());
  auto pre = engine_->prefill(*seq, prompt);
  ASSERT_TRUE(pre.ok()) << pre.error().message;
  // run.c works in fp32 throughout, the engine sums in fp64: the logits agree to ~1e-5 of
  // their spread (|logit| ~ 10), so 1e-4 absolute is a real check.
  EXPECT_LE(tolerance_ratio(pre->logits, floats(golden_["first_logits"]), 1e-4, 1e-5), 1.0);
  std::vector<int> generated;
  std::vector<float> logits = pre->logits;
  // run.c stops at BOS or after 256 positions (the golden's length); so do we.
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const int next = profiler::argmax(logits);
    if (next == 1) break;
    generated.push_back(next);
    auto step = engine_->decode(*seq, next);
    ASSERT_TRUE(step.ok()) << step.error().message;
    logits = std::move(step).value();
  }
  std::size_t first_difference = 0;
  while (first_difference < std::min(generated.size(), expected.size()) &&
         generated[first_difference] == expected[first_difference])
    ++first_difference;
  EXPECT_EQ(generated, expected) << "first difference at generated token " << first_difference;
}

TEST_F(Stories260k, LayerSimilarityMatchesReference) {
  auto seq = engine_->add_sequence({});
  ASSERT_TRUE(seq.ok());
  auto pre = engine_->prefill(*seq, ints(golden_["prompt_ids"]));
  ASSERT_TRUE(pre.ok());
  const auto expected = golden_["layer_similarity"].get<std::vector<double>>();
  ASSERT_EQ(pre->layer_similarity.size(), expected.size());
  for (std::size_t l = 0; l < expected.size(); ++l)
    EXPECT_NEAR(pre->layer_similarity[l], expected[l], 1e-5) << "layer " << l;
}

TEST_F(Stories260k, TokenizerAndStoryAboutLily) {
  auto tokenizer = profiler::load_tokenizer((stories260k_dir() / "stories260K.bin").string());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.error().message;
  EXPECT_EQ((*tokenizer)->encode(golden_["prompt"].get<std::string>(), true), ints(golden_["prompt_ids"]));
  const auto ids = ints(golden_["greedy_ids"]);
  EXPECT_NE((*tokenizer)->decode(ids).find("Lily"), std::string::npos);
}

TEST_F(Stories260k, BatchedSequencesOfDifferentLengthsMatchSingleRuns) {
  const std::vector<std::vector<int>> prompts = {{1, 403, 407, 261, 378}, {1, 403, 407}};
  // Reference: each sequence alone.
  std::vector<std::vector<std::vector<float>>> alone(2);
  for (int s = 0; s < 2; ++s) {
    auto id = engine_->add_sequence({});
    ASSERT_TRUE(id.ok());
    auto pre = engine_->prefill(*id, prompts[static_cast<std::size_t>(s)]);
    ASSERT_TRUE(pre.ok());
    alone[static_cast<std::size_t>(s)].push_back(pre->logits);
    for (int step = 0; step < 6; ++step) {
      auto out = engine_->decode(*id, profiler::argmax(alone[static_cast<std::size_t>(s)].back()));
      ASSERT_TRUE(out.ok());
      alone[static_cast<std::size_t>(s)].push_back(*out);
    }
  }
  auto a = engine_->add_sequence({}), b = engine_->add_sequence({});
  ASSERT_TRUE(a.ok() && b.ok());
  const std::vector<profiler::SequenceId> ids = {*a, *b};
  auto pre = engine_->prefill(ids, prompts, {});
  ASSERT_TRUE(pre.ok());
  std::vector<std::vector<float>> last = {(*pre)[0].logits, (*pre)[1].logits};
  for (int step = 0; step < 6; ++step) {
    for (std::size_t s = 0; s < 2; ++s)
      EXPECT_LE(tolerance_ratio(last[s], alone[s][static_cast<std::size_t>(step)], 1e-6, 1e-6), 1.0)
          << "sequence " << s << " step " << step;
    const std::vector<int> tokens = {profiler::argmax(last[0]), profiler::argmax(last[1])};
    auto out = engine_->decode(ids, tokens);
    ASSERT_TRUE(out.ok()) << out.error().message;
    last = std::move(out).value();
  }
  auto info = engine_->sequence_info(*b);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->length, 3 + 6);
}

}  // namespace
}  // namespace squeeze::test
