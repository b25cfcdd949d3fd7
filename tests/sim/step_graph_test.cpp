#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "squeeze/core/model_config.hpp"
#include "squeeze/sim/step_graph.hpp"
#include "squeeze/sim/step_model.hpp"

namespace squeeze::sim {
namespace {

core::ModelConfig small_llama() {
  core::ModelConfig m;
  m.name = "test-llama";
  m.n_layers = 4;
  m.hidden = 1024;
  m.n_heads = 8;
  m.n_kv_heads = 4;
  m.head_dim = 128;
  m.intermediate = 2816;
  m.vocab = 32000;
  return m;
}

TEST(StepGraph, LongestPathOfADiamondByHand) {
  // a(2) -> b(5) -> d(1) and a(2) -> c(3) -> d(1), b and c on their own streams: 2 + 5 + 1 = 8.
  StepGraph g;
  const int a = g.add_node({NodeCost::Qkv, 0, 0, 2.0});
  const int b = g.add_node({NodeCost::OProj, 0, 1, 5.0}, {a});
  const int c = g.add_node({NodeCost::Down, 0, 2, 3.0}, {a});
  const int d = g.add_node({NodeCost::Sample, 0, 0, 1.0}, {b, c});
  auto path = g.longest_path();
  ASSERT_TRUE(path.ok());
  EXPECT_DOUBLE_EQ(path->total_us, 8.0);
  EXPECT_EQ(path->nodes, (std::vector<int>{a, b, d}));
  // Make the other branch longer: the path switches to it.
  g.node(c).duration_us = 9.0;
  EXPECT_DOUBLE_EQ(g.longest_path()->total_us, 12.0);
  EXPECT_EQ(g.longest_path()->nodes, (std::vector<int>{a, c, d}));
  auto compiled = g.compile();
  ASSERT_TRUE(compiled.ok());
  std::vector<double> durations{2.0, 5.0, 9.0, 1.0}, finish(4);
  EXPECT_DOUBLE_EQ(compiled->longest_path_us(durations, finish), 12.0);
}

TEST(StepGraph, OneStreamIsASum) {
  StepGraph g;
  for (double d : {1.5, 2.0, 0.25, 4.0}) g.add_node({NodeCost::Norm, -1, 0, d});
  EXPECT_DOUBLE_EQ(g.longest_path()->total_us, 7.75);
  EXPECT_EQ(g.topological_order()->size(), 4u);
}

TEST(StepGraph, CyclesAreErrorsNotHangs) {
  StepGraph g;
  const int a = g.add_node({NodeCost::Norm, -1, 0, 1});
  const int b = g.add_node({NodeCost::Norm, -1, 0, 1});
  g.add_edge(b, a);
  EXPECT_FALSE(g.topological_order().ok());
  EXPECT_FALSE(g.longest_path().ok());
  EXPECT_FALSE(g.compile().ok());
}

TEST(StepBuilder, NodeCountsFollowTheLayerStructure) {
  const auto m = small_llama();
  // embed + 9 kernels per layer + final norm, lm_head, sample.
  EXPECT_EQ(build_step_graph(m, Phase::Decode, {}).size(), 1 + 9 * m.n_layers + 3);
  EXPECT_EQ(build_step_graph(m, Phase::Decode, {2, false, false, false}).size(), 1 + 11 * m.n_layers + 3);
  EXPECT_EQ(build_step_graph(m, Phase::Decode, {1, true, false, false}).size(), 1 + 10 * m.n_layers + 3);
  EXPECT_EQ(build_step_graph(m, Phase::Prefill, {1, true, false, true}).size(), 1 + 10 * m.n_layers + 3);
}

TEST(StepBuilder, SideStreamTakesH2oScoringOffTheCriticalPath) {
  const auto m = small_llama();
  const GpuSpec gpu = *find_gpu("h100-sxm");
  const CostModel cost = *CostModel::fit({}, gpu);
  auto serial = StepTimer::create(cost, m, gpu, {1, true, false, false});
  auto overlapped = StepTimer::create(cost, m, gpu, {1, true, true, false});
  ASSERT_TRUE(serial.ok() && overlapped.ok());
  const std::vector<int> caps(4, 4096);
  const double s = serial->mean_decode_breakdown(64, caps, 4000, 64).total_us;
  const double o = overlapped->mean_decode_breakdown(64, caps, 4000, 64).total_us;
  EXPECT_LT(o, s);
  // Only the last layer's scoring can still be on the path.
  const double one_score = overlapped->node_us(NodeCost::H2oScore, 64, 1, 4096);
  EXPECT_GE(o, s - m.n_layers * one_score - 1e-9);
}

TEST(StepTimer, MeanDecodeStepEqualsTheStepByStepMean) {
  const auto m = small_llama();
  const GpuSpec gpu = *find_gpu("a100-80gb");
  const CostModel cost = *CostModel::fit({}, gpu);
  auto timer = StepTimer::create(cost, m, gpu, {});
  ASSERT_TRUE(timer.ok());
  const std::vector<int> caps{40, 300, 120, kUnboundedCap};  // layers differ; one never capped
  const int prompt = 100, gen = 64, batch = 8;
  double brute = 0;
  const StepGraph& g = timer->decode_graph();
  for (int t = 1; t <= gen; ++t) {
    StepGraph step = g;
    for (int i = 0; i < step.size(); ++i) {
      StepNode& n = step.node(i);
      const int kv = n.layer >= 0 ? std::min(caps[static_cast<std::size_t>(n.layer)], prompt + t) : 0;
      n.duration_us = timer->node_us(n.cost, batch, 1, kv);
    }
    brute += step.longest_path()->total_us;
  }
  brute /= gen;
  EXPECT_NEAR(timer->mean_decode_breakdown(batch, caps, prompt, gen).total_us, brute, 1e-9 * brute);
}

TEST(StepTimer, PrefixMeanMatchesALoop) {
  std::vector<double> prefix{0.0};
  for (int kv = 1; kv <= 400; ++kv) prefix.push_back(prefix.back() + 3.0 + 0.01 * kv * kv);
  for (int cap : {1, 50, 100, 101, 150, 199, 200, 5000})
    for (int prompt : {1, 100}) {
      const int gen = 100;
      double loop = 0;
      for (int t = 1; t <= gen; ++t) {
        const int kv = std::min(cap, prompt + t);
        loop += prefix[static_cast<std::size_t>(kv)] - prefix[static_cast<std::size_t>(kv) - 1];
      }
      EXPECT_NEAR(mean_over_decode_steps(prefix, cap, prompt, gen), loop / gen, 1e-9) << cap << " " << prompt;
    }
}

}  // namespace
}  // namespace squeeze::sim
