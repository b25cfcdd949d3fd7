// The analyses behind the views, without a window: layer statistics and clusters, live budget
// recomputation, table models, timeline downsampling, and capacity from the synthetic trace.
#include <gtest/gtest.h>

#include <QDoubleSpinBox>
#include <QTemporaryDir>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "squeeze/core/trace_writer.hpp"

#include "squeeze/gui/analysis.hpp"
#include "squeeze/gui/controls_panel.hpp"
#include "squeeze/gui/table_model.hpp"
#include "squeeze/gui/tables.hpp"
#include "squeeze/gui/timeline_data.hpp"
#include "squeeze/sim/session.hpp"
#include "test_support.hpp"

namespace squeeze::gui {
namespace {

// 8 layers in three clear groups; prompt 2 disagrees on layer 4.
core::SimilarityMatrix three_groups() {
  core::SimilarityMatrix m;
  m.prompt_ids = {1, 2, 3};
  m.n_layers = 8;
  m.values = {0.80, 0.81, 0.90, 0.91, 0.90, 0.97, 0.98, 0.97,
              0.82, 0.80, 0.89, 0.90, 0.92, 0.96, 0.97, 0.98,
              0.81, 0.79, 0.91, 0.92, 0.97, 0.98, 0.96, 0.99};
  return m;
}

TEST(LayerAnalysis, StatisticsOverPromptsAndClustersByAscendingCenter) {
  auto layers = analyze_layers(three_groups(), 3);
  ASSERT_TRUE(layers.ok()) << layers.error().message;
  ASSERT_EQ(layers->n_layers(), 8);
  EXPECT_EQ(layers->prompts, 3);
  EXPECT_NEAR(layers->mean[0], (0.80 + 0.82 + 0.81) / 3, 1e-12);
  EXPECT_DOUBLE_EQ(layers->lo[4], 0.90);
  EXPECT_DOUBLE_EQ(layers->hi[4], 0.97);
  EXPECT_EQ(layers->n_clusters, 3);
  EXPECT_EQ(layers->cluster, (std::vector<int>{0, 0, 1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(layers->unimportant_cluster, 2);
  EXPECT_TRUE(layers->is_unimportant(6));
  EXPECT_FALSE(layers->is_unimportant(3));
  EXPECT_TRUE(std::is_sorted(layers->centers.begin(), layers->centers.end()));
  // Prompt 3 alone would also call layer 4 unimportant: agreement below 1, above 0.
  EXPECT_LT(layers->agreement, 1.0);
  EXPECT_GT(layers->agreement, 0.5);
}

TEST(LayerAnalysis, MissingValuesAreSkippedAndEmptyInputIsAnError) {
  auto m = three_groups();
  m.values[0] = std::nan("");
  auto layers = analyze_layers(m, 3);
  ASSERT_TRUE(layers.ok());
  EXPECT_NEAR(layers->mean[0], (0.82 + 0.81) / 2, 1e-12);
  EXPECT_FALSE(analyze_layers(core::SimilarityMatrix{}, 3).ok());
  EXPECT_FALSE(analyze_layers(three_groups(), 0).ok());
}

TEST(Budgets, SqueezeKeepsTheUniformTotalAndRecomputesWithEveryKnob) {
  auto layers = analyze_layers(three_groups(), 3);
  ASSERT_TRUE(layers.ok());
  AnalysisParams params;
  params.unit = AnalysisParams::BudgetUnit::Fraction;
  params.budget_fraction = 0.25;
  params.prompt_len = 1000;
  params.p = 0.4;
  auto plan = plan_budgets(*layers, params);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->uniform_budget, 250);
  EXPECT_EQ(plan->total_squeeze, plan->total_uniform);
  EXPECT_EQ(plan->total_uniform, 8 * 250);
  for (int l = 5; l < 8; ++l) EXPECT_EQ(plan->squeeze[static_cast<std::size_t>(l)], 100);  // floor(0.4*250)
  for (int l = 0; l < 5; ++l) EXPECT_GT(plan->squeeze[static_cast<std::size_t>(l)], 250);

  params.p = 0.2;  // a smaller p frees more for the important layers
  auto smaller = plan_budgets(*layers, params);
  ASSERT_TRUE(smaller.ok());
  EXPECT_EQ(smaller->squeeze[7], 50);
  EXPECT_GT(smaller->squeeze[0], plan->squeeze[0]);

  params.unit = AnalysisParams::BudgetUnit::Tokens;
  params.budget_tokens = 64;
  auto tokens = plan_budgets(*layers, params);
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->uniform_budget, 64);
  EXPECT_EQ(tokens->total_squeeze, 8 * 64);

  // The budgets use the clusters shown in the layers view.
  for (int l = 0; l < 8; ++l)
    EXPECT_EQ(tokens->squeeze[static_cast<std::size_t>(l)] < 64, layers->is_unimportant(l)) << l;

  auto one = analyze_layers(three_groups(), 1);  // one cluster: uniform budgets
  ASSERT_TRUE(one.ok());
  auto uniform = plan_budgets(*one, params);
  ASSERT_TRUE(uniform.ok());
  EXPECT_EQ(uniform->squeeze, uniform->uniform);

  params.p = 0;
  EXPECT_FALSE(plan_budgets(*layers, params).ok());
}

TEST(ControlsPanel, EveryEditEmitsTheNewParameters) {
  test::app();
  ControlsPanel panel;
  std::vector<AnalysisParams> emitted;
  QObject::connect(&panel, &ControlsPanel::paramsChanged, [&](const AnalysisParams& p) { emitted.push_back(p); });
  AnalysisParams p;
  p.p = 0.3;
  p.clusters = 4;
  panel.setParams(p);
  EXPECT_EQ(emitted.size(), 0u) << "setParams must not emit once per control";
  EXPECT_DOUBLE_EQ(panel.params().p, 0.3);
  EXPECT_EQ(panel.params().clusters, 4);
  const auto spins = panel.findChildren<QDoubleSpinBox*>();
  ASSERT_FALSE(spins.isEmpty());
  for (auto* spin : spins)
    if (spin->toolTip().contains("floor(p")) spin->setValue(0.5);
  ASSERT_EQ(emitted.size(), 1u);
  EXPECT_DOUBLE_EQ(emitted.front().p, 0.5);
}

TEST(TableModel, ShowsCellsHeadersAndNumericSortValues) {
  auto layers = analyze_layers(three_groups(), 3);
  ASSERT_TRUE(layers.ok());
  AnalysisParams params;
  params.prompt_len = 1000;
  auto plan = plan_budgets(*layers, params);
  ASSERT_TRUE(plan.ok());
  TableModel model;
  model.setTable(layers_table(*layers, &*plan));
  EXPECT_EQ(model.rowCount(), 8);
  EXPECT_EQ(model.columnCount(), 9);
  EXPECT_EQ(model.headerData(7, Qt::Horizontal).toString(), "squeeze budget");
  EXPECT_EQ(model.data(model.index(6, 5)).toString(), "yes");
  EXPECT_EQ(model.data(model.index(6, 7)).toString(), QString::number(plan->squeeze[6]));
  EXPECT_DOUBLE_EQ(model.data(model.index(6, 7), TableModel::kSortRole).toDouble(), plan->squeeze[6]);
  EXPECT_EQ(model.data(model.index(0, 1)).toString(), "0.8100");
}

TEST(Timeline, MergesAMillionKernelStepIntoDrawableSpansKeepingExactTotals) {
  std::vector<core::KernelRecord> kernels;
  const int n = 200000;  // enough to force merging; a million behaves the same, only slower
  kernels.reserve(n);
  for (int i = 0; i < n; ++i) {
    core::KernelRecord k;
    k.step = 1;
    k.op = i % 2 ? "qkv" : "decode_attention";
    k.start_ns = 1000 + static_cast<std::int64_t>(i) * 100;
    k.duration_ns = 80;
    kernels.push_back(k);
  }
  auto t = build_timeline(7, 1, kernels, {{1, n, 0}}, 5000);
  EXPECT_TRUE(t.downsampled);
  EXPECT_LE(t.spans.size(), 5000u);
  EXPECT_EQ(t.kernels_in_step, n);
  ASSERT_EQ(t.ops.size(), 2u);
  std::int64_t count = 0;
  double busy = 0;
  for (const auto& o : t.op_totals) {
    count += o.kernels;
    busy += o.busy_us;
  }
  EXPECT_EQ(count, n);
  EXPECT_NEAR(busy, n * 0.08, 1e-6);
  int merged = 0;
  for (const auto& s : t.spans) merged += s.merged;
  EXPECT_EQ(merged, n);
  EXPECT_NEAR(t.step_span_us, ((n - 1) * 100 + 80) / 1e3, 1e-9);

  auto small = build_timeline(7, 1, {kernels.begin(), kernels.begin() + 10}, {}, 5000);
  EXPECT_FALSE(small.downsampled);
  EXPECT_EQ(small.spans.size(), 10u);
  EXPECT_DOUBLE_EQ(small.spans.front().start_us, 0.0);
}

// A capture with many kernels in one step: the timeline streams the file, keeps only that step,
// and hands the plot a bounded number of spans. SQUEEZE_GUI_BIG_KERNELS=1000000 checks a million.
TEST(Timeline, StreamsALargeTraceAndBoundsWhatIsDrawn) {
  QTemporaryDir dir;
  const std::string path = dir.filePath("big.sqz").toStdString();
  std::filesystem::copy_file(test::fixture_trace().toStdString(), path);
  const qint64 n = qEnvironmentVariableIsSet("SQUEEZE_GUI_BIG_KERNELS")
                       ? qEnvironmentVariableIntValue("SQUEEZE_GUI_BIG_KERNELS") : 100000;
  {
    auto writer = core::TraceWriter::open_for_append(path);
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    core::RunRecord run;
    run.label = "big";
    run.policy = "full";
    auto id = writer->add_run(run);
    ASSERT_TRUE(id.ok()) << id.error().message;
    std::vector<core::KernelRecord> kernels(static_cast<std::size_t>(n));
    for (qint64 i = 0; i < n; ++i) {
      auto& k = kernels[static_cast<std::size_t>(i)];
      k.run_id = *id;
      k.step = i < n / 2 ? 0 : 1;
      k.layer = static_cast<int>(i % 32);
      k.op = i % 3 ? "gate_up" : "decode_attention";
      k.name = "kernel";
      k.start_ns = i * 1000;
      k.duration_ns = 700;
    }
    ASSERT_TRUE(writer->add_kernels(kernels).ok());
  }
  auto snapshot = load_snapshot(path);
  ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
  ASSERT_FALSE(snapshot->kernel_runs.empty());
  const auto big = snapshot->kernel_runs.back();
  EXPECT_EQ(big.kernel_count, n);
  const auto t0 = std::chrono::steady_clock::now();
  auto t = load_timeline(path, big.run_id, -1, 20000);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->step, 1) << "the first decode step by default";
  EXPECT_EQ(t->kernels_in_step, n - n / 2);
  EXPECT_LE(t->spans.size(), 20000u);
  ASSERT_EQ(t->steps.size(), 2u);
  std::printf("load_timeline over %lld kernels: %.2f s\n", static_cast<long long>(n), seconds);
  EXPECT_FALSE(load_timeline(path, big.run_id, 5).ok()) << "a step without kernels is an error";
}

TEST(Capacity, SyntheticTraceGivesMonotoneCurvesAndSqueezeFitsAtLeastUniform) {
  auto trace = load_snapshot(test::fixture_trace().toStdString());
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  ASSERT_TRUE(trace->session) << trace->session_error;
  auto params = params_from_trace(*trace, AnalysisParams{});
  params.mode = "calibrated";  // budgets bound the prefill peak too
  params.gpu = "h100-sxm";
  auto layers = analyze_layers(trace->similarities, params.clusters);
  ASSERT_TRUE(layers.ok());
  auto plan = plan_budgets(*layers, params);
  ASSERT_TRUE(plan.ok());
  auto c = compute_capacity(*trace, *layers, *plan, params);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_GT(c->max_batch_full, 0);
  EXPECT_GE(c->max_batch_uniform, c->max_batch_full);
  EXPECT_GE(c->max_batch_squeeze, c->max_batch_uniform);
  EXPECT_TRUE(std::is_sorted(c->batches.begin(), c->batches.end()));
  EXPECT_GT(c->batches.back(), c->max_batch_squeeze) << "the sweep shows where memory runs out";
  ASSERT_EQ(c->kv_squeeze_by_cluster.size(), static_cast<std::size_t>(layers->n_clusters));
  for (std::size_t i = 0; i < c->batches.size(); ++i) {
    double parts = static_cast<double>(c->weights_bytes) + c->workspace_bytes[i];
    for (const auto& kv : c->kv_squeeze_by_cluster) parts += kv[i];
    EXPECT_NEAR(parts, c->total_squeeze[i], 1e-6 * c->total_squeeze[i]) << "stack adds up at batch " << c->batches[i];
    EXPECT_EQ(std::isnan(c->tput_squeeze[i]), c->batches[i] > c->max_batch_squeeze);
    if (i > 0) {
      EXPECT_GT(c->total_full[i], c->total_full[i - 1]);
    }
  }
  params.gpu = "no-such-gpu";
  EXPECT_FALSE(compute_capacity(*trace, *layers, *plan, params).ok());
}

TEST(Snapshot, MissingOrForeignFilesAreClearErrors) {
  auto missing = load_snapshot("/nonexistent/trace.sqz");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/nonexistent/trace.sqz"), std::string::npos);
  auto foreign = load_snapshot(std::string(SQUEEZE_SOURCE_DIR) + "/traces/FORMAT.md");
  EXPECT_FALSE(foreign.ok());
}

TEST(Snapshot, SimilarityFromAnotherTraceIsResampledAndDrivesTheSession) {
  // The 32-layer synthetic trace with the 30-layer SmolLM2 profile captured on an H100.
  const std::string profile = std::string(SQUEEZE_SOURCE_DIR) + "/traces/h100/smollm2-xsum.sqz";
  auto own = load_snapshot(test::fixture_trace().toStdString());
  auto other = load_snapshot(profile);
  auto mixed = load_snapshot(test::fixture_trace().toStdString(), profile);
  ASSERT_TRUE(own.ok() && other.ok());
  ASSERT_TRUE(mixed.ok()) << mixed.error().message;
  ASSERT_EQ(other->similarities.n_layers, 30);
  EXPECT_EQ(mixed->similarities.n_layers, 32);
  EXPECT_EQ(mixed->similarities.rows(), other->similarities.rows());
  EXPECT_EQ(mixed->prompts.size(), other->prompts.size());
  EXPECT_EQ(mixed->runs.size(), own->runs.size()) << "runs and costs stay the calibration trace's";
  EXPECT_NE(mixed->similarity_source.find("resampled by relative depth from 30 to 32 layers"), std::string::npos)
      << mixed->similarity_source;
  // First and last layers map onto the source's first and last layers exactly.
  EXPECT_DOUBLE_EQ(mixed->similarities.value(0, 0), other->similarities.value(0, 0));
  EXPECT_DOUBLE_EQ(mixed->similarities.value(0, 31), other->similarities.value(0, 29));
  // The simulator session uses the same profile: its mean equals the mean of the resampled rows.
  ASSERT_TRUE(mixed->session) << mixed->session_error;
  ASSERT_EQ(mixed->session->similarity.size(), 32u);
  for (int l = 0; l < 32; ++l) {
    double mean = 0;
    for (int r = 0; r < mixed->similarities.rows(); ++r) mean += mixed->similarities.value(r, l);
    mean /= mixed->similarities.rows();
    EXPECT_NEAR(mixed->session->similarity[static_cast<std::size_t>(l)], mean, 1e-9) << "layer " << l;
  }
  auto missing = load_snapshot(test::fixture_trace().toStdString(), "/nonexistent/profile.sqz");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/nonexistent/profile.sqz"), std::string::npos);
}

}  // namespace
}  // namespace squeeze::gui
