#pragma once
// The simulator's front door: a model fitted on a trace (cost tables, launch gap, workspace),
// aimed at a target model and GPU, predicts memory, max batch, step time and throughput.

#include <map>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "squeeze/core/result.hpp"
#include "squeeze/core/trace_types.hpp"
#include "squeeze/sim/cost_model.hpp"
#include "squeeze/sim/engine_history.hpp"
#include "squeeze/sim/memory_planner.hpp"
#include "squeeze/sim/scenario.hpp"
#include "squeeze/sim/sim_input.hpp"
#include "squeeze/sim/step_model.hpp"

namespace squeeze::sim {

// What a trace's calibration and measured runs teach the simulator.
struct FittedModel {
  core::ModelConfig profiled_model;
  GpuSpec profiled_gpu;
  CostModel cost;
  WorkspaceFit workspace;                // overhead beyond the allocation rule
  // The capture procedure that best explains the fitted runs' peaks, and for every attempted run
  // of the trace the workspace its engine held when it started under that procedure.
  EngineHistory engine_history = EngineHistory::PerSetting;
  ResidentMap resident;
  std::vector<double> layer_similarity;  // (profiled layers)
  int gap_runs_used = 0;                 // runs the launch gap was fitted on
  std::vector<std::string> notes;
};

// Fits the cost tables on input.calibration, then the launch gap and the memory overhead on
// `fit_runs` (validate passes all runs but one): for each engine history the residuals of the
// runs' peaks after the allocation rule are fitted (fit_workspace), and the history whose fit
// leaves the smallest mean relative error on those runs is kept (ties: the earlier one in
// kEngineHistories). profiled_gpu_override: the GPU the trace was captured on,
// when its name is not in the hardware table.
[[nodiscard]] core::Result<FittedModel> fit_model(const SimInput& input,
                                                  std::span<const core::RunRecord> fit_runs,
                                                  const std::string& profiled_gpu_override = "");

// The scenario a measured run describes, and its per-layer caps (empty budgets: full cache).
[[nodiscard]] core::Result<Scenario> scenario_of_run(const core::RunRecord& run);
[[nodiscard]] std::vector<int> caps_of_run(const core::RunRecord& run, int n_layers);

struct Prediction {
  Scenario scenario;
  KvPlan kv;
  MemoryPlan memory;
  double step_ms = 0;          // mean decode step (TPOT)
  double tokens_per_s = 0;     // batch / mean decode step
  double ttft_ms = 0;          // prefill
  std::vector<std::pair<std::string, double>> decode_ms_by_op;  // summed node time per op
};

class Predictor {
 public:
  // similarity: one value per layer of `target` (resample_by_depth first when depths differ).
  [[nodiscard]] static core::Result<Predictor> create(const FittedModel& fitted,
                                                      core::ModelConfig target, GpuSpec gpu,
                                                      std::vector<double> similarity,
                                                      double reserve_fraction = 0.05);

  [[nodiscard]] core::Result<Prediction> predict(const Scenario& s) const;
  // The same with caps given (a measured run's budgets), skipping the budget computation.
  [[nodiscard]] core::Result<Prediction> predict_with_caps(const Scenario& s, std::vector<int> caps) const;

  [[nodiscard]] const core::ModelConfig& model() const { return model_; }
  [[nodiscard]] const GpuSpec& gpu() const { return gpu_; }
  [[nodiscard]] const MemoryPlanner& memory() const { return memory_; }
  [[nodiscard]] const std::vector<double>& similarity() const { return similarity_; }
  [[nodiscard]] const FittedModel& fitted() const { return fitted_; }
  // One timer per (tp, h2o scoring, side stream): built on first use.
  [[nodiscard]] core::Result<const StepTimer*> timer(int tp, bool h2o, bool side_stream = false) const;

 private:
  Predictor(const FittedModel& fitted, core::ModelConfig target, GpuSpec gpu,
            std::vector<double> similarity, double reserve);

  FittedModel fitted_;
  core::ModelConfig model_;
  GpuSpec gpu_;
  std::vector<double> similarity_;
  MemoryPlanner memory_;
  mutable std::map<std::tuple<int, bool, bool>, std::unique_ptr<StepTimer>> timers_;
};

}  // namespace squeeze::sim
