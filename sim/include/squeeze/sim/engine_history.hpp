#pragma once
// What a capture's engine kept between runs. The CUDA engine's activation and decode workspace
// is grow-only, and a run's measured peak (the engine's allocation peak since the run started)
// counts what earlier, larger runs on the same engine left behind. Which runs shared an engine is
// a property of the capture procedure that the trace does not record; the known procedures:
//
//   fresh        every run on its own engine, warmed up on the run's own configuration
//   per-setting  a new engine, warmed up on its first run, whenever (policy, budget, p) changes;
//                the kernel re-runs (runs with CUPTI kernel records) continue on the last engine
//                (squeeze-profile capture --device cuda)
//   one-engine   one engine for the whole capture (earlier captures)
//
// Runs that ran out of memory grew the workspace too: their activation and decode workspace is
// allocated before their KV, and stays when they fail. fit_model picks the procedure that
// explains the peaks of the runs it is fitted on, trying them in the order of kEngineHistories: a
// later one must explain them clearly better, so when the runs cannot tell the procedures apart
// the current capture tool's (per-setting) is assumed. Predictions for serving are always for a
// fresh engine.

#include <array>
#include <cstdint>
#include <map>
#include <optional>

#include "squeeze/sim/memory_planner.hpp"
#include "squeeze/sim/sim_input.hpp"

namespace squeeze::sim {

enum class EngineHistory { Fresh, PerSetting, OneEngine };
inline constexpr std::array<EngineHistory, 3> kEngineHistories{
    EngineHistory::PerSetting, EngineHistory::Fresh, EngineHistory::OneEngine};
[[nodiscard]] const char* engine_history_name(EngineHistory h);  // "fresh", "per-setting", "one-engine"

// Run id -> the workspace its engine held when it started; nullopt: a fresh engine warmed up on
// the run itself (MemoryPlanner::peak's default). Covers input.attempted_runs (or input.runs when
// the attempted list is empty). Uses the runs' configurations only, never their measurements.
using ResidentMap = std::map<std::int64_t, std::optional<ResidentWorkspace>>;
[[nodiscard]] ResidentMap resident_workspaces(const SimInput& input, EngineHistory history,
                                              const MemoryPlanner& planner);

}  // namespace squeeze::sim
