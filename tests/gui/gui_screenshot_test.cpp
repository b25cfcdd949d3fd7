// squeeze-gui --screenshot renders the real window offscreen; the image must be the window at the
// asked size, full of plot colours (a blank or half-painted window fails), with the cluster
// colours in the similarity bars and the GPU limit line on the capacity tab.
#include <gtest/gtest.h>

#include <QDir>
#include <QDoubleSpinBox>
#include <QEventLoop>
#include <QTabWidget>
#include <QTimer>
#include <QImage>
#include <QProcess>
#include <QSet>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <QTemporaryDir>

#include "squeeze/gui/controls_panel.hpp"
#include "squeeze/gui/main_window.hpp"
#include "squeeze/gui/palette.hpp"
#include "squeeze/gui/plot_panel.hpp"
#include "squeeze/gui/table_model.hpp"
#include "test_support.hpp"

namespace squeeze::gui {
namespace {

struct Shot {
  int exit_code = -1;
  QString output;
  QImage image;
};

Shot screenshot(const QString& trace, const QString& tab, const QString& out) {
  QProcess p;
  auto env = QProcessEnvironment::systemEnvironment();
  env.insert("QT_QPA_PLATFORM", "offscreen");
  env.insert("XDG_CONFIG_HOME", QDir::tempPath() + "/squeeze-gui-test-config");  // keep real settings clean
  p.setProcessEnvironment(env);
  p.setProcessChannelMode(QProcess::MergedChannels);
  QStringList args{trace, "--screenshot", out, "--size", "1400x900"};
  if (!tab.isEmpty()) args << "--tab" << tab;
  p.start(test::binary("squeeze-gui"), args);
  Shot s;
  if (!p.waitForFinished(60000)) {
    p.kill();
    s.output = "timed out";
    return s;
  }
  s.exit_code = p.exitCode();
  s.output = QString::fromLocal8Bit(p.readAll());
  s.image.load(out);
  return s;
}

int distinct_colors(const QImage& img) {
  QSet<QRgb> colors;
  for (int y = 0; y < img.height(); y += 2)
    for (int x = 0; x < img.width(); x += 2) colors.insert(img.pixel(x, y) & 0xffffff);
  return colors.size();
}

int pixels_of(const QImage& img, const QColor& c) {
  int n = 0;
  const QRgb want = c.rgb() & 0xffffff;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) n += (img.pixel(x, y) & 0xffffff) == want ? 1 : 0;
  return n;
}

// Antialiased lines blend into the background: count pixels close to the colour.
int pixels_near(const QImage& img, const QColor& c, int tolerance = 60) {
  int n = 0;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) {
      const QColor p = img.pixelColor(x, y);
      n += std::abs(p.red() - c.red()) + std::abs(p.green() - c.green()) + std::abs(p.blue() - c.blue()) < tolerance;
    }
  return n;
}

class Screenshot : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.isValid()); }
  QString path(const QString& name) const { return dir_.filePath(name); }
  QTemporaryDir dir_;
};

TEST_F(Screenshot, LayersTabShowsClusterColouredBars) {
  auto s = screenshot(test::fixture_trace(), "layers", path("layers.png"));
  ASSERT_EQ(s.exit_code, 0) << s.output.toStdString();
  ASSERT_FALSE(s.image.isNull());
  EXPECT_EQ(s.image.width(), 1400);
  EXPECT_EQ(s.image.height(), 900);
  EXPECT_GT(distinct_colors(s.image), 60) << "a blank or unpainted window has few colours";
  // Bars of the most important and of the unimportant cluster, filled with their palette colour.
  EXPECT_GT(pixels_of(s.image, cluster_color(0, 3)), 800);
  EXPECT_GT(pixels_of(s.image, cluster_color(2, 3)), 800);
}

TEST_F(Screenshot, CapacityTabShowsStackedMemoryAndGpuLimit) {
  auto s = screenshot(test::fixture_trace(), "capacity", path("capacity.png"));
  ASSERT_EQ(s.exit_code, 0) << s.output.toStdString();
  EXPECT_GT(pixels_of(s.image, weights_color()), 2000) << "weights layer of the stacked bars";
  EXPECT_GT(pixels_near(s.image, QColor("#c00000")), 150) << "the GPU memory line";
  EXPECT_GT(pixels_near(s.image, policy_color("squeeze")), 200) << "the squeeze throughput curve";
}

TEST_F(Screenshot, TimelineTabDrawsKernelsColouredByOp) {
  auto s = screenshot(test::fixture_trace(), "timeline", path("timeline.png"));
  ASSERT_EQ(s.exit_code, 0) << s.output.toStdString();
  EXPECT_GT(pixels_of(s.image, op_color("decode_attention")), 200);
  EXPECT_GT(pixels_of(s.image, op_color("gate_up")), 200);
}

TEST_F(Screenshot, BadTraceFailsWithAMessageAndNoImage) {
  auto s = screenshot(path("missing.sqz"), "layers", path("bad.png"));
  EXPECT_NE(s.exit_code, 0);
  EXPECT_TRUE(s.output.contains("missing.sqz")) << s.output.toStdString();
  EXPECT_FALSE(QFile::exists(path("bad.png")));
  auto t = screenshot(test::fixture_trace(), "no-such-tab", path("tab.png"));
  EXPECT_EQ(t.exit_code, 2);
}

// In the live window: editing p recomputes the Budgets tab's table at once.
TEST(Window, EditingPRecomputesTheBudgetTable) {
  test::app();
  MainWindow window;
  QEventLoop loop;
  QObject::connect(&window, &MainWindow::idle, &loop, &QEventLoop::quit);
  QTimer::singleShot(30000, &loop, &QEventLoop::quit);
  window.openTrace(test::fixture_trace());
  loop.exec();
  ASSERT_TRUE(window.snapshot().has_value()) << "trace did not load";
  auto* tabs = window.findChild<QTabWidget*>();
  ASSERT_NE(tabs, nullptr);
  auto* budgets = qobject_cast<PlotPanel*>(tabs->widget(1));
  ASSERT_NE(budgets, nullptr);
  auto squeeze_column = [&] {
    const auto& t = budgets->model()->table();
    const auto col = static_cast<std::size_t>(std::find(t.headers.begin(), t.headers.end(), "squeeze budget") - t.headers.begin());
    std::vector<double> out;
    for (const auto& row : t.rows) out.push_back(row.at(col).value);
    return out;
  };
  const auto before = squeeze_column();
  ASSERT_EQ(before.size(), static_cast<std::size_t>(window.snapshot()->model.n_layers));
  QDoubleSpinBox* p_spin = nullptr;
  for (auto* spin : window.findChildren<QDoubleSpinBox*>())
    if (spin->toolTip().contains("floor(p")) p_spin = spin;
  ASSERT_NE(p_spin, nullptr);
  const double new_p = p_spin->value() > 0.5 ? 0.2 : 0.8;
  p_spin->setValue(new_p);
  const auto after = squeeze_column();
  EXPECT_NE(before, after);
  EXPECT_DOUBLE_EQ(std::accumulate(before.begin(), before.end(), 0.0), std::accumulate(after.begin(), after.end(), 0.0))
      << "the total stays L·B";
  EXPECT_DOUBLE_EQ(*std::min_element(after.begin(), after.end()),
                   std::floor(new_p * window.findChild<ControlsPanel*>()->params().uniform_budget() + 1e-9));
  // Let the capacity sweep the edit started finish before the window goes away.
  QEventLoop settle;
  QObject::connect(&window, &MainWindow::idle, &settle, &QEventLoop::quit);
  QTimer::singleShot(30000, &settle, &QEventLoop::quit);
  if (window.busy()) settle.exec();
}

}  // namespace
}  // namespace squeeze::gui
