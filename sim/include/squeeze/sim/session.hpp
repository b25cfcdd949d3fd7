#pragma once
// One planning session as the commands use it: a trace loaded and fitted, a target model (the
// trace's own or a config.json), and its similarity profile (resampled by relative depth when
// the target has another layer count).

#include <string>
#include <vector>

#include "squeeze/core/result.hpp"
#include "squeeze/sim/predictor.hpp"
#include "squeeze/sim/sim_input.hpp"

namespace squeeze::sim {

struct SessionOptions {
  std::string trace_path;
  std::string model_config_path;  // empty: the trace's model
  std::string trace_hardware;     // empty: the trace's GPU name
  double reserve_fraction = 0.05;
  // Another trace whose per-layer similarities to use (e.g. a CPU capture of the real model)
  // while costs come from `trace_path` (e.g. a GPU calibration with random weights). Empty: the
  // calibration trace's own similarities.
  std::string similarity_trace_path;
};

struct PlanningSession {
  SimInput input;
  FittedModel fitted;
  core::ModelConfig target;
  std::vector<double> similarity;  // (target layers)
  std::string similarity_source;   // says whether the profile was resampled
  std::vector<std::string> notes;
  double reserve_fraction = 0.05;

  [[nodiscard]] core::Result<Predictor> predictor(const std::string& hardware) const;
};

[[nodiscard]] core::Result<PlanningSession> open_session(const SessionOptions& options);

// "1,8,32" -> {1, 8, 32}; "max" -> 0 (the caller's max batch). Errors (code 2) name the bad item.
[[nodiscard]] core::Result<std::vector<int>> parse_batch_list(const std::string& text);
// Comma-separated items, trimmed, empties dropped.
[[nodiscard]] std::vector<std::string> split_list(const std::string& text);

}  // namespace squeeze::sim
