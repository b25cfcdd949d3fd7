// Properties any correct planner has, checked on a hand-built fitted model: more budget never
// less memory, larger batches never fewer tokens/s, squeeze keeps the uniform total, bad input
// is rejected with exit code 2.
#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "squeeze/sim/predictor.hpp"
#include "squeeze/sim/sim_input.hpp"

namespace squeeze::sim {
namespace {

core::ModelConfig llama7b_shape() {
  core::ModelConfig m;
  m.name = "llama-2-7b-shape";
  m.n_layers = 32;
  m.hidden = 4096;
  m.n_heads = 32;
  m.n_kv_heads = 32;
  m.head_dim = 128;
  m.intermediate = 11008;
  m.vocab = 32000;
  m.tied_embeddings = false;
  return m;
}

// Similarities shaped like the paper's: early and late layers matter, a middle block barely does.
std::vector<double> paper_like_similarity(int layers) {
  std::vector<double> s;
  for (int l = 0; l < layers; ++l)
    s.push_back(l < 2 ? 0.6 + 0.05 * l : l >= layers - 2 ? 0.85 : l < layers / 2 ? 0.86 : 0.95 + 0.001 * l);
  return s;
}

Predictor make_predictor(const std::string& gpu_name = "h100-sxm") {
  const GpuSpec gpu = *find_gpu("h100-sxm");
  std::vector<core::CalibrationPoint> points;
  for (int batch : {1, 8, 64})
    for (int kv : {128, 512, 2048}) {
      core::CalibrationPoint p;
      p.op = "decode_attention";
      p.batch = batch;
      p.kv_len = kv;
      p.n_heads = 32;
      p.n_kv_heads = 32;
      p.head_dim = 128;
      p.duration_us = 3.0 + decode_attention_ideal_us(batch, kv, {32, 32, 128, 2}, gpu) / 0.8;
      points.push_back(p);
    }
  FittedModel fitted;
  fitted.profiled_model = llama7b_shape();
  fitted.profiled_gpu = gpu;
  fitted.cost = *CostModel::fit(points, gpu);
  fitted.cost.set_launch_gap_us(2.0);
  fitted.workspace = WorkspaceFit{1.5e9, 0, 0, 2};
  fitted.layer_similarity = paper_like_similarity(32);
  return std::move(*Predictor::create(fitted, llama7b_shape(), *find_gpu(gpu_name), fitted.layer_similarity));
}

Scenario base(Allocation allocation, double budget = 0.2) {
  Scenario s;
  s.allocation = allocation;
  s.policy = allocation == Allocation::Full ? core::PolicyKind::Full : core::PolicyKind::H2O;
  s.budget = {budget, true};
  s.p = 0.35;
  s.batch = 16;
  s.prompt_len = 512;
  s.gen_len = 128;
  return s;
}

TEST(PlanningProperties, MoreBudgetNeverLessMemory) {
  const Predictor predictor = make_predictor();
  for (Allocation a : {Allocation::Uniform, Allocation::Squeeze})
    for (CacheMode mode : {CacheMode::Online, CacheMode::Calibrated}) {
      std::int64_t previous_kv = 0, previous_peak = 0;
      int previous_max = 1 << 30;
      for (double b : {0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.9}) {
        auto s = base(a, b);
        s.mode = mode;
        auto p = predictor.predict(s);
        ASSERT_TRUE(p.ok()) << p.error().message;
        EXPECT_GE(p->memory.decode_kv_bytes, previous_kv) << "budget " << b;
        EXPECT_GE(p->memory.peak.total_bytes, previous_peak) << "budget " << b;
        EXPECT_LE(p->memory.max_batch, previous_max) << "budget " << b;
        previous_kv = p->memory.decode_kv_bytes;
        previous_peak = p->memory.peak.total_bytes;
        previous_max = p->memory.max_batch;
      }
    }
}

TEST(PlanningProperties, LargerBatchNeverFewerTokensPerSecond) {
  const Predictor predictor = make_predictor();
  for (Allocation a : {Allocation::Full, Allocation::Uniform, Allocation::Squeeze}) {
    double previous = 0;
    for (int batch : {1, 2, 4, 8, 16, 32, 64, 128}) {
      auto s = base(a);
      s.batch = batch;
      auto p = predictor.predict(s);
      ASSERT_TRUE(p.ok());
      EXPECT_GE(p->tokens_per_s, previous) << allocation_name(a) << " batch " << batch;
      EXPECT_NEAR(p->tokens_per_s, batch * 1000.0 / p->step_ms, 1e-6 * p->tokens_per_s);
      previous = p->tokens_per_s;
    }
  }
}

TEST(PlanningProperties, SqueezeKeepsTheUniformTotal) {
  const Predictor predictor = make_predictor();
  for (double b : {0.05, 0.1, 0.2})
    for (double p : {0.2, 0.35, 0.5}) {
      auto u = base(Allocation::Uniform, b);
      auto s = base(Allocation::Squeeze, b);
      s.p = p;
      auto pu = predictor.predict(u);
      auto ps = predictor.predict(s);
      ASSERT_TRUE(pu.ok() && ps.ok());
      const long su = std::accumulate(pu->kv.caps.begin(), pu->kv.caps.end(), 0L);
      const long ss = std::accumulate(ps->kv.caps.begin(), ps->kv.caps.end(), 0L);
      EXPECT_EQ(su, ss);
      EXPECT_FALSE(ps->kv.unimportant.empty());
      // Every squeezed cap is under prompt + gen here, so the bytes match too.
      ASSERT_LE(*std::max_element(ps->kv.caps.begin(), ps->kv.caps.end()), s.prompt_len + s.gen_len);
      EXPECT_EQ(pu->memory.decode_kv_bytes, ps->memory.decode_kv_bytes);
      EXPECT_NE(pu->kv.caps, ps->kv.caps);
    }
}

TEST(PlanningProperties, BudgetsSpeedUpDecodeAndFullCacheGrowsWithGeneration) {
  const Predictor predictor = make_predictor();
  auto full = predictor.predict(base(Allocation::Full));
  auto uniform = predictor.predict(base(Allocation::Uniform));
  ASSERT_TRUE(full.ok() && uniform.ok());
  EXPECT_LT(uniform->step_ms, full->step_ms);
  auto longer = base(Allocation::Full);
  longer.gen_len = 1024;
  EXPECT_GT(predictor.predict(longer)->step_ms, full->step_ms);
}

TEST(PlanningProperties, BadInputIsRejectedWithCodeTwo) {
  const Predictor predictor = make_predictor();
  auto s = base(Allocation::Squeeze);
  s.batch = 0;
  ASSERT_FALSE(predictor.predict(s).ok());
  EXPECT_EQ(predictor.predict(s).error().code, 2);
  s = base(Allocation::Squeeze);
  s.p = 1.5;
  EXPECT_EQ(predictor.predict(s).error().code, 2);
  s.p = 0.0;
  EXPECT_EQ(predictor.predict(s).error().code, 2);
  s = base(Allocation::Uniform, 0.0);
  EXPECT_EQ(predictor.predict(s).error().code, 2);
  EXPECT_EQ(parse_budget("0").error().code, 2);
  EXPECT_EQ(parse_budget("-3").error().code, 2);
  EXPECT_EQ(parse_budget("abc").error().code, 2);
  EXPECT_TRUE(parse_budget("0.2")->is_fraction);
  EXPECT_FALSE(parse_budget("512t")->is_fraction);
  EXPECT_FALSE(parse_budget("512")->is_fraction);
  s = base(Allocation::Full);
  s.tp = 3;  // 32 heads do not split three ways
  EXPECT_EQ(predictor.predict(s).error().code, 2);
  // A budget that rounds to zero tokens of a short prompt.
  s = base(Allocation::Uniform, 0.001);
  s.prompt_len = 100;
  EXPECT_FALSE(predictor.predict(s).ok());
}

TEST(SimilarityProfile, ResamplingByDepthKeepsEndsAndOrder) {
  std::vector<double> profile;
  for (int l = 0; l < 32; ++l) profile.push_back(0.5 + 0.01 * l);
  EXPECT_EQ(resample_by_depth(profile, 32), profile);
  const auto deep = resample_by_depth(profile, 80);
  ASSERT_EQ(deep.size(), 80u);
  EXPECT_DOUBLE_EQ(deep.front(), profile.front());
  EXPECT_DOUBLE_EQ(deep.back(), profile.back());
  for (std::size_t i = 1; i < deep.size(); ++i) EXPECT_GE(deep[i], deep[i - 1]);
}

TEST(HfConfig, ReadsTheFieldsAPlannerNeeds) {
  const auto dir = std::filesystem::temp_directory_path() / ("squeeze_sim_hf_config_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "config.json") << R"({"model_type": "llama", "hidden_size": 8192,
      "num_hidden_layers": 80, "num_attention_heads": 64, "num_key_value_heads": 8,
      "intermediate_size": 28672, "vocab_size": 128256, "tie_word_embeddings": false,
      "torch_dtype": "bfloat16"})";
  }
  auto m = load_hf_config(dir.string());
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->n_layers, 80);
  EXPECT_EQ(m->n_kv_heads, 8);
  EXPECT_EQ(m->head_dim, 128);
  EXPECT_FALSE(m->tied_embeddings);
  EXPECT_NEAR(double(m->parameter_count()), 70.6e9, 0.2e9);
  {
    std::ofstream(dir / "config.json") << R"({"hidden_size": 8192})";
  }
  auto missing = load_hf_config((dir / "config.json").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, 2);
  EXPECT_NE(missing.error().message.find("num_hidden_layers"), std::string::npos);
  {  // a field of the wrong JSON type: an error naming the file, not an uncaught type_error
    std::ofstream(dir / "config.json") << R"({"model_type": "llama", "hidden_size": 64,
      "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 32,
      "tie_word_embeddings": "yes"})";
  }
  auto wrong_type = load_hf_config((dir / "config.json").string());
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().code, 2);
  EXPECT_NE(wrong_type.error().message.find("unexpected JSON type"), std::string::npos) << wrong_type.error().message;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace squeeze::sim

namespace squeeze::sim {
namespace {

TEST(PlanningProperties, H2oSideStreamNeverSlowsTheStep) {
  const Predictor predictor = make_predictor();
  auto s = base(Allocation::Squeeze);
  s.batch = 64;
  auto serial = predictor.predict(s);
  s.h2o_side_stream = true;
  auto overlapped = predictor.predict(s);
  ASSERT_TRUE(serial.ok() && overlapped.ok());
  EXPECT_LT(overlapped->step_ms, serial->step_ms);
  EXPECT_EQ(overlapped->memory.peak.total_bytes, serial->memory.peak.total_bytes);
}

}  // namespace
}  // namespace squeeze::sim
