// Tiny random Hugging Face models (fixtures/gen_hf_fixtures.py: Llama, Mistral, Llama with llama3
// rope scaling, Qwen2 with q/k/v biases) against transformers' own outputs: hidden states,
// per-layer similarity from forward hooks, logits at every position (prefill and decode paths),
// greedy tokens, teacher-forced NLL.
#include <cmath>
#include <map>

#include <gtest/gtest.h>

#include "engine_test_support.hpp"
#include "squeeze/profiler/quality.hpp"
#include "squeeze/profiler/sampling.hpp"

namespace squeeze::test {
namespace {

// fp32 on both sides, different summation orders: rtol 1e-4 (atol for values near zero).
constexpr double kRtol = 1e-4;
constexpr double kAtol = 1e-5;

class HfGolden : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fixture_dir() / GetParam();
    golden_ = read_json(dir_ / "golden.json");
    weights_ = load_weights(dir_);
    ASSERT_NE(weights_, nullptr);
    tokens_ = ints(golden_["tokens"]);
  }
  std::filesystem::path dir_;
  nlohmann::json golden_;
  std::unique_ptr<profiler::ModelWeights> weights_;
  std::vector<int> tokens_;
};

TEST_P(HfGolden, HiddenStatesAndSimilarityMatchTransformers) {
  std::map<int, std::vector<float>> residual;  // layer -> (n, hidden)
  profiler::CpuEngineOptions options;
  options.observer.on_layer_input = [&](profiler::SequenceId, int layer, std::span<const float> x) {
    residual[layer].assign(x.begin(), x.end());
  };
  auto engine = make_engine(*weights_, options);
  ASSERT_NE(engine, nullptr);
  auto seq = engine->add_sequence({});
  ASSERT_TRUE(seq.ok());
  auto pre = engine->prefill(*seq, tokens_, {.position_similarities = true});
  ASSERT_TRUE(pre.ok()) << pre.error().message;

  const int hidden = weights_->config.hidden;
  for (const auto& [layer_key, by_position] : golden_["hidden_states"].items()) {
    const int layer = std::stoi(layer_key);
    for (const auto& [pos_key, values] : by_position.items()) {
      const int pos = std::stoi(pos_key);
      const auto& x = residual.at(layer);
      std::vector<float> ours(x.begin() + pos * hidden, x.begin() + (pos + 1) * hidden);
      EXPECT_LE(tolerance_ratio(ours, floats(values), kAtol, kRtol), 1.0)
          << "layer " << layer << " position " << pos;
    }
  }
  const auto sim = golden_["layer_similarity"].get<std::vector<double>>();
  const auto sim_pos = golden_["position_similarity"].get<std::vector<std::vector<double>>>();
  ASSERT_EQ(pre->layer_similarity.size(), sim.size());
  ASSERT_EQ(pre->position_similarity.size(), sim.size());
  for (std::size_t l = 0; l < sim.size(); ++l) {
    EXPECT_NEAR(pre->layer_similarity[l], sim[l], 1e-5) << "layer " << l;
    for (std::size_t t = 0; t < sim_pos[l].size(); ++t)
      EXPECT_NEAR(pre->position_similarity[l][t], sim_pos[l][t], 1e-5) << "layer " << l << " t " << t;
  }
}

TEST_P(HfGolden, H2oPrefillScoresAreTransformersAttentionColumnSums) {
  std::map<int, std::vector<std::vector<double>>> columns;
  profiler::CpuEngineOptions options;
  options.observer.on_prefill = [&](profiler::SequenceId, int layer, const auto& c) { columns[layer] = c; };
  auto engine = make_engine(*weights_, options);
  ASSERT_NE(engine, nullptr);
  auto seq = engine->add_sequence({});
  ASSERT_TRUE(seq.ok());
  ASSERT_TRUE(engine->prefill(*seq, tokens_).ok());
  const auto expected = golden_["column_scores"].get<std::vector<std::vector<std::vector<double>>>>();
  ASSERT_EQ(columns.size(), expected.size());
  for (std::size_t l = 0; l < expected.size(); ++l) {
    const auto& ours = columns.at(static_cast<int>(l));
    ASSERT_EQ(ours.size(), expected[l].size());
    for (std::size_t h = 0; h < ours.size(); ++h) {
      ASSERT_EQ(ours[h].size(), expected[l][h].size());
      // Sums of up to 24 x group probabilities computed in fp32 by transformers.
      for (std::size_t t = 0; t < ours[h].size(); ++t)
        EXPECT_NEAR(ours[h][t], expected[l][h][t], 1e-5 * std::max(1.0, expected[l][h][t]))
            << "layer " << l << " head " << h << " key " << t;
    }
  }
}

TEST_P(HfGolden, LogitsAtEveryPositionThroughPrefillAndDecode) {
  auto engine = make_engine(*weights_);
  ASSERT_NE(engine, nullptr);
  const auto expected = golden_["logits"];
  const std::size_t split = tokens_.size() / 2;
  auto seq = engine->add_sequence({});
  ASSERT_TRUE(seq.ok());
  auto pre = engine->prefill(*seq, std::span<const int>(tokens_.data(), split));
  ASSERT_TRUE(pre.ok());
  EXPECT_LE(tolerance_ratio(pre->logits, floats(expected[split - 1]), kAtol, kRtol), 1.0);
  for (std::size_t t = split; t < tokens_.size(); ++t) {
    auto logits = engine->decode(*seq, tokens_[t]);
    ASSERT_TRUE(logits.ok());
    EXPECT_LE(tolerance_ratio(*logits, floats(expected[t]), kAtol, kRtol), 1.0) << "position " << t;
  }
}

TEST_P(HfGolden, GreedyTokensMatchTransformers) {
  auto engine = make_engine(*weights_);
  ASSERT_NE(engine, nullptr);
  auto seq = engine->add_sequence({});
  ASSERT_TRUE(seq.ok());
  auto pre = engine->prefill(*seq, tokens_);
  ASSERT_TRUE(pre.ok());
  std::vector<int> greedy;
  std::vector<float> logits = pre->logits;
  for (int i = 0; i < 10; ++i) {
    greedy.push_back(profiler::argmax(logits));
    auto next = engine->decode(*seq, greedy.back());
    ASSERT_TRUE(next.ok());
    logits = std::move(next).value();
  }
  EXPECT_EQ(greedy, ints(golden_["greedy"]));
}

TEST_P(HfGolden, TeacherForcedNllEqualsLogSoftmaxOfTransformersLogits) {
  auto engine = make_engine(*weights_);
  ASSERT_NE(engine, nullptr);
  const std::size_t split = 10;
  std::span<const int> prompt(tokens_.data(), split);
  std::span<const int> continuation(tokens_.data() + split, tokens_.size() - split);
  auto nll = profiler::teacher_forced_nll(*engine, prompt, continuation, {});
  ASSERT_TRUE(nll.ok()) << nll.error().message;
  ASSERT_EQ(nll->token_nll.size(), continuation.size());
  double sum = 0;
  for (std::size_t i = 0; i < continuation.size(); ++i) {
    // Position split-1+i predicts token split+i.
    const auto logits = floats(golden_["logits"][split - 1 + i]);
    const double expected = profiler::token_nll(logits, continuation[i]);
    EXPECT_NEAR(nll->token_nll[i], expected, 1e-4 * std::max(1.0, expected)) << "token " << i;
    sum += expected;
  }
  EXPECT_NEAR(nll->mean_nll, sum / static_cast<double>(continuation.size()), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HfGolden,
                         ::testing::Values("tiny_llama", "tiny_mistral", "tiny_llama3_scaled",
                                           "tiny_qwen2"));

}  // namespace
}  // namespace squeeze::test
