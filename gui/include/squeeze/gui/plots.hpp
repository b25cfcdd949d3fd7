#pragma once
// Fill a QCustomPlot from the analysis structs. The window's views and the report call the same
// functions, so a plot in the report is the plot on screen. Each function clears the plot first.
#include <QString>

#include "squeeze/gui/analysis.hpp"
#include "squeeze/gui/timeline_data.hpp"

class QCustomPlot;

namespace squeeze::gui {

// Similarity per layer, one bar series per cluster, min/max over prompts as error bars.
void plot_similarity(QCustomPlot* plot, const LayerImportance& layers);
// Squeeze budgets per layer coloured by cluster, the uniform budget as a dashed line.
void plot_budgets(QCustomPlot* plot, const LayerImportance& layers, const BudgetPlan& plan);
// Stacked memory of the squeeze plan against batch, totals of full and uniform, the GPU limit.
void plot_memory(QCustomPlot* plot, const CapacityCurves& curves);
// Tokens/s against batch for full, uniform and squeeze, each ending at its max batch.
void plot_throughput(QCustomPlot* plot, const CapacityCurves& curves);
// One lane per op, one span per kernel (or merged run of kernels), time in µs.
void plot_timeline(QCustomPlot* plot, const TimelineData& timeline);
// Measured vs predicted tokens/s per run of the trace.
void plot_validation(QCustomPlot* plot, const ValidationSummary& validation);
// Shows a message in an otherwise empty plot (no data, or an error).
void plot_message(QCustomPlot* plot, const QString& message);

// Saves as PNG or PDF by the file's suffix. Returns an error message, empty on success.
[[nodiscard]] QString export_plot(QCustomPlot* plot, const QString& path);

}  // namespace squeeze::gui
