#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "squeeze/sim/interpolation.hpp"

namespace squeeze::sim {
namespace {

TEST(LogLogCurve, PassesThroughEveryMeasuredPoint) {
  const std::vector<double> x{1, 4, 16, 64};
  const std::vector<double> y{3.0, 3.5, 7.0, 25.0};
  auto curve = LogLogCurve::fit(x, y);
  ASSERT_TRUE(curve.ok());
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_DOUBLE_EQ(curve->at_clamped(x[i]), y[i]);
}

TEST(LogLogCurve, IsExactForAPowerLawBetweenPoints) {
  // y = 2 x^1.5: a straight line in log-log space.
  auto f = [](double v) { return 2.0 * std::pow(v, 1.5); };
  const std::vector<double> x{2, 8, 32};
  const std::vector<double> y{f(2), f(8), f(32)};
  auto curve = LogLogCurve::fit(x, y);
  ASSERT_TRUE(curve.ok());
  for (double q : {3.0, 5.5, 10.0, 20.0, 31.0}) EXPECT_NEAR(curve->at_clamped(q), f(q), 1e-9 * f(q));
}

TEST(LogLogCurve, SortsAveragesDuplicatesAndClamps) {
  const std::vector<double> x{16, 1, 16};
  const std::vector<double> y{10, 2, 14};
  auto curve = LogLogCurve::fit(x, y);
  ASSERT_TRUE(curve.ok());
  ASSERT_EQ(curve->xs.size(), 2u);
  EXPECT_DOUBLE_EQ(curve->at_clamped(16), 12.0);
  EXPECT_DOUBLE_EQ(curve->at_clamped(100), 12.0);
  EXPECT_DOUBLE_EQ(curve->at_clamped(0.5), 2.0);
  EXPECT_EQ(curve->side(0.5), GridSide::Below);
  EXPECT_EQ(curve->side(17), GridSide::Above);
  EXPECT_EQ(curve->side(4), GridSide::Inside);
}

TEST(LogLogCurve, RejectsNonPositiveAndEmptyInput) {
  EXPECT_FALSE(LogLogCurve::fit(std::vector<double>{}, std::vector<double>{}).ok());
  EXPECT_FALSE(LogLogCurve::fit(std::vector<double>{1, 0}, std::vector<double>{1, 1}).ok());
  EXPECT_FALSE(LogLogCurve::fit(std::vector<double>{1, 2}, std::vector<double>{1, -1}).ok());
  EXPECT_FALSE(LogLogCurve::fit(std::vector<double>{1, 2}, std::vector<double>{1}).ok());
}

}  // namespace
}  // namespace squeeze::sim
