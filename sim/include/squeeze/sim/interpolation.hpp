#pragma once
// Piecewise-linear interpolation in log-log space over measured (x, y) points.
//
// Why log-log: GEMM and attention durations follow power laws in each regime (flat when
// launch-bound, linear when bandwidth- or compute-bound), so a straight line between two grid
// points in log-log space is exact for a power law and close at regime changes. Inside the grid
// the curve passes through every measured point exactly.

#include <span>
#include <vector>

#include "squeeze/core/result.hpp"

namespace squeeze::sim {

// Where a query fell relative to the measured grid; callers extrapolate differently on each side.
enum class GridSide { Below, Inside, Above };

struct LogLogCurve {
  std::vector<double> xs;  // (points) strictly increasing, > 0
  std::vector<double> ys;  // (points) > 0

  // Points need not be sorted; duplicate x values are averaged. Errors: no points, x <= 0, y <= 0.
  [[nodiscard]] static core::Result<LogLogCurve> fit(std::span<const double> x,
                                                     std::span<const double> y);

  [[nodiscard]] bool empty() const { return xs.empty(); }
  [[nodiscard]] double min_x() const { return xs.front(); }
  [[nodiscard]] double max_x() const { return xs.back(); }
  [[nodiscard]] GridSide side(double x) const;
  // Interpolated value; x is clamped into [min_x, max_x] (callers handle extrapolation).
  [[nodiscard]] double at_clamped(double x) const;
};

// Interpolates between two values in log space at the log position of x between x0 and x1.
[[nodiscard]] double log_lerp(double x, double x0, double y0, double x1, double y1);

}  // namespace squeeze::sim
