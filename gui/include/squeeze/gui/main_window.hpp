#pragma once
// The main window: a thin view over the analysis structs (DESIGN.md §6). Loading, the capacity
// sweep and the timeline run on the thread pool; their results arrive as values on the UI thread.
#include <QMainWindow>
#include <optional>

#include "squeeze/gui/analysis.hpp"
#include "squeeze/gui/snapshot.hpp"
#include "squeeze/gui/timeline_data.hpp"

class QCustomPlot;
class QTabWidget;
class QComboBox;
class QSpinBox;
class QLabel;
class QMenu;

namespace squeeze::gui {

class PlotPanel;
class ControlsPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);

  // Loads a trace on a worker; errors go to the status bar and a message box.
  void openTrace(const QString& path);
  // Screenshot mode: once the trace and every view are ready, show `tab` (layers, budgets,
  // capacity, timeline, runs), save the window to `path` and emit screenshotFinished. No message
  // boxes and no recent-files updates in this mode.
  void requestScreenshot(const QString& path, const QString& tab);
  // Switches to a tab by name; false when no tab has that name.
  bool selectTab(const QString& name);
  [[nodiscard]] static QStringList tabNames();

  // For tests: the current analysis state.
  [[nodiscard]] const std::optional<TraceSnapshot>& snapshot() const { return snapshot_; }
  [[nodiscard]] bool busy() const { return pending_ > 0; }

 signals:
  void screenshotFinished(bool ok, const QString& message);
  void traceLoaded();
  void idle();  // all background work done

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void buildMenus();
  void buildTabs();
  void onParamsChanged(const AnalysisParams& params);
  void recomputeBudgets();
  void startCapacity();
  void startTimeline(std::int64_t run_id, int step);
  void showError(const QString& message);
  void exportPlot(QCustomPlot* plot);
  void writeReport();
  void addRecent(const QString& path);
  void rebuildRecentMenu();
  void beginWork();
  void endWork();
  void maybeTakeScreenshot();

  ControlsPanel* controls_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  PlotPanel* layers_panel_ = nullptr;
  PlotPanel* budgets_panel_ = nullptr;
  PlotPanel* capacity_panel_ = nullptr;
  PlotPanel* timeline_panel_ = nullptr;
  PlotPanel* runs_panel_ = nullptr;
  QComboBox* run_picker_ = nullptr;
  QSpinBox* step_picker_ = nullptr;
  QLabel* trace_label_ = nullptr;
  QMenu* recent_menu_ = nullptr;

  std::optional<TraceSnapshot> snapshot_;
  std::optional<LayerImportance> layers_;
  std::optional<BudgetPlan> plan_;
  AnalysisParams params_;
  int capacity_generation_ = 0;  // drops sweep results that an edit made stale
  int timeline_generation_ = 0;
  int load_generation_ = 0;
  int pending_ = 0;
  bool updating_pickers_ = false;
  QString screenshot_path_;
  QString screenshot_tab_;
};

}  // namespace squeeze::gui
