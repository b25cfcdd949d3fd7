#include "squeeze/gui/main_window.hpp"

#include <qcustomplot.h>

#include <QApplication>
#include <QComboBox>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSpinBox>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>

#include "squeeze/gui/async.hpp"
#include "squeeze/gui/controls_panel.hpp"
#include "squeeze/gui/plot_panel.hpp"
#include "squeeze/gui/plots.hpp"
#include "squeeze/gui/report.hpp"
#include "squeeze/gui/tables.hpp"

namespace squeeze::gui {

namespace {

constexpr int kMaxRecent = 8;

struct LoadOutcome {
  std::optional<TraceSnapshot> snapshot;
  QString error;
};
struct CapacityOutcome {
  std::optional<CapacityCurves> curves;
  QString error;
};
struct TimelineOutcome {
  std::optional<TimelineData> timeline;
  QString error;
};

QString q(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle("squeeze");
  setAcceptDrops(true);
  buildTabs();
  buildMenus();

  controls_ = new ControlsPanel;
  auto* dock = new QDockWidget("Controls", this);
  dock->setObjectName("controls");
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
  auto* scroll = new QScrollArea(dock);
  scroll->setWidget(controls_);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  dock->setWidget(scroll);
  addDockWidget(Qt::LeftDockWidgetArea, dock);
  params_ = controls_->params();
  connect(controls_, &ControlsPanel::paramsChanged, this, &MainWindow::onParamsChanged);

  trace_label_ = new QLabel("No trace. Open one with File › Open, or drop a .sqz file here.");
  statusBar()->addPermanentWidget(trace_label_);
  for (auto* panel : {layers_panel_, budgets_panel_, capacity_panel_, timeline_panel_, runs_panel_})
    for (int i = 0; i < panel->plotCount(); ++i)
      plot_message(panel->plot(i), "Open a trace (File › Open, or drop a .sqz file here)");
  resize(1400, 900);
}

QStringList MainWindow::tabNames() { return {"layers", "budgets", "capacity", "timeline", "runs"}; }

bool MainWindow::selectTab(const QString& name) {
  const int i = tabNames().indexOf(name.toLower());
  if (i < 0) return false;
  tabs_->setCurrentIndex(i);
  return true;
}

void MainWindow::buildTabs() {
  tabs_ = new QTabWidget(this);
  layers_panel_ = new PlotPanel(1);
  budgets_panel_ = new PlotPanel(1);
  capacity_panel_ = new PlotPanel(2);
  timeline_panel_ = new PlotPanel(1);
  runs_panel_ = new PlotPanel(1);
  tabs_->addTab(layers_panel_, "Layers");
  tabs_->addTab(budgets_panel_, "Budgets");
  tabs_->addTab(capacity_panel_, "Capacity");
  tabs_->addTab(timeline_panel_, "Timeline");
  tabs_->addTab(runs_panel_, "Runs");
  setCentralWidget(tabs_);
  for (auto* panel : {layers_panel_, budgets_panel_, capacity_panel_, timeline_panel_, runs_panel_})
    connect(panel, &PlotPanel::exportRequested, this, &MainWindow::exportPlot);

  auto* bar = new QWidget;
  auto* row = new QHBoxLayout(bar);
  row->setContentsMargins(0, 0, 0, 0);
  row->addWidget(new QLabel("run"));
  run_picker_ = new QComboBox(bar);
  run_picker_->setMinimumContentsLength(24);
  row->addWidget(run_picker_);
  row->addWidget(new QLabel("step (0 = prefill)"));
  step_picker_ = new QSpinBox(bar);
  step_picker_->setRange(0, 0);
  row->addWidget(step_picker_);
  auto* reset = new QPushButton("Reset zoom", bar);
  row->addWidget(reset);
  row->addStretch(1);
  timeline_panel_->setToolbar(bar);
  connect(reset, &QPushButton::clicked, this, [this] {
    auto* p = timeline_panel_->plot();
    p->xAxis->rescale();
    p->replot();
  });
  auto reload = [this] {
    if (updating_pickers_ || run_picker_->currentIndex() < 0) return;
    startTimeline(run_picker_->currentData().toLongLong(), step_picker_->value());
  };
  connect(run_picker_, &QComboBox::currentIndexChanged, this, [this, reload] {
    // A new run starts at its first decode step.
    if (updating_pickers_ || run_picker_->currentIndex() < 0) return;
    startTimeline(run_picker_->currentData().toLongLong(), -1);
  });
  connect(step_picker_, &QSpinBox::valueChanged, this, reload);
}

void MainWindow::buildMenus() {
  auto* file = menuBar()->addMenu("&File");
  file->addAction("&Open trace…", QKeySequence::Open, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, "Open squeeze trace", {},
                                                      "squeeze traces (*.sqz);;All files (*)");
    if (!path.isEmpty()) openTrace(path);
  });
  recent_menu_ = file->addMenu("Open &recent");
  rebuildRecentMenu();
  file->addAction("&Export plot…", QKeySequence("Ctrl+E"), this, [this] {
    if (auto* panel = qobject_cast<PlotPanel*>(tabs_->currentWidget()); panel && panel->activePlot())
      exportPlot(panel->activePlot());
    else
      showError("This tab has no plot to export.");
  });
  file->addAction("Write &report…", QKeySequence("Ctrl+R"), this, &MainWindow::writeReport);
  file->addSeparator();
  file->addAction("&Quit", QKeySequence::Quit, qApp, &QApplication::quit);
  auto* view = menuBar()->addMenu("&View");
  const auto names = tabNames();
  for (int i = 0; i < names.size(); ++i)
    view->addAction(tabs_->tabText(i), QKeySequence(QString("Ctrl+%1").arg(i + 1)), this,
                    [this, i] { tabs_->setCurrentIndex(i); });
}

void MainWindow::openTrace(const QString& path) {
  const int generation = ++load_generation_;
  beginWork();
  statusBar()->showMessage(QString("Loading %1…").arg(path));
  run_async<LoadOutcome>(
      this,
      [p = path.toStdString()] {
        auto r = load_snapshot(p);
        return r.ok() ? LoadOutcome{std::move(r).value(), {}} : LoadOutcome{{}, q(r.error().message)};
      },
      [this, generation, path](LoadOutcome outcome) {
        if (generation == load_generation_) {
          if (!outcome.snapshot) {
            showError(QString("Could not open %1:\n%2").arg(path, outcome.error));
          } else {
            snapshot_ = std::move(outcome.snapshot);
            ++timeline_generation_;  // a timeline of the previous trace still loading is stale
            layers_.reset();
            plan_.reset();
            const auto& s = *snapshot_;
            setWindowTitle(QString("squeeze — %1").arg(QFileInfo(path).fileName()));
            trace_label_->setText(QString("%1 · %2 layers · %3 prompts · %4 runs · %5 kernels · %6")
                                      .arg(q(s.model.name)).arg(s.model.n_layers)
                                      .arg(s.prompts.size()).arg(s.runs.size())
                                      .arg(s.counts.kernels)
                                      .arg(s.meta.gpu_name.empty() ? q(s.meta.device_kind) : q(s.meta.gpu_name)));
            statusBar()->showMessage(QString("Loaded %1").arg(path), 5000);
            if (screenshot_path_.isEmpty()) addRecent(path);
            params_ = params_from_trace(s, controls_->params());
            controls_->setParams(params_);
            recomputeBudgets();
            startCapacity();
            runs_panel_->setTable(runs_table(s.runs));
            auto validation = validate_runs(s);
            if (validation.ok() && !validation->rows.empty()) {
              plot_validation(runs_panel_->plot(), *validation);
              runs_panel_->setCaption(QString("Simulator validation over %1 measured runs (%4): throughput MAPE %2%, peak memory MAPE %3%.")
                                          .arg(validation->rows.size())
                                          .arg(validation->mape_tokens_per_s, 0, 'f', 1)
                                          .arg(validation->mape_peak_bytes, 0, 'f', 1)
                                          .arg(q(validation->method)));
            } else {
              plot_message(runs_panel_->plot(), validation.ok() ? QString("No measured runs to validate against.")
                                                                : q(validation.error().message));
              runs_panel_->setCaption("Measured runs of this trace.");
            }
            updating_pickers_ = true;
            run_picker_->clear();
            for (const auto& r : s.kernel_runs)
              run_picker_->addItem(QString("%1 · %2 (%3 kernels)").arg(r.run_id).arg(q(r.label)).arg(r.kernel_count),
                                   QVariant::fromValue<qlonglong>(r.run_id));
            updating_pickers_ = false;
            if (!s.kernel_runs.empty()) startTimeline(s.kernel_runs.front().run_id, -1);
            else plot_message(timeline_panel_->plot(), "This trace holds no kernel records.");
            emit traceLoaded();
          }
        }
        endWork();
      });
}

void MainWindow::onParamsChanged(const AnalysisParams& params) {
  const bool clusters_changed = params.clusters != params_.clusters;
  params_ = params;
  if (!snapshot_) return;
  if (clusters_changed) layers_.reset();
  recomputeBudgets();
  startCapacity();
}

void MainWindow::recomputeBudgets() {
  if (!snapshot_) return;
  if (!layers_) {
    auto layers = analyze_layers(snapshot_->similarities, params_.clusters);
    if (!layers.ok()) {
      plan_.reset();
      const QString msg = q(layers.error().message);
      plot_message(layers_panel_->plot(), msg);
      plot_message(budgets_panel_->plot(), msg);
      statusBar()->showMessage(msg);
      return;
    }
    layers_ = std::move(layers).value();
    plot_similarity(layers_panel_->plot(), *layers_);
    layers_panel_->setTable(layers_table(*layers_, nullptr));
    layers_panel_->setCaption(
        QString("Layers in the highest-similarity cluster change the residual stream least: they are the "
                "unimportant set. Agreement of that set between single prompts and the average: %1.")
            .arg(layers_->agreement, 0, 'f', 2));
  }
  auto plan = plan_budgets(*layers_, params_);
  if (!plan.ok()) {
    plan_.reset();
    plot_message(budgets_panel_->plot(), q(plan.error().message));
    statusBar()->showMessage(q(plan.error().message));
    return;
  }
  plan_ = std::move(plan).value();
  plot_budgets(budgets_panel_->plot(), *layers_, *plan_);
  budgets_panel_->setTable(layers_table(*layers_, &*plan_));
  int n_unimportant = 0, small = 0;
  for (int l = 0; l < layers_->n_layers(); ++l)
    if (layers_->is_unimportant(l)) {
      ++n_unimportant;
      small = plan_->squeeze[static_cast<std::size_t>(l)];
    }
  controls_->setSummary(QString("<b>B = %1 tokens</b> per layer.<br>%2 of %3 layers are unimportant and keep %4; "
                                "the others share the rest (%5 tokens in all, as uniform).<br>"
                                "Unimportant-set agreement across prompts: %6.")
                            .arg(plan_->uniform_budget).arg(n_unimportant).arg(layers_->n_layers())
                            .arg(small).arg(plan_->total_squeeze).arg(layers_->agreement, 0, 'f', 2));
}

void MainWindow::startCapacity() {
  if (!snapshot_ || !layers_ || !plan_) return;
  const int generation = ++capacity_generation_;
  beginWork();
  // The worker gets its own copies: the UI may change its state while the sweep runs.
  run_async<CapacityOutcome>(
      this,
      [trace = *snapshot_, layers = *layers_, plan = *plan_, params = params_] {
        auto r = compute_capacity(trace, layers, plan, params);
        return r.ok() ? CapacityOutcome{std::move(r).value(), {}} : CapacityOutcome{{}, q(r.error().message)};
      },
      [this, generation](CapacityOutcome outcome) {
        if (generation == capacity_generation_) {
          if (!outcome.curves) {
            plot_message(capacity_panel_->plot(0), outcome.error);
            plot_message(capacity_panel_->plot(1), outcome.error);
            capacity_panel_->setTable({});
            statusBar()->showMessage(outcome.error);
          } else {
            const auto& c = *outcome.curves;
            plot_memory(capacity_panel_->plot(0), c);
            plot_throughput(capacity_panel_->plot(1), c);
            capacity_panel_->setTable(capacity_table(c));
            capacity_panel_->setCaption(
                QString("<b>%1</b>, prompt %2 + %3 generated tokens, policy %4: max batch full %5, uniform %6, "
                        "squeeze %7. %8.%9")
                    .arg(q(c.gpu.name)).arg(params_.prompt_len).arg(params_.gen_len).arg(q(params_.policy))
                    .arg(c.max_batch_full).arg(c.max_batch_uniform).arg(c.max_batch_squeeze).arg(q(c.method))
                    .arg((c.prefill_is_peak && params_.mode == "online"
                              ? QString("<br>In online mode the prefill holds every layer's full prompt cache, so the "
                                        "peak (and the max batch) is the prefill's; budgets only help once they bound "
                                        "the prefill too (mode: calibrated).")
                              : QString()) +
                         (c.notes.empty() ? QString() : "<br><i>" + q(c.notes.front()) + "</i>")));
          }
        }
        endWork();
      });
}

void MainWindow::startTimeline(std::int64_t run_id, int step) {
  if (!snapshot_) return;
  const int generation = ++timeline_generation_;
  beginWork();
  statusBar()->showMessage(QString("Reading kernels of run %1…").arg(run_id));
  run_async<TimelineOutcome>(
      this,
      [path = snapshot_->path, run_id, step] {
        auto r = load_timeline(path, run_id, step);
        return r.ok() ? TimelineOutcome{std::move(r).value(), {}} : TimelineOutcome{{}, q(r.error().message)};
      },
      [this, generation](TimelineOutcome outcome) {
        if (generation == timeline_generation_) {
          if (!outcome.timeline) {
            plot_message(timeline_panel_->plot(), outcome.error);
            timeline_panel_->setTable({});
            statusBar()->showMessage(outcome.error);
          } else {
            const auto& t = *outcome.timeline;
            plot_timeline(timeline_panel_->plot(), t);
            timeline_panel_->setTable(timeline_table(t));
            timeline_panel_->setCaption(
                QString("Run %1 has %2 steps with kernels; this step's GPU time per op below.%3")
                    .arg(t.run_id).arg(t.steps.size())
                    .arg(t.downsampled ? " Neighbouring kernels of one op are merged for drawing; the table counts every kernel." : ""));
            updating_pickers_ = true;
            if (!t.steps.empty()) step_picker_->setRange(t.steps.front().step, t.steps.back().step);
            step_picker_->setValue(t.step);
            const int index = run_picker_->findData(QVariant::fromValue<qlonglong>(t.run_id));
            if (index >= 0) run_picker_->setCurrentIndex(index);
            updating_pickers_ = false;
            statusBar()->clearMessage();
          }
        }
        endWork();
      });
}

void MainWindow::showError(const QString& message) {
  statusBar()->showMessage(message.section('\n', 0, 0) + " " + message.section('\n', 1), 0);
  if (!screenshot_path_.isEmpty()) {
    emit screenshotFinished(false, message);
    screenshot_path_.clear();
    return;
  }
  QMessageBox::warning(this, "squeeze", message);
}

void MainWindow::exportPlot(QCustomPlot* plot) {
  const QString path = QFileDialog::getSaveFileName(this, "Export plot", "plot.png",
                                                    "PNG image (*.png);;PDF document (*.pdf)");
  if (path.isEmpty()) return;
  if (const QString error = export_plot(plot, path); !error.isEmpty()) showError(error);
  else statusBar()->showMessage(QString("Wrote %1").arg(path), 5000);
}

void MainWindow::writeReport() {
  if (!snapshot_) {
    showError("Open a trace first: the report is built from it.");
    return;
  }
  const QString path = QFileDialog::getSaveFileName(this, "Write capacity-planning report", "report.html",
                                                    "HTML report (*.html);;PDF report (*.pdf)");
  if (path.isEmpty()) return;
  // Plots are widgets, so the report renders on the UI thread; it takes a second or two.
  QApplication::setOverrideCursor(Qt::WaitCursor);
  ReportOptions options;
  options.params = params_;
  options.params_from_trace = false;
  options.hardware = {params_.gpu};
  auto doc = build_report(*snapshot_, options);
  core::Status status = doc.ok() ? write_report(*doc, path) : core::Status(doc.error());
  QApplication::restoreOverrideCursor();
  if (!status.ok()) showError(QString("Could not write the report:\n%1").arg(q(status.error().message)));
  else statusBar()->showMessage(QString("Wrote %1").arg(path), 5000);
}

void MainWindow::addRecent(const QString& path) {
  QSettings settings("squeeze", "squeeze-gui");
  QStringList recent = settings.value("recentFiles").toStringList();
  const QString absolute = QFileInfo(path).absoluteFilePath();
  recent.removeAll(absolute);
  recent.prepend(absolute);
  while (recent.size() > kMaxRecent) recent.removeLast();
  settings.setValue("recentFiles", recent);
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  recent_menu_->clear();
  const QStringList recent = QSettings("squeeze", "squeeze-gui").value("recentFiles").toStringList();
  for (const QString& path : recent)
    recent_menu_->addAction(QFileInfo(path).fileName() + "  —  " + path, this, [this, path] { openTrace(path); });
  recent_menu_->setEnabled(!recent.isEmpty());
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls() && event->mimeData()->urls().first().isLocalFile())
    event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (!urls.isEmpty() && urls.first().isLocalFile()) openTrace(urls.first().toLocalFile());
}

void MainWindow::beginWork() { ++pending_; }

void MainWindow::endWork() {
  if (--pending_ > 0) return;
  emit idle();
  maybeTakeScreenshot();
}

void MainWindow::requestScreenshot(const QString& path, const QString& tab) {
  screenshot_path_ = path;
  screenshot_tab_ = tab;
}

void MainWindow::maybeTakeScreenshot() {
  if (screenshot_path_.isEmpty() || !snapshot_) return;
  if (!screenshot_tab_.isEmpty() && !selectTab(screenshot_tab_)) {
    emit screenshotFinished(false, QString("unknown tab '%1' (use %2)").arg(screenshot_tab_, tabNames().join(", ")));
    screenshot_path_.clear();
    return;
  }
  const QString path = screenshot_path_;
  screenshot_path_.clear();
  // Let the tab switch lay out and paint before grabbing.
  QTimer::singleShot(50, this, [this, path] {
    const QPixmap pixmap = grab();
    const bool ok = pixmap.save(path);
    emit screenshotFinished(ok, ok ? QString("wrote %1").arg(path) : QString("could not write %1").arg(path));
  });
}

}  // namespace squeeze::gui
