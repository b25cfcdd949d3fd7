// Sweep throughput: configurations per second on one core, on the checked-in synthetic
// Llama-2-7B trace. "cold" builds the engine (per-batch decode tables, budgets) inside the timed
// loop, as `squeeze-sim sweep` does once per call; "warm" reuses a built engine, as the GUI does
// when a slider moves. predict_one is the uncached path, for comparison. Rates use CPU time: the
// dev box is shared, and CPU time is what one core spends per configuration.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include "squeeze/sim/session.hpp"
#include "squeeze/sim/sweep.hpp"

namespace squeeze::sim {
namespace {

const PlanningSession& session() {
  static const PlanningSession s = [] {
    SessionOptions options;
    options.trace_path = std::string(SQUEEZE_SOURCE_DIR) + "/traces/synthetic-llama2-7b.sqz";
    auto opened = open_session(options);
    if (!opened.ok()) {
      std::fprintf(stderr, "sim_sweep_bench: %s\n", opened.error().message.c_str());
      std::exit(1);
    }
    return std::move(*opened);
  }();
  return s;
}

// 4 GPUs x (full + 3 policies x 8 budgets x (uniform + 6 p)) x 8 batches x 4 prompts x 3 gens.
SweepSpec grid() {
  SweepSpec spec;
  spec.hardware = {"a100-40gb", "a100-80gb", "h100-sxm", "h200"};
  spec.policies = {core::PolicyKind::Full, core::PolicyKind::SlidingWindow, core::PolicyKind::StreamingLLM,
                   core::PolicyKind::H2O};
  for (double b : {0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6}) spec.budgets.push_back({b, true});
  spec.ps = {0.2, 0.25, 0.3, 0.35, 0.4, 0.5};
  spec.batches = {1, 2, 4, 8, 16, 32, 64, 128};
  spec.prompt_lens = {256, 512, 1024, 2048};
  spec.gen_lens = {64, 128, 256};
  return spec;
}

void BM_SweepCold(benchmark::State& state) {
  std::int64_t rows = 0;
  double checksum = 0;
  for (auto _ : state) {
    auto engine = SweepEngine::create(session(), grid());
    if (!engine.ok()) state.SkipWithError(engine.error().message.c_str());
    auto status = engine->run([&](const SweepRow& r) {
      ++rows;
      checksum += r.tokens_per_s;
    });
    if (!status.ok()) state.SkipWithError(status.error().message.c_str());
  }
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(rows);
  state.counters["configs"] = double(rows) / double(state.iterations());
}

void BM_SweepWarm(benchmark::State& state) {
  auto engine = SweepEngine::create(session(), grid());
  if (!engine.ok()) state.SkipWithError(engine.error().message.c_str());
  (void)engine->run([](const SweepRow&) {});  // fill the caches
  std::int64_t rows = 0;
  double checksum = 0;
  for (auto _ : state) {
    auto status = engine->run([&](const SweepRow& r) {
      ++rows;
      checksum += r.step_ms;
    });
    if (!status.ok()) state.SkipWithError(status.error().message.c_str());
  }
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(rows);
}

void BM_PredictOne(benchmark::State& state) {
  auto predictor = session().predictor("h100-sxm");
  Scenario s;
  s.allocation = Allocation::Squeeze;
  s.policy = core::PolicyKind::H2O;
  s.batch = 32;
  for (auto _ : state) {
    auto p = predictor->predict(s);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_SweepCold)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SweepWarm)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PredictOne)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace squeeze::sim

BENCHMARK_MAIN();
