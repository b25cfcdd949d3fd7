#pragma once
// The kernels of one captured step, ready to draw. A trace may hold millions of kernel records;
// only the chosen step is kept (streamed with TraceReader::visit_kernels), and a step with more
// kernels than a plot can show usefully is merged per op into at most `max_drawn` spans.

#include <cstdint>
#include <string>
#include <vector>

#include "squeeze/core/result.hpp"
#include "squeeze/core/trace_types.hpp"

namespace squeeze::gui {

struct TimelineSpan {
  double start_us = 0;  // from the step's first kernel
  double duration_us = 0;
  int op_index = 0;     // into TimelineData::ops
  int layer = -1;
  int merged = 1;       // kernels merged into this span (1 = one real kernel)
  std::string name;     // kernel name; empty for merged spans
};

struct StepSummary {
  int step = 0;
  std::int64_t kernels = 0;
  double span_us = 0;  // first start to last end
};

struct OpTotal {
  std::string op;
  std::int64_t kernels = 0;
  double busy_us = 0;  // sum of durations
};

struct TimelineData {
  std::int64_t run_id = 0;
  int step = 0;
  std::vector<StepSummary> steps;     // every step of the run, ascending
  std::vector<std::string> ops;       // lanes, in first-seen order
  std::vector<TimelineSpan> spans;    // by start
  std::vector<OpTotal> op_totals;     // (ops) exact, before any merging
  std::int64_t kernels_in_step = 0;
  double step_span_us = 0;
  bool downsampled = false;
};

// step < 0 picks the first decode step (1) when the run has one, else the first step present.
[[nodiscard]] core::Result<TimelineData> load_timeline(const std::string& path,
                                                       std::int64_t run_id, int step,
                                                       std::size_t max_drawn = 20000);

// Builds the data from records already in memory (tests, and the loader above).
[[nodiscard]] TimelineData build_timeline(std::int64_t run_id, int step,
                                          std::vector<core::KernelRecord> kernels,
                                          std::vector<StepSummary> steps, std::size_t max_drawn);

}  // namespace squeeze::gui
