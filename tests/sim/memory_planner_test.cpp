#include <vector>

#include <gtest/gtest.h>

#include "squeeze/core/trace_synthetic.hpp"
#include "squeeze/sim/memory_planner.hpp"
#include "squeeze/sim/op_shapes.hpp"
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

Scenario scenario(int batch, CacheMode mode) {
  Scenario s;
  s.allocation = Allocation::Uniform;
  s.policy = core::PolicyKind::SlidingWindow;
  s.batch = batch;
  s.prompt_len = 100;
  s.gen_len = 64;
  s.mode = mode;
  s.prefill_chunk = 32;
  return s;
}

const std::vector<int> kCaps{40, 300, 120, kUnboundedCap};

TEST(MemoryPlanner, KvSumsByHand) {
  const auto m = small_llama();
  EXPECT_EQ(kv_bytes_per_token_layer(m, 1), 2 * 4 * 128 * 2);
  // min(cap, 164) per layer: 40 + 164 + 120 + 164.
  EXPECT_EQ(decode_kv_tokens(kCaps, 100, 64), 488);
  // Online prefill holds the whole prompt in every layer; calibrated holds min(prompt, cap + chunk).
  EXPECT_EQ(prefill_kv_tokens(kCaps, 100, CacheMode::Online, 32), 400);
  EXPECT_EQ(prefill_kv_tokens(kCaps, 100, CacheMode::Calibrated, 32), 72 + 100 + 100 + 100);
}

TEST(MemoryPlanner, PeakIsTheSumOfItsParts) {
  const auto m = small_llama();
  const MemoryPlanner planner(m, WorkspaceFit{1e9, 0, 0, 3});
  const auto s = scenario(8, CacheMode::Online);
  const MemoryBreakdown b = planner.peak(s, kCaps);
  EXPECT_EQ(b.weights_bytes, m.parameter_count() * 2);
  EXPECT_EQ(b.workspace_bytes, 1000000000);
  EXPECT_EQ(b.total_bytes, b.weights_bytes + b.kv_bytes + b.activation_bytes + b.workspace_bytes);
}

// The engine's allocation rule worked out by hand for the small model (4 layers, hidden 1024,
// 8 heads, 4 KV heads of 128, FFN 2816, vocab 32000), batch 8, prompt 100, 64 generated tokens,
// window budgets {40, 300, 120, unbounded}.
TEST(MemoryPlanner, OnlinePeakIsTheEnginesAllocationByHand) {
  const auto m = small_llama();
  const MemoryPlanner planner(m, WorkspaceFit{1e9, 0, 0, 3});
  const auto s = scenario(8, CacheMode::Online);
  // Capacities: min(budget, prompt + gen = 164).
  EXPECT_EQ(planner.layer_capacities(s, kCaps), (std::vector<int>{40, 164, 120, 164}));
  // Activation workspace per token: x 4096 + norm 2048 + qkv (fp32, 2048 wide) 8192 + q 2048 +
  // attention 2048 + delta 4096 + gate_up (fp32) 22528 + SwiGLU 5632 + cosines 16 + metadata 32
  // = 50736 bytes, for 8 x 100 rows, plus 4.
  EXPECT_EQ(planner.activation_workspace_bytes(800, 1), 800 * 50736 + 4);
  // Decode workspace per row: last row 2048 + logits 128000 + id 4 + split partials
  // 8 x 128 x 130 x 4 = 532480 + H2O logits 8 x 164 x 4 = 5248 + softmax stats 64.
  EXPECT_EQ(planner.decode_workspace_bytes(8, 164, 1), 8 * (2048 + 128000 + 4 + 532480 + 5248 + 64));
  const MemoryBreakdown b = planner.peak(s, kCaps);
  // Prompt K/V per layer: 8 x 100 x 2048 = 1638400; arena per layer: 8 x (c x (2048 + 4 x 4) + 24).
  // Compaction holds all four prompt caches, then swaps them for arenas one layer at a time; the
  // arenas outweigh the prompt caches they replace, so the last step is the peak:
  //   3 x arenas {40, 164, 120} + arena 164 + last prompt cache = 9697024, + its map 8 x 4 x 164 x 4.
  EXPECT_TRUE(b.prefill_is_peak);
  EXPECT_EQ(b.kv_bytes, 9697024);
  EXPECT_EQ(b.activation_bytes, 40588804 + 5342752 + 20992);
  EXPECT_EQ(b.total_bytes, m.parameter_count() * 2 + 1000000000LL + 40588804 + 5342752 + 9697024 + 20992);
}

// Peaks the CUDA engine measured on an H100 (traces/llama2-7b-h100-headline.sqz and
// traces/llama2-7b-h100-cuda.sqz, Llama-2-7B shape, random bf16 weights): the allocation rule
// reproduces every one to the byte, up to 532,740 bytes the rule leaves to the fitted constant
// (the engine keeps the norm weights and RoPE frequencies in fp32: 532,736; a 4-byte error flag).
TEST(MemoryPlanner, ReproducesTheCudaEnginesMeasuredPeaks) {
  const auto m = core::synthetic_model("llama2-7b");  // the Llama-2-7B shape the engine ran
  ASSERT_TRUE(m.ok()) << m.error().message;
  const MemoryPlanner planner(*m, WorkspaceFit{});
  constexpr std::int64_t kUnmodelled = 532740;
  auto run = [](Allocation a, int batch, int prompt, int gen) {
    Scenario s;
    s.allocation = a;
    s.policy = a == Allocation::Full ? core::PolicyKind::Full : core::PolicyKind::H2O;
    s.batch = batch;
    s.prompt_len = prompt;
    s.gen_len = gen;
    return s;
  };
  const std::vector<int> full(32, kUnboundedCap), uniform(32, 205);
  std::vector<int> squeeze(32, 71);
  squeeze[0] = squeeze[1] = squeeze[26] = 1056;  // important layers, clamped to the sequence
  EXPECT_EQ(planner.peak(run(Allocation::Full, 8, 1024, 32), full).total_bytes, 20819411240 - kUnmodelled);
  EXPECT_EQ(planner.peak(run(Allocation::Full, 72, 1024, 32), full).total_bytes, 79555789352 - kUnmodelled);
  EXPECT_EQ(planner.peak(run(Allocation::Uniform, 88, 1024, 32), uniform).total_bytes, 81507364520 - kUnmodelled);
  EXPECT_EQ(planner.peak(run(Allocation::Squeeze, 88, 1024, 32), squeeze).total_bytes, 82864081640 - kUnmodelled);
  EXPECT_EQ(planner.peak(run(Allocation::Full, 1, 512, 24), full).total_bytes, 14005041420 - kUnmodelled);
  // With workspace kept from earlier runs on the same engine: an H2O batch of 1 after full-cache
  // batches of 8 (4096 activation rows, 8 decode rows, capacity 768), and the kernel re-run of
  // full-cache batch 8 after out-of-memory attempts up to batch 128 x 1024 rows.
  const std::vector<int> window256(32, 256);
  EXPECT_EQ(planner.peak(run(Allocation::Uniform, 1, 512, 24), window256, ResidentWorkspace{4096, 8, 768}).total_bytes,
            14661445952 - kUnmodelled);
  EXPECT_EQ(planner.peak(run(Allocation::Full, 8, 1024, 32), full, ResidentWorkspace{131072, 128, 1056}).total_bytes,
            47753648904 - kUnmodelled);
  // The fresh engine's prediction for the same run is what serving needs.
  EXPECT_LT(planner.peak(run(Allocation::Full, 8, 1024, 32), full).total_bytes, 47753648904 / 2);
}

TEST(MemoryPlanner, FullCacheDoublesItsArenaWhenTheReserveRunsOut) {
  const auto m = small_llama();
  const MemoryPlanner planner(m, WorkspaceFit{}, 0.05, EngineMemoryRule{16, 128});
  Scenario s = scenario(2, CacheMode::Online);
  s.allocation = Allocation::Full;
  s.policy = core::PolicyKind::Full;
  const std::vector<int> caps(4, kUnboundedCap);
  // 100 + 16 slots, then 232 (needs 164), then never again.
  EXPECT_EQ(planner.full_initial_capacity(100), 116);
  EXPECT_EQ(planner.layer_capacities(s, caps), std::vector<int>(4, 232));
  const MemoryBreakdown b = planner.peak(s, caps);
  // While the last layer is copied: four new arenas of 232 slots plus its old one of 116
  // (slot = 2048 + 16 bytes; 24 bytes of row state per sequence and layer).
  EXPECT_FALSE(b.prefill_is_peak);
  EXPECT_EQ(b.kv_bytes, 4 * 2 * (232 * 2064 + 24) + 2 * 116 * 2064);
  s.gen_len = 16;  // fits the reserve: no growth, the last compaction step is the peak
  EXPECT_EQ(planner.layer_capacities(s, caps), std::vector<int>(4, 116));
  EXPECT_TRUE(planner.peak(s, caps).prefill_is_peak);
}

TEST(MemoryPlanner, WorkspaceKeptFromLargerRunsAddsExactlyItsGrowth) {
  const auto m = small_llama();
  const MemoryPlanner planner(m, WorkspaceFit{});
  const auto s = scenario(8, CacheMode::Online);
  const MemoryBreakdown fresh = planner.peak(s, kCaps);
  // A smaller kept workspace changes nothing (the run grows it to its own size) ...
  EXPECT_EQ(planner.peak(s, kCaps, ResidentWorkspace{100, 2, 164}).total_bytes, fresh.total_bytes);
  // ... except that the H2O logits sized for a smaller capacity are resized only after compaction.
  EXPECT_EQ(fresh.total_bytes - planner.peak(s, kCaps, ResidentWorkspace{100, 2, 50}).total_bytes,
            8 * 8 * (164 - 50) * 4);
  // A larger one adds the activation rows and decode rows (at the kept capacity) beyond its own.
  const ResidentWorkspace kept{4000, 32, 164};
  EXPECT_EQ(planner.peak(s, kCaps, kept).total_bytes - fresh.total_bytes,
            planner.activation_workspace_bytes(4000, 1) - planner.activation_workspace_bytes(800, 1) +
                planner.decode_workspace_bytes(32, 164, 1) - planner.decode_workspace_bytes(8, 164, 1));
  const ResidentWorkspace after = planner.workspace_after(s, kCaps, ResidentWorkspace{100, 2, 50});
  EXPECT_EQ(after.tokens, 800);
  EXPECT_EQ(after.batch, 8);
  EXPECT_EQ(after.capacity, 164);
}

TEST(MemoryPlanner, MaxBatchMatchesBruteForce) {
  const auto m = small_llama();
  const MemoryPlanner planner(m, WorkspaceFit{2e8, 1e6, 50, 3}, 0.05);
  GpuSpec gpu = *find_gpu("a100-40gb");
  gpu.memory_bytes = 3LL * 1024 * 1024 * 1024;  // small, so the brute force stays short
  for (CacheMode mode : {CacheMode::Online, CacheMode::Calibrated}) {
    auto s = scenario(1, mode);
    const int fast = planner.max_batch(s, kCaps, gpu);
    int brute = 0;
    const auto usable = static_cast<std::int64_t>(double(gpu.memory_bytes) * 0.95);
    for (int b = 1; b < 100000; ++b) {
      s.batch = b;
      if (planner.peak(s, kCaps).total_bytes > usable) break;
      brute = b;
    }
    EXPECT_GT(brute, 0);
    EXPECT_EQ(fast, brute);
  }
}

TEST(MemoryPlanner, CalibratedModeNeverNeedsMoreThanOnline) {
  const auto m = small_llama();
  const MemoryPlanner planner(m, WorkspaceFit{}, 0.05);
  const GpuSpec gpu = *find_gpu("a100-40gb");
  EXPECT_GE(planner.max_batch(scenario(1, CacheMode::Calibrated), kCaps, gpu),
            planner.max_batch(scenario(1, CacheMode::Online), kCaps, gpu));
}

TEST(MemoryPlanner, LargerReserveNeverAllowsALargerBatch) {
  const auto m = small_llama();
  const GpuSpec gpu = *find_gpu("h100-sxm");
  int previous = 1 << 30;
  for (double reserve : {0.0, 0.05, 0.2, 0.5}) {
    const MemoryPlanner planner(m, WorkspaceFit{}, reserve);
    const int b = planner.max_batch(scenario(1, CacheMode::Online), kCaps, gpu);
    EXPECT_LE(b, previous);
    previous = b;
  }
}

TEST(MemoryPlanner, AModelThatDoesNotFitHasMaxBatchZeroAndSaysWhy) {
  core::ModelConfig big = small_llama();
  big.n_layers = 80;
  big.hidden = 8192;
  big.n_heads = 64;
  big.n_kv_heads = 8;
  big.intermediate = 28672;  // a 70B shape: ~140 GB of bf16 weights
  const MemoryPlanner planner(big, WorkspaceFit{}, 0.05);
  const GpuSpec gpu = *find_gpu("a100-40gb");
  auto s = scenario(1, CacheMode::Online);
  const std::vector<int> caps(80, kUnboundedCap);
  const MemoryPlan plan = planner.plan(s, caps, gpu);
  EXPECT_EQ(plan.max_batch, 0);
  EXPECT_FALSE(plan.fits);
  EXPECT_NE(plan.limit.find("does not fit"), std::string::npos);
  // Four-way tensor parallelism splits the weights: it fits on 80 GB cards.
  s.tp = 4;
  const MemoryPlanner split(big, WorkspaceFit{}, 0.05);
  EXPECT_GT(split.max_batch(s, caps, *find_gpu("h100-sxm")), 0);
}

TEST(WorkspaceFit, RecoversAKnownConstantAndSlopes) {
  const std::vector<int> batch{1, 8, 8, 32, 64}, prompt{512, 512, 1024, 256, 1024};
  std::vector<double> residual;
  for (std::size_t i = 0; i < batch.size(); ++i)
    residual.push_back(5e8 + 3e6 * batch[i] + 1500.0 * batch[i] * prompt[i]);
  const WorkspaceFit fit = fit_workspace(batch, prompt, residual);
  EXPECT_NEAR(fit.constant_bytes, 5e8, 1.0);
  EXPECT_NEAR(fit.per_sequence_bytes, 3e6, 1e-3);
  EXPECT_NEAR(fit.per_token_bytes, 1500.0, 1e-6);
  EXPECT_EQ(fit.runs_used, 5);
  // One prompt length: batch x prompt is a multiple of batch, so only constant and per-sequence.
  const std::vector<int> same_prompt(5, 512);
  std::vector<double> r2;
  for (int b : batch) r2.push_back(7e8 + 2e6 * b);
  const WorkspaceFit two = fit_workspace(batch, same_prompt, r2);
  EXPECT_NEAR(two.constant_bytes, 7e8, 1.0);
  EXPECT_NEAR(two.per_sequence_bytes, 2e6, 1e-3);
  EXPECT_DOUBLE_EQ(two.per_token_bytes, 0.0);
  // One run: the constant only.
  const WorkspaceFit one = fit_workspace(std::vector<int>{8}, std::vector<int>{512}, std::vector<double>{7e8});
  EXPECT_DOUBLE_EQ(one.constant_bytes, 7e8);
  EXPECT_DOUBLE_EQ(one.per_sequence_bytes, 0.0);
  // Two runs of different batches: still the constant only (no degree of freedom left).
  const WorkspaceFit pair = fit_workspace(std::vector<int>{1, 8}, std::vector<int>{512, 512}, std::vector<double>{1e8, 3e8});
  EXPECT_DOUBLE_EQ(pair.constant_bytes, 2e8);
  EXPECT_DOUBLE_EQ(pair.per_sequence_bytes, 0.0);
}

}  // namespace
}  // namespace squeeze::sim
