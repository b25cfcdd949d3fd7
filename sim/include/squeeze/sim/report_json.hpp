#pragma once
// JSON and CSV forms of the simulator's results, shared by the commands (and anything else that
// wants the same keys). Sizes are bytes, times milliseconds, throughput tokens per second.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "squeeze/sim/predictor.hpp"
#include "squeeze/sim/session.hpp"

namespace squeeze::sim {

[[nodiscard]] nlohmann::json prediction_json(const Prediction& p);
// trace, model, hardware, similarity source, fitted calibration, notes.
[[nodiscard]] nlohmann::json session_json(const PlanningSession& s, const std::string& hardware);

// One CSV row per prediction; header and rows share prediction_csv_columns().
[[nodiscard]] std::string prediction_csv_header();
[[nodiscard]] std::string prediction_csv_row(const Prediction& p, const std::string& hardware);

// A cap for display: -1 for the full (unbounded) cache.
[[nodiscard]] int display_cap(int cap);

}  // namespace squeeze::sim
