#include "squeeze/sim/engine_history.hpp"

#include <string>
#include <tuple>

#include "squeeze/sim/predictor.hpp"

namespace squeeze::sim {
namespace {

// (policy, budget unit, budget, p): what makes the capture start a fresh engine.
using SettingKey = std::tuple<std::string, int, double, double>;

SettingKey setting_of(const core::RunRecord& run) {
  return {run.policy, static_cast<int>(run.budget_unit), run.budget_value, run.p};
}

bool is_kernel_rerun(const SimInput& input, const core::RunRecord& run) {
  // The capture labels its CUPTI re-runs "+cupti" too (traces without per-run capture stats).
  return input.kernel_rerun_ids.contains(run.id) || run.label.ends_with("+cupti");
}

}  // namespace

const char* engine_history_name(EngineHistory h) {
  switch (h) {
    case EngineHistory::Fresh: return "fresh";
    case EngineHistory::PerSetting: return "per-setting";
    case EngineHistory::OneEngine: return "one-engine";
  }
  return "fresh";
}

ResidentMap resident_workspaces(const SimInput& input, EngineHistory history, const MemoryPlanner& planner) {
  const std::vector<core::RunRecord>& runs = input.attempted_runs.empty() ? input.runs : input.attempted_runs;
  ResidentMap out;
  const std::int64_t weights = planner.weights_bytes(1);
  const std::int64_t memory = input.gpu_memory_bytes;
  ResidentWorkspace state;
  bool engine = false;  // an engine exists (state is meaningful)
  SettingKey previous_key;
  std::string previous_policy;
  for (const auto& run : runs) {
    auto scenario = scenario_of_run(run);
    if (!scenario.ok()) continue;
    const bool ok = run.status == "ok";
    const std::vector<int> caps = caps_of_run(run, planner.model().n_layers);
    // A failed run's record may lack its budget: it belongs to the setting before it.
    SettingKey key = setting_of(run);
    if (!ok && run.budget_unit == core::BudgetUnit::None && run.policy != "full" && run.policy == previous_policy)
      key = previous_key;
    bool fresh = !engine || history == EngineHistory::Fresh;
    if (history == EngineHistory::PerSetting && engine && key != previous_key && !is_kernel_rerun(input, run))
      fresh = true;
    if (fresh) {
      // A new engine, warmed up on this run's configuration (a failed warm-up grows the workspace
      // as far as the failed run below does).
      out[run.id] = std::nullopt;
      state = ok ? planner.workspace_after(*scenario, caps, ResidentWorkspace{}) : ResidentWorkspace{};
      engine = true;
    } else {
      out[run.id] = state;
    }
    if (ok) {
      state = planner.workspace_after(*scenario, caps, state);
    } else {
      // Out of memory after the workspace was grown (it is allocated before the KV): the
      // activation rows, then the decode rows, each if it fitted the device.
      const std::int64_t rows = MemoryPlanner::prefill_rows(*scenario);
      auto fits = [&](std::int64_t tokens, int batch) {
        return memory <= 0 || weights + planner.activation_workspace_bytes(tokens, scenario->tp) +
                                      planner.decode_workspace_bytes(batch, state.capacity, scenario->tp) <= memory;
      };
      if (rows > state.tokens && fits(rows, state.batch)) state.tokens = rows;
      if (run.batch > state.batch && fits(state.tokens, run.batch)) state.batch = run.batch;
    }
    previous_key = key;
    previous_policy = run.policy;
  }
  return out;
}

}  // namespace squeeze::sim
