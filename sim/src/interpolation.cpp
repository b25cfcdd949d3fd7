#include "squeeze/sim/interpolation.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace squeeze::sim {

double log_lerp(double x, double x0, double y0, double x1, double y1) {
  if (x1 == x0) return y0;
  const double t = (std::log(x) - std::log(x0)) / (std::log(x1) - std::log(x0));
  return std::exp(std::log(y0) + t * (std::log(y1) - std::log(y0)));
}

core::Result<LogLogCurve> LogLogCurve::fit(std::span<const double> x, std::span<const double> y) {
  if (x.empty() || x.size() != y.size())
    return core::make_error(fmt::format("interpolation needs matching non-empty x and y (got {} and {})",
                                        x.size(), y.size()));
  // Average repeated measurements of one x so the curve stays a function.
  std::map<double, std::pair<double, int>> by_x;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!(x[i] > 0) || !(y[i] > 0))
      return core::make_error(
          fmt::format("log-log interpolation needs positive points, got ({}, {})", x[i], y[i]));
    auto& slot = by_x[x[i]];
    slot.first += y[i];
    slot.second += 1;
  }
  LogLogCurve curve;
  for (const auto& [xv, sum] : by_x) {
    curve.xs.push_back(xv);
    curve.ys.push_back(sum.first / sum.second);
  }
  return curve;
}

GridSide LogLogCurve::side(double x) const {
  if (x < xs.front()) return GridSide::Below;
  if (x > xs.back()) return GridSide::Above;
  return GridSide::Inside;
}

double LogLogCurve::at_clamped(double x) const {
  if (xs.size() == 1 || x <= xs.front()) return ys.front();
  if (x >= xs.back()) return ys.back();
  const auto hi = static_cast<std::size_t>(std::upper_bound(xs.begin(), xs.end(), x) - xs.begin());
  const std::size_t lo = hi - 1;
  return log_lerp(x, xs[lo], ys[lo], xs[hi], ys[hi]);
}

}  // namespace squeeze::sim
