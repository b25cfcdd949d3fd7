// The CUDA engine against the CPU reference engine on stories260K (bf16 weights/KV vs fp32), a
// batch of three prompts of different lengths under each KV policy, and the out-of-memory error.
// The model is found through $SQUEEZE_STORIES260K (a .bin path) or ../shared/models/stories260K;
// without a GPU or the model the tests skip.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "cuda_test_util.hpp"
#include "squeeze/profiler/cpu_engine.hpp"
#include "squeeze/profiler/cuda/cuda_engine.hpp"
#include "squeeze/profiler/model_loader.hpp"
#include "squeeze/profiler/sampling.hpp"

namespace squeeze::profiler {
namespace {

std::string model_path() {
  if (const char* p = std::getenv("SQUEEZE_STORIES260K")) return p;
  return (std::filesystem::path(SQUEEZE_SHARED_DIR) / "models" / "stories260K" / "stories260K.bin")
      .string();
}

#define REQUIRE_MODEL(weights)                                                      \
  SQZ_REQUIRE_GPU();                                                                \
  if (!std::filesystem::exists(model_path())) GTEST_SKIP() << "no " << model_path(); \
  auto weights = load_model(model_path());                                          \
  ASSERT_TRUE(weights.ok()) << weights.error().message

std::vector<int> prompt_of(int n, int salt) {
  std::vector<int> p{1};
  for (int i = 1; i < n; ++i) p.push_back(3 + (i * 37 + salt * 101) % 500);
  return p;
}

// bf16 weights and bf16 KV cache against the fp32 CPU reference. Every weight and every cached
// K/V entry carries up to 2^-9 relative rounding, so logit errors grow with the context: measured
// on an H100 (2026-11-23, bench/results/cuda_engine.md) the worst element over 60 decode steps and
// all policies was 0.38 (logits span about +-15; most elements are within 0.1). The bound leaves
// ~30% headroom over that; argmax agreement and kept positions are checked exactly besides.
constexpr double kLogitAtol = 0.5, kLogitRtol = 0.03;
constexpr double kSimilarityAtol = 5e-3;

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
  return m;
}

void expect_logits_close(const std::vector<float>& got, const std::vector<float>& ref,
                         const std::string& what) {
  ASSERT_EQ(got.size(), ref.size());
  std::vector<double> r(ref.begin(), ref.end());
  EXPECT_TRUE(cuda::test::all_close(got, r, kLogitAtol, kLogitRtol, what))
      << "max |diff| " << max_abs_diff(got, ref);
}

TEST(CudaEngine, PrefillAndTeacherForcedDecodeMatchCpu) {
  REQUIRE_MODEL(weights);
  auto cpu = make_cpu_engine(weights.value());
  ASSERT_TRUE(cpu.ok()) << cpu.error().message;
  auto gpu = make_cuda_engine(weights.value());
  ASSERT_TRUE(gpu.ok()) << gpu.error().message;
  CachePlan plan;  // full cache
  auto c_id = (*cpu)->add_sequence(plan);
  auto g_id = (*gpu)->add_sequence(plan);
  ASSERT_TRUE(c_id.ok() && g_id.ok());
  const auto prompt = prompt_of(40, 1);
  PrefillOptions opt;
  auto c_out = (*cpu)->prefill(*c_id, prompt, opt);
  auto g_out = (*gpu)->prefill(*g_id, prompt, opt);
  ASSERT_TRUE(c_out.ok()) << c_out.error().message;
  ASSERT_TRUE(g_out.ok()) << g_out.error().message;
  expect_logits_close(g_out->logits, c_out->logits, "prefill logits");
  ASSERT_EQ(g_out->layer_similarity.size(), c_out->layer_similarity.size());
  for (size_t l = 0; l < c_out->layer_similarity.size(); ++l)
    EXPECT_NEAR(g_out->layer_similarity[l], c_out->layer_similarity[l], kSimilarityAtol)
        << "layer " << l;
  std::printf("prefill: max |logit diff| %.4f, similarity cpu/gpu:", max_abs_diff(g_out->logits, c_out->logits));
  for (size_t l = 0; l < c_out->layer_similarity.size(); ++l)
    std::printf(" %.5f/%.5f", c_out->layer_similarity[l], g_out->layer_similarity[l]);
  std::printf("\n");
  // Teacher forcing: both engines get the CPU's greedy tokens, so one near-tie cannot make the
  // comparison diverge; the argmax must agree wherever the CPU's top-2 margin exceeds the error.
  int token = argmax(c_out->logits);
  int agree = 0, decisive = 0;
  double worst = 0;
  for (int step = 0; step < 60; ++step) {
    auto c_l = (*cpu)->decode(*c_id, token);
    auto g_l = (*gpu)->decode(*g_id, token);
    ASSERT_TRUE(c_l.ok()) << c_l.error().message;
    ASSERT_TRUE(g_l.ok()) << g_l.error().message;
    expect_logits_close(*g_l, *c_l, "decode step " + std::to_string(step));
    worst = std::max(worst, max_abs_diff(*g_l, *c_l));
    std::vector<float> sorted = *c_l;
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
    if (sorted[0] - sorted[1] > 2 * kLogitAtol) {
      ++decisive;
      agree += argmax(*g_l) == argmax(*c_l);
    }
    token = argmax(*c_l);
  }
  EXPECT_EQ(agree, decisive);
  std::printf("decode: 60 steps, max |logit diff| %.4f, argmax agreement %d/%d decisive steps\n",
              worst, agree, decisive);
}

class CudaEngineBatch : public ::testing::TestWithParam<core::PolicyKind> {};

TEST_P(CudaEngineBatch, BatchOfDifferentLengthsMatchesCpuPerSequence) {
  REQUIRE_MODEL(weights);
  const core::PolicyKind kind = GetParam();
  auto cpu = make_cpu_engine(weights.value());
  auto gpu = make_cuda_engine(weights.value());
  ASSERT_TRUE(cpu.ok() && gpu.ok());
  CachePlan plan;
  plan.policy.kind = kind;
  if (kind != core::PolicyKind::Full) {
    plan.budget_tokens = 24;
    plan.p = 0.5;  // SqueezeAttention budgets: layers differ
  }
  const std::vector<std::vector<int>> prompts = {prompt_of(50, 2), prompt_of(13, 3), prompt_of(31, 4)};
  std::vector<SequenceId> c_ids, g_ids;
  for (size_t i = 0; i < prompts.size(); ++i) {
    c_ids.push_back(*(*cpu)->add_sequence(plan));
    g_ids.push_back(*(*gpu)->add_sequence(plan));
  }
  auto c_out = (*cpu)->prefill(c_ids, prompts, {});
  auto g_out = (*gpu)->prefill(g_ids, prompts, {});
  ASSERT_TRUE(c_out.ok()) << c_out.error().message;
  ASSERT_TRUE(g_out.ok()) << g_out.error().message;
  std::vector<int> tokens;
  for (size_t i = 0; i < prompts.size(); ++i) {
    expect_logits_close((*g_out)[i].logits, (*c_out)[i].logits, "prefill row " + std::to_string(i));
    EXPECT_EQ((*g_out)[i].layer_budgets, (*c_out)[i].layer_budgets) << "row " << i;
    tokens.push_back(argmax((*c_out)[i].logits));
  }
  const int n_layers = (*gpu)->config().n_layers, kvh = (*gpu)->config().n_kv_heads;
  // H2O ranks tokens by accumulated attention: bf16 vs fp32 probabilities can reorder near-equal
  // scores, after which the two engines hold different tokens and their logits legitimately part.
  // Logits are compared while a row's kept positions are identical in every layer and head.
  auto same_cache = [&](size_t i) {
    for (int l = 0; l < n_layers; ++l)
      for (int h = 0; h < kvh; ++h) {
        auto gp = (*gpu)->kept_positions(g_ids[i], l, h);
        auto cp = (*cpu)->kept_positions(c_ids[i], l, h);
        if (!gp.ok() || !cp.ok() || *gp != *cp) return false;
      }
    return true;
  };
  std::vector<bool> diverged(prompts.size(), false);
  int compared = 0, row_steps = 0;
  for (int step = 0; step < 40; ++step) {
    auto c_l = (*cpu)->decode(c_ids, tokens);
    auto g_l = (*gpu)->decode(g_ids, tokens);
    ASSERT_TRUE(c_l.ok()) << c_l.error().message;
    ASSERT_TRUE(g_l.ok()) << g_l.error().message;
    for (size_t i = 0; i < prompts.size(); ++i) {
      ++row_steps;
      if (!diverged[i] && !same_cache(i)) diverged[i] = true;
      if (!diverged[i]) {
        ++compared;
        expect_logits_close((*g_l)[i], (*c_l)[i], "step " + std::to_string(step) + " row " + std::to_string(i));
      }
      tokens[i] = argmax((*c_l)[i]);
    }
  }
  std::printf("%s: logits compared on %d/%d row-steps (identical caches)\n", core::policy_name(kind),
              compared, row_steps);
  // Measured on an H100 (2026-11-23): window/streaming/full 120/120; H2O 0/120 — some head of
  // some layer picks a different victim from the first decode step on (bf16 keys move attention
  // probabilities by ~1%, enough to swap near-equal scores), while 1430/1440 kept positions still
  // agree at the end. The device victim rule itself is checked slot for slot against
  // LayerKvSelector on identical scores in kv_select_test.cu.
  if (kind != core::PolicyKind::H2O) {
    EXPECT_EQ(compared, row_steps);
  }
  int pos_checked = 0, pos_equal = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto gi = (*gpu)->sequence_info(g_ids[i]);
    auto ci = (*cpu)->sequence_info(c_ids[i]);
    ASSERT_TRUE(gi.ok() && ci.ok());
    EXPECT_EQ(gi->length, ci->length);
    EXPECT_EQ(gi->layer_size, ci->layer_size);
    for (int l = 0; l < n_layers; ++l)
      for (int h = 0; h < kvh; ++h) {
        auto gp = (*gpu)->kept_positions(g_ids[i], l, h);
        auto cp = (*cpu)->kept_positions(c_ids[i], l, h);
        ASSERT_TRUE(gp.ok() && cp.ok());
        for (int p : *cp) {
          ++pos_checked;
          pos_equal += std::binary_search(gp->begin(), gp->end(), p);
        }
        if (kind != core::PolicyKind::H2O) {
          EXPECT_EQ(*gp, *cp) << "row " << i << " layer " << l;
        }
      }
  }
  // H2O keeps the highest accumulated attention; bf16 vs fp32 probabilities can reorder near-equal
  // scores, so exact equality is only required for the score-free policies.
  std::printf("%s: kept positions equal to the CPU engine's: %d/%d\n", core::policy_name(kind),
              pos_equal, pos_checked);
  if (kind == core::PolicyKind::H2O) {
    EXPECT_GE(pos_equal, pos_checked * 9 / 10);
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, CudaEngineBatch,
                         ::testing::Values(core::PolicyKind::Full, core::PolicyKind::SlidingWindow,
                                           core::PolicyKind::StreamingLLM, core::PolicyKind::H2O),
                         [](const auto& info) { return std::string(core::policy_name(info.param)); });

TEST(CudaEngine, OutOfMemoryNamesWhatDidNotFit) {
  SQZ_REQUIRE_GPU();
  ModelWeights w;
  w.config.name = "too-big";
  w.config.n_layers = 400;
  w.config.hidden = 16384;
  w.config.n_heads = 128;
  w.config.n_kv_heads = 16;
  w.config.head_dim = 128;
  w.config.intermediate = 53248;
  w.config.vocab = 128256;
  w.config.max_seq = 4096;
  CudaEngineOptions opt;
  opt.random_weights = true;
  auto e = make_cuda_engine(std::move(w), opt);
  ASSERT_FALSE(e.ok());
  const std::string& msg = e.error().message;
  EXPECT_NE(msg.find("out of device memory"), std::string::npos) << msg;
  EXPECT_NE(msg.find("bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("free"), std::string::npos) << msg;
  std::printf("%s\n", msg.c_str());
}

}  // namespace
}  // namespace squeeze::profiler
