#include "squeeze/sim/predictor.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace squeeze::sim {
namespace {

// Mean decode step of a run as measured: the step mean, or batch / tokens per second.
double measured_step_ms(const core::RunRecord& run) {
  if (run.decode_step_ms_mean > 0) return run.decode_step_ms_mean;
  if (run.tokens_per_s > 0) return 1000.0 * run.batch / run.tokens_per_s;
  return 0.0;
}

}  // namespace

core::Result<Scenario> scenario_of_run(const core::RunRecord& run) {
  Scenario s;
  SQZ_TRY(policy, core::parse_policy(run.policy));
  s.policy = policy;
  s.allocation = policy == core::PolicyKind::Full || run.layer_budgets.empty()
                     ? Allocation::Full
                     : (run.p > 0 ? Allocation::Squeeze : Allocation::Uniform);
  if (s.allocation == Allocation::Full) s.policy = core::PolicyKind::Full;
  s.budget = {run.budget_value > 0 ? run.budget_value : 1.0,
              run.budget_unit == core::BudgetUnit::Fraction};
  s.p = run.p > 0 ? run.p : 1.0;
  s.batch = run.batch;
  s.prompt_len = run.prompt_len;
  s.gen_len = run.gen_len;
  SQZ_TRY(mode, parse_cache_mode(run.mode.empty() ? "online" : run.mode));
  s.mode = mode;
  SQZ_CHECK(validate_scenario(s));
  return s;
}

std::vector<int> caps_of_run(const core::RunRecord& run, int n_layers) {
  if (run.layer_budgets.empty() || run.policy == "full")
    return std::vector<int>(static_cast<std::size_t>(n_layers), kUnboundedCap);
  return run.layer_budgets;
}

core::Result<FittedModel> fit_model(const SimInput& input, std::span<const core::RunRecord> fit_runs,
                                    const std::string& profiled_gpu_override) {
  FittedModel fitted;
  fitted.profiled_model = input.model;
  fitted.layer_similarity = input.layer_similarity;
  const std::string gpu_name = profiled_gpu_override.empty() ? input.gpu_name : profiled_gpu_override;
  auto gpu = find_gpu(gpu_name);
  if (!gpu.ok())
    return core::make_error(fmt::format("{}: the trace was captured on '{}', which the hardware "
                                        "table does not know; name its closest entry with "
                                        "--trace-hardware ({})",
                                        input.trace_path, gpu_name, gpu.error().message),
                            2);
  fitted.profiled_gpu = *gpu;
  if (input.calibration.empty())
    fitted.notes.push_back("trace has no calibration points: every op is priced by roofline only");
  SQZ_TRY(cost, CostModel::fit(input.calibration, fitted.profiled_gpu));
  fitted.cost = std::move(cost);

  // Launch gap: measured step - priced kernels, per kernel on the path, least squares over runs.
  SQZ_TRY(plain, StepTimer::create(fitted.cost, input.model, fitted.profiled_gpu, {}));
  SQZ_TRY(h2o, StepTimer::create(fitted.cost, input.model, fitted.profiled_gpu, {1, true, false, false}));
  double residual_times_nodes = 0, nodes_squared = 0;
  struct MeasuredPeak {
    const core::RunRecord* run;
    Scenario scenario;
    std::vector<int> caps;
    std::int64_t fresh_model = 0;  // the allocation rule's peak for a fresh engine
  };
  std::vector<MeasuredPeak> peaks;
  for (const auto& run : fit_runs) {
    auto scenario = scenario_of_run(run);
    if (!scenario.ok()) continue;
    const std::vector<int> caps = caps_of_run(run, input.model.n_layers);
    const double measured = measured_step_ms(run);
    if (measured > 0) {
      const bool scored = scenario->policy == core::PolicyKind::H2O;
      const StepTimer& timer = scored ? h2o : plain;
      const auto table = timer.decode_table(run.batch, run.prompt_len + run.gen_len);
      std::vector<double> durations(static_cast<std::size_t>(timer.node_count())), finish(durations.size());
      const double priced_ms =
          timer.mean_decode_step_us(table, caps, run.prompt_len, run.gen_len, durations, finish) / 1000.0;
      const double nodes = timer.node_count();
      residual_times_nodes += (measured - priced_ms) * 1000.0 * nodes;
      nodes_squared += nodes * nodes;
      ++fitted.gap_runs_used;
    }
    if (run.peak_bytes > 0) peaks.push_back({&run, *scenario, caps});
  }
  if (nodes_squared > 0) fitted.cost.set_launch_gap_us(std::max(0.0, residual_times_nodes / nodes_squared));
  else fitted.notes.push_back("no measured step times: launch gaps between kernels not calibrated (0)");

  // Memory: the allocation rule per run (with the workspace its engine held under each candidate
  // history), then the overhead fitted on what is left.
  const MemoryPlanner raw_memory(input.model, WorkspaceFit{}, 0.0);
  for (auto& p : peaks) p.fresh_model = raw_memory.peak(p.scenario, p.caps).total_bytes;
  double best_error = 0;
  bool have_best = false;
  std::size_t carried_runs = 0;
  for (EngineHistory history : kEngineHistories) {
    ResidentMap resident = resident_workspaces(input, history, raw_memory);
    std::vector<int> batch, prompt;
    std::vector<double> residual;
    std::size_t carried = 0;
    for (const auto& p : peaks) {
      auto it = resident.find(p.run->id);
      const std::optional<ResidentWorkspace> held = it == resident.end() ? std::nullopt : it->second;
      const std::int64_t model = held ? raw_memory.peak(p.scenario, p.caps, held).total_bytes : p.fresh_model;
      if (model != p.fresh_model) ++carried;
      batch.push_back(p.run->batch);
      prompt.push_back(p.run->prompt_len);
      residual.push_back(double(p.run->peak_bytes) - double(model));
    }
    const WorkspaceFit fit = fit_workspace(batch, prompt, residual);
    double error = 0;
    for (std::size_t i = 0; i < peaks.size(); ++i)
      error += std::abs(residual[i] - fit.at(batch[i], prompt[i])) / double(peaks[i].run->peak_bytes);
    if (!peaks.empty()) error /= double(peaks.size());
    // A later history has to explain the peaks clearly better than an earlier one.
    if (!have_best || error < best_error * 0.999 - 1e-12) {
      have_best = true;
      best_error = error;
      fitted.engine_history = history;
      fitted.workspace = fit;
      fitted.resident = std::move(resident);
      carried_runs = carried;
    }
    if (peaks.empty()) break;
  }
  if (fitted.workspace.runs_used == 0)
    fitted.notes.push_back("no measured peaks: memory is the engine's allocation rule alone (no fitted overhead)");
  else if (carried_runs > 0)
    fitted.notes.push_back(fmt::format(
        "{} of {} measured peaks include workspace the capture's engine kept from earlier runs "
        "(engine history '{}'); the overhead is fitted with it removed, and predictions are for a "
        "fresh engine",
        carried_runs, peaks.size(), engine_history_name(fitted.engine_history)));
  for (const auto& note : fitted.cost.notes()) fitted.notes.push_back(note);
  return fitted;
}

Predictor::Predictor(const FittedModel& fitted, core::ModelConfig target, GpuSpec gpu,
                     std::vector<double> similarity, double reserve)
    : fitted_(fitted), model_(std::move(target)), gpu_(std::move(gpu)),
      similarity_(std::move(similarity)), memory_(model_, fitted.workspace, reserve) {}

core::Result<Predictor> Predictor::create(const FittedModel& fitted, core::ModelConfig target,
                                          GpuSpec gpu, std::vector<double> similarity,
                                          double reserve_fraction) {
  SQZ_CHECK(target.validate());
  if (!(reserve_fraction >= 0 && reserve_fraction < 1))
    return core::make_error(fmt::format("reserve must be in [0, 1), got {}", reserve_fraction), 2);
  return Predictor(fitted, std::move(target), std::move(gpu), std::move(similarity), reserve_fraction);
}

core::Result<const StepTimer*> Predictor::timer(int tp, bool h2o, bool side_stream) const {
  auto& slot = timers_[{tp, h2o, h2o && side_stream}];
  if (!slot) {
    SQZ_TRY(timer, StepTimer::create(fitted_.cost, model_, gpu_, {tp, h2o, h2o && side_stream, false}));
    slot = std::make_unique<StepTimer>(std::move(timer));
  }
  return slot.get();
}

core::Result<Prediction> Predictor::predict(const Scenario& s) const {
  SQZ_CHECK(validate_scenario(s));
  if (s.allocation == Allocation::Squeeze &&
      (similarity_.empty() ||
       std::any_of(similarity_.begin(), similarity_.end(), [](double v) { return !std::isfinite(v); })))
    return core::make_error("squeeze budgets need layer similarities, and the trace has none", 2);
  SQZ_TRY(plan, plan_kv(s, model_.n_layers, similarity_));
  auto caps = plan.caps;
  SQZ_TRY(prediction, predict_with_caps(s, std::move(caps)));
  prediction.kv = std::move(plan);
  return prediction;
}

core::Result<Prediction> Predictor::predict_with_caps(const Scenario& s, std::vector<int> caps) const {
  SQZ_CHECK(validate_scenario(s));
  if (static_cast<int>(caps.size()) != model_.n_layers)
    return core::make_error(fmt::format("{} layer budgets for a model of {} layers", caps.size(), model_.n_layers), 2);
  if (model_.n_heads % s.tp != 0)
    return core::make_error(fmt::format("--tp {} does not divide the model's {} attention heads", s.tp,
                                        model_.n_heads), 2);
  Prediction out;
  out.scenario = s;
  out.kv.caps = caps;
  out.memory = memory_.plan(s, caps, gpu_);
  const bool h2o = s.policy == core::PolicyKind::H2O && s.allocation != Allocation::Full;
  SQZ_TRY(timer, timer(s.tp, h2o, s.h2o_side_stream));
  const StepBreakdown breakdown = timer->mean_decode_breakdown(s.batch, caps, s.prompt_len, s.gen_len);
  out.step_ms = breakdown.total_us / 1000.0;
  out.tokens_per_s = out.step_ms > 0 ? s.batch * 1000.0 / out.step_ms : 0.0;
  out.ttft_ms = timer->prefill_us(s.batch, s.prompt_len) / 1000.0;
  for (const auto& [op, us] : breakdown.by_op) out.decode_ms_by_op.emplace_back(node_cost_name(op), us / 1000.0);
  return out;
}

}  // namespace squeeze::sim
