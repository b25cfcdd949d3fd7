// The simulator on a SYNTHETIC trace written by core's generator (a stated H100 roofline), and on
// the same trace with its measurements replaced by values whose fitted parameters are known.
#include <unistd.h>
#include <filesystem>
#include <numeric>

#include <gtest/gtest.h>

#include "squeeze/core/trace_synthetic.hpp"
#include "squeeze/sim/engine_history.hpp"
#include "squeeze/sim/predictor.hpp"
#include "squeeze/sim/sim_input.hpp"
#include "squeeze/sim/validation.hpp"

namespace squeeze::sim {
namespace {

class SyntheticTrace : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = (std::filesystem::temp_directory_path() / ("squeeze_sim_trace_test_" + std::to_string(::getpid()) + ".sqz")).string();
    core::SyntheticTraceOptions options;
    options.model = "llama2-7b";
    auto status = core::write_synthetic_trace(path_, options);
    ASSERT_TRUE(status.ok()) << status.error().message;
  }
  static void TearDownTestSuite() { std::filesystem::remove(path_); }
  static std::string path_;
};
std::string SyntheticTrace::path_;

TEST_F(SyntheticTrace, LoadsEverythingTheSimulatorNeeds) {
  auto input = load_sim_input(path_);
  ASSERT_TRUE(input.ok()) << input.error().message;
  EXPECT_TRUE(input->synthetic);
  EXPECT_EQ(input->model.n_layers, 32);
  EXPECT_EQ(input->layer_similarity.size(), 32u);
  EXPECT_FALSE(input->calibration.empty());
  EXPECT_FALSE(input->runs.empty());
  EXPECT_EQ(find_gpu(input->gpu_name)->name, "h100-sxm");
}

TEST_F(SyntheticTrace, GridPointsArePredictedAsMeasured) {
  auto input = load_sim_input(path_);
  ASSERT_TRUE(input.ok());
  auto fitted = fit_model(*input, {});
  ASSERT_TRUE(fitted.ok()) << fitted.error().message;
  const GpuSpec gpu = fitted->profiled_gpu;
  int checked = 0;
  for (const auto& p : input->calibration) {
    if (p.op == "decode_attention") {
      const AttentionShape shape{p.n_heads, p.n_kv_heads, p.head_dim, 2};
      EXPECT_NEAR(fitted->cost.decode_attention_us(p.batch, p.kv_len, shape, gpu), p.duration_us, 1e-9 * p.duration_us);
      ++checked;
    } else if (p.op == "qkv" || p.op == "o_proj" || p.op == "gate_up" || p.op == "down" || p.op == "lm_head") {
      EXPECT_NEAR(fitted->cost.gemm_us(p.op, p.rows, {p.n, p.k}, 2, gpu), p.duration_us, 1e-9 * p.duration_us);
      ++checked;
    }
  }
  EXPECT_GT(checked, 20);
}

TEST_F(SyntheticTrace, LeaveOneOutValidationIsAccurate) {
  auto input = load_sim_input(path_);
  ASSERT_TRUE(input.ok());
  auto report = validate_runs(*input);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->runs.size(), input->runs.size());
  EXPECT_EQ(report->throughput_runs, static_cast<int>(input->runs.size()));
  // The generator adds +-3 % kernel noise and +-1 % step jitter; a sound model stays within 5 %.
  EXPECT_LT(report->throughput_mape, 0.05);
  EXPECT_LT(report->memory_mape, 0.05);
  for (const auto& r : report->runs) EXPECT_LT(r.throughput_error, 0.10) << r.label;
}

TEST_F(SyntheticTrace, FitRecoversAKnownLaunchGapAndWorkspace) {
  auto input = load_sim_input(path_);
  ASSERT_TRUE(input.ok());
  // Price every run with no gap, then rewrite its measurements as price + 2.5 us per kernel and
  // its peak as the analytic peak + 0.7 GB: the fit must find exactly those numbers.
  auto fitted0 = fit_model(*input, {});
  ASSERT_TRUE(fitted0.ok());
  FittedModel no_gap = *fitted0;
  no_gap.cost.set_launch_gap_us(0.0);
  no_gap.workspace = WorkspaceFit{};
  auto predictor = Predictor::create(no_gap, input->model, no_gap.profiled_gpu, input->layer_similarity, 0.0);
  ASSERT_TRUE(predictor.ok());
  constexpr double kGapUs = 2.5, kWorkspace = 7e8;
  for (auto& run : input->runs) {
    auto s = scenario_of_run(run);
    ASSERT_TRUE(s.ok()) << s.error().message;
    auto p = predictor->predict_with_caps(*s, caps_of_run(run, input->model.n_layers));
    ASSERT_TRUE(p.ok());
    const bool h2o = s->policy == core::PolicyKind::H2O;
    const int nodes = (*predictor->timer(1, h2o))->node_count();
    run.decode_step_ms_mean = p->step_ms + kGapUs * nodes / 1000.0;
    run.tokens_per_s = 0;
    run.peak_bytes = p->memory.peak.total_bytes + static_cast<std::int64_t>(kWorkspace);
  }
  auto fitted = fit_model(*input, input->runs);
  ASSERT_TRUE(fitted.ok());
  EXPECT_NEAR(fitted->cost.launch_gap_us(), kGapUs, 1e-6);
  EXPECT_NEAR(fitted->workspace.constant_bytes, kWorkspace, 1e3);
  EXPECT_NEAR(fitted->workspace.per_sequence_bytes * 64, 0.0, 1e3);
  EXPECT_NEAR(fitted->workspace.per_token_bytes * 64 * 1024, 0.0, 1e3);
  EXPECT_EQ(fitted->gap_runs_used, static_cast<int>(input->runs.size()));
}

// Sets every run's measured peak to the engine's allocation rule (with the workspace its engine
// kept under `history`) plus a constant.
void peaks_from_rule(SimInput& input, EngineHistory history, std::int64_t overhead) {
  const MemoryPlanner rule(input.model, WorkspaceFit{});
  const ResidentMap held = resident_workspaces(input, history, rule);
  for (auto& run : input.runs) {
    auto s = scenario_of_run(run);
    ASSERT_TRUE(s.ok()) << s.error().message;
    run.peak_bytes = rule.peak(*s, caps_of_run(run, input.model.n_layers), held.at(run.id)).total_bytes + overhead;
  }
}

// Peaks that are exactly the allocation rule plus a constant are predicted exactly, each one from
// the other runs: the rule is what validate predicts with, and the constant is all it fits.
TEST_F(SyntheticTrace, PeaksFollowingTheAllocationRuleArePredictedExactly) {
  auto input = load_sim_input(path_);
  ASSERT_TRUE(input.ok());
  peaks_from_rule(*input, EngineHistory::Fresh, 123456789);
  auto report = validate_runs(*input);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->memory_runs, static_cast<int>(input->runs.size()));
  EXPECT_LT(report->memory_mape, 1e-9);
  for (const auto& r : report->runs) {
    EXPECT_LT(r.memory_error, 1e-9) << r.label;
    EXPECT_EQ(r.carried_bytes, 0) << r.label;
  }
}

// The held-out run's own peak never enters its prediction; it does enter the others'.
TEST_F(SyntheticTrace, LeaveOneOutNeverSeesTheHeldOutPeak) {
  auto input = load_sim_input(path_);
  ASSERT_TRUE(input.ok());
  peaks_from_rule(*input, EngineHistory::Fresh, 123456789);
  auto before = validate_runs(*input);
  input->runs[3].peak_bytes *= 3;
  auto after = validate_runs(*input);
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_EQ(after->runs[3].predicted_peak_bytes, before->runs[3].predicted_peak_bytes);
  EXPECT_NEAR(after->runs[3].memory_error, 2.0 / 3.0, 1e-9);
  EXPECT_NE(after->runs[0].predicted_peak_bytes, before->runs[0].predicted_peak_bytes);
}

// A capture that ran everything on one engine: runs after larger ones carry their workspace, and
// validate finds that history on the other runs and predicts the carried bytes exactly.
TEST_F(SyntheticTrace, WorkspaceKeptOnOneEngineIsFoundAndPredicted) {
  auto input = load_sim_input(path_);
  ASSERT_TRUE(input.ok());
  const std::vector<core::RunRecord> synthetic = input->runs;
  std::vector<core::RunRecord> runs;
  for (int index : {1, 2, 0, 4, 3}) runs.push_back(synthetic[static_cast<std::size_t>(index)]);
  runs[4].batch = 1;  // a squeeze run of batch 1 after batches of 16
  for (std::size_t i = 0; i < runs.size(); ++i) runs[i].id = static_cast<std::int64_t>(i) + 1;
  input->runs = runs;
  input->attempted_runs = runs;
  peaks_from_rule(*input, EngineHistory::OneEngine, 5000000);
  auto report = validate_runs(*input);
  ASSERT_TRUE(report.ok()) << report.error().message;
  int carried = 0;
  for (const auto& r : report->runs) {
    EXPECT_EQ(r.engine_history, "one-engine") << r.label;
    EXPECT_LT(r.memory_error, 1e-9) << r.label;
    carried += r.carried_bytes > 0 ? 1 : 0;
  }
  EXPECT_GE(carried, 2);  // the two runs of batch 1 at least
  EXPECT_GT(report->memory_mape_fresh, 0.01);
}

// The current capture: a fresh engine per setting, out-of-memory attempts that grew the workspace,
// and a kernel re-run on the last engine, which inherits what the failed attempt allocated.
TEST_F(SyntheticTrace, KernelReRunInheritsTheWorkspaceOfAFailedAttempt) {
  auto input = load_sim_input(path_);
  ASSERT_TRUE(input.ok());
  const std::vector<core::RunRecord> synthetic = input->runs;
  std::vector<core::RunRecord> attempted{synthetic[0], synthetic[1], synthetic[4], synthetic[4], synthetic[1]};
  attempted[0].batch = 8;
  core::RunRecord& oom = attempted[3];
  oom.batch = 48;
  oom.status = "oom";
  oom.budget_unit = core::BudgetUnit::None;  // as the capture records a failed run
  oom.p = 0;
  oom.layer_budgets.clear();
  attempted[4].batch = 8;
  attempted[4].label = "full-b8+cupti";
  for (std::size_t i = 0; i < attempted.size(); ++i) attempted[i].id = static_cast<std::int64_t>(i) + 1;
  input->attempted_runs = attempted;
  input->runs.clear();
  for (const auto& r : attempted)
    if (r.status == "ok") input->runs.push_back(r);
  input->kernel_rerun_ids = {5};
  input->gpu_memory_bytes = 80LL << 30;
  peaks_from_rule(*input, EngineHistory::PerSetting, 5000000);
  auto report = validate_runs(*input);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(report->runs.size(), 4u);
  const MemoryPlanner rule(input->model, WorkspaceFit{});
  const auto& rerun = report->runs.back();
  EXPECT_EQ(rerun.run_id, 5);
  // 48 x 1024 activation rows and 48 decode rows instead of 8 x 1024 and 8.
  EXPECT_EQ(rerun.carried_bytes,
            rule.activation_workspace_bytes(48 * 1024, 1) - rule.activation_workspace_bytes(8 * 1024, 1) +
                rule.decode_workspace_bytes(48, 205, 1) - rule.decode_workspace_bytes(8, 1280, 1));
  for (const auto& r : report->runs) {
    EXPECT_EQ(r.engine_history, "per-setting") << r.label;
    EXPECT_LT(r.memory_error, 1e-9) << r.label;
  }
}

TEST_F(SyntheticTrace, PlansA70BFromThe7BCalibration) {
  auto input = load_sim_input(path_);
  ASSERT_TRUE(input.ok());
  auto fitted = fit_model(*input, input->runs);
  ASSERT_TRUE(fitted.ok());
  core::ModelConfig big = input->model;
  big.name = "llama-70b-shape";
  big.n_layers = 80;
  big.hidden = 8192;
  big.n_heads = 64;
  big.n_kv_heads = 8;
  big.intermediate = 28672;
  const auto similarity = resample_by_depth(input->layer_similarity, 80);
  auto h100 = Predictor::create(*fitted, big, *find_gpu("h100-sxm"), similarity);
  auto h200 = Predictor::create(*fitted, big, *find_gpu("h200"), similarity);
  ASSERT_TRUE(h100.ok() && h200.ok());
  Scenario s;
  s.allocation = Allocation::Squeeze;
  s.policy = core::PolicyKind::SlidingWindow;
  s.batch = 8;
  s.tp = 1;
  auto one_gpu = h100->predict(s);
  ASSERT_TRUE(one_gpu.ok());
  EXPECT_EQ(one_gpu->memory.max_batch, 0);  // 140 GB of weights
  s.tp = 4;
  auto four = h100->predict(s);
  auto four_h200 = h200->predict(s);
  ASSERT_TRUE(four.ok() && four_h200.ok()) << four.error().message;
  EXPECT_GT(four->memory.max_batch, 0);
  EXPECT_EQ(four->kv.caps.size(), 80u);
  // Bandwidth-bound decode: the faster memory of the H200 must show.
  EXPECT_LT(four_h200->step_ms, four->step_ms);
  // A 70B step costs more than a 7B step on the same GPU.
  auto small = Predictor::create(*fitted, input->model, *find_gpu("h100-sxm"), input->layer_similarity);
  Scenario s7 = s;
  s7.tp = 1;
  EXPECT_GT(four->step_ms * 4, small->predict(s7)->step_ms);
}

}  // namespace
}  // namespace squeeze::sim
