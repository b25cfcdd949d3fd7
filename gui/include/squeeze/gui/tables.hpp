#pragma once
// The tables under the plots and in the report, as plain data (no Qt): the window shows them
// through TableModel, the report writes them as HTML. One function per table.

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "squeeze/gui/analysis.hpp"
#include "squeeze/gui/timeline_data.hpp"

namespace squeeze::gui {

struct TableCell {
  std::string text;
  double value = std::numeric_limits<double>::quiet_NaN();  // for sorting; NaN: sort by text
};

struct TableData {
  std::vector<std::string> headers;
  std::vector<std::vector<TableCell>> rows;
  std::vector<std::string> tooltips;  // per column, may be empty
};

[[nodiscard]] std::string format_bytes(double bytes);  // "13.48 GiB"
[[nodiscard]] std::string format_number(double v, int decimals);  // "—" for NaN

// layer, mean/min/max similarity, cluster, unimportant, uniform and squeeze budgets.
[[nodiscard]] TableData layers_table(const LayerImportance& layers, const BudgetPlan* plan);
// One row per batch of the sweep: memory parts and throughput per policy.
[[nodiscard]] TableData capacity_table(const CapacityCurves& c);
// One row per GPU: max batch and tokens/s at that batch for full, uniform, squeeze.
[[nodiscard]] TableData max_batch_table(const std::vector<CapacityCurves>& per_gpu);
// One row per op of the shown step.
[[nodiscard]] TableData timeline_table(const TimelineData& t);
// Measured vs predicted per run.
[[nodiscard]] TableData validation_table(const ValidationSummary& v);
// The trace's measured runs.
[[nodiscard]] TableData runs_table(const std::vector<core::RunRecord>& runs);

}  // namespace squeeze::gui
