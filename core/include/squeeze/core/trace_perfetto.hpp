#pragma once
// Kernel records -> Chrome/Perfetto trace-event JSON (ui.perfetto.dev, chrome://tracing).
//
// One "X" (complete) event per kernel: pid = run id, tid = CUDA stream, name = kernel name,
// ts/dur in microseconds, args = step, layer, op, grid, block, correlation id. ts is relative to
// the first kernel of the same run, so runs line up at 0 and microsecond doubles keep nanosecond
// precision (raw GPU clocks would not fit). Each run's process is named after the run's label.

#include <cstdint>
#include <optional>
#include <string>

#include "squeeze/core/result.hpp"
#include "squeeze/core/trace_reader.hpp"

namespace squeeze::core {

// Writes `out_path` through `out_path`.tmp and a rename: a failure leaves no file named
// `out_path`. run_id: only that run (an unknown run is an error); nullopt: every run.
// Returns the number of kernel events written.
[[nodiscard]] Result<std::int64_t> export_perfetto_json(const TraceReader& trace,
                                                        std::optional<std::int64_t> run_id,
                                                        const std::string& out_path);

}  // namespace squeeze::core
