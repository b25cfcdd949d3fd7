#pragma once
// One tab's body: a row of plots over a sortable table, split so either can be enlarged.
// Every plot has a context menu to export it as PNG or PDF.
#include <QWidget>
#include <vector>

#include "squeeze/gui/tables.hpp"

class QCustomPlot;
class QTableView;
class QSortFilterProxyModel;
class QLabel;
class QVBoxLayout;

namespace squeeze::gui {

class TableModel;

class PlotPanel : public QWidget {
  Q_OBJECT
 public:
  explicit PlotPanel(int n_plots, QWidget* parent = nullptr);

  [[nodiscard]] QCustomPlot* plot(int i = 0) const { return plots_[static_cast<std::size_t>(i)]; }
  [[nodiscard]] int plotCount() const { return static_cast<int>(plots_.size()); }
  // The plot the user touched last; File > Export exports it.
  [[nodiscard]] QCustomPlot* activePlot() const { return active_; }
  [[nodiscard]] TableModel* model() const { return model_; }
  [[nodiscard]] QTableView* tableView() const { return table_; }
  void setTable(TableData table);
  // A line of explanation above the table (e.g. how the numbers were made).
  void setCaption(const QString& text);
  // Adds a row of controls above the plots (the timeline's run/step pickers).
  void setToolbar(QWidget* toolbar);

 signals:
  void exportRequested(QCustomPlot* plot);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  std::vector<QCustomPlot*> plots_;
  QCustomPlot* active_ = nullptr;
  TableModel* model_ = nullptr;
  QSortFilterProxyModel* proxy_ = nullptr;
  QTableView* table_ = nullptr;
  QLabel* caption_ = nullptr;
  QVBoxLayout* top_layout_ = nullptr;
};

}  // namespace squeeze::gui
