#pragma once
// TraceSnapshot: everything the views need from a trace except the kernel records, read once on
// a worker thread and handed to the UI as a value. Kernels stay in the file (a capture may hold
// millions); the timeline streams the one step it shows (timeline_data.hpp).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "squeeze/core/result.hpp"
#include "squeeze/core/trace_types.hpp"

namespace squeeze::sim {
struct PlanningSession;
}

namespace squeeze::gui {

// Kernel records of one run, summarised without holding them.
struct KernelRunSummary {
  std::int64_t run_id = 0;
  std::string label;
  std::int64_t kernel_count = 0;
};

struct TraceSnapshot {
  std::string path;
  core::TraceMeta meta;
  core::ModelConfig model;  // meta.model, or empty (n_layers == 0) when the trace has none
  std::vector<core::PromptRecord> prompts;
  core::SimilarityMatrix similarities;
  std::vector<core::RunRecord> runs;
  std::vector<core::CalibrationPoint> calibration;
  std::vector<KernelRunSummary> kernel_runs;  // runs that have kernel records
  core::TraceCounts counts;
  // The simulator fitted on this trace (cost tables, workspace); null when it cannot be fitted
  // (no calibration, no model), with the reason in session_error. Shared: snapshots are copied
  // to workers, the fitted model is read-only.
  std::shared_ptr<const sim::PlanningSession> session;
  std::string session_error;
  // Where the layer similarities come from when not from this trace (load_snapshot's
  // similarity_from): the other trace's path, its model and whether rows were resampled.
  std::string similarity_source;

  // Typical prompt length of the trace: the median prompt token count, 0 when unknown.
  [[nodiscard]] int typical_prompt_len() const;
};

// Reads a trace. Errors name the path and say what is wrong (missing, not a trace, no model).
// similarity_from: another trace whose prompts and per-layer similarities replace this trace's
// (e.g. a real model's profile beside a GPU capture with random weights); each prompt's row is
// resampled by relative depth when the layer counts differ, as squeeze-sim --similarity-from does.
[[nodiscard]] core::Result<TraceSnapshot> load_snapshot(const std::string& path,
                                                        const std::string& similarity_from = "");

}  // namespace squeeze::gui
