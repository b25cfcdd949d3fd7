#include "squeeze/gui/plot_panel.hpp"

#include <qcustomplot.h>

#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "squeeze/gui/table_model.hpp"

namespace squeeze::gui {

PlotPanel::PlotPanel(int n_plots, QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  auto* splitter = new QSplitter(Qt::Vertical, this);
  auto* top = new QWidget(splitter);
  top_layout_ = new QVBoxLayout(top);
  top_layout_->setContentsMargins(0, 0, 0, 0);
  auto* row = new QSplitter(Qt::Horizontal, top);
  for (int i = 0; i < n_plots; ++i) {
    auto* plot = new QCustomPlot(row);
    plot->setMinimumSize(320, 240);
    plot->setContextMenuPolicy(Qt::CustomContextMenu);
    plot->installEventFilter(this);
    connect(plot, &QWidget::customContextMenuRequested, this, [this, plot](const QPoint& pos) {
      active_ = plot;
      QMenu menu;
      menu.addAction("Export plot as PNG or PDF…", this, [this, plot] { emit exportRequested(plot); });
      menu.addAction("Reset zoom", plot, [plot] { plot->rescaleAxes(); plot->replot(); });
      menu.exec(plot->mapToGlobal(pos));
    });
    row->addWidget(plot);
    plots_.push_back(plot);
  }
  active_ = plots_.empty() ? nullptr : plots_.front();
  top_layout_->addWidget(row, 1);

  auto* bottom = new QWidget(splitter);
  auto* bottom_layout = new QVBoxLayout(bottom);
  bottom_layout->setContentsMargins(0, 0, 0, 0);
  caption_ = new QLabel(bottom);
  caption_->setWordWrap(true);
  caption_->setVisible(false);
  bottom_layout->addWidget(caption_);
  model_ = new TableModel(this);
  proxy_ = new QSortFilterProxyModel(this);
  proxy_->setSourceModel(model_);
  proxy_->setSortRole(TableModel::kSortRole);
  table_ = new QTableView(bottom);
  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(-1, Qt::AscendingOrder);  // keep the model's order until a header is clicked
  table_->setAlternatingRowColors(true);
  table_->verticalHeader()->setVisible(false);
  table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 6);
  table_->horizontalHeader()->setStretchLastSection(true);
  bottom_layout->addWidget(table_);
  splitter->addWidget(top);
  splitter->addWidget(bottom);
  top->setVisible(n_plots > 0);  // a table-only tab
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 2);
  layout->addWidget(splitter);
}

void PlotPanel::setTable(TableData table) {
  model_->setTable(std::move(table));
  table_->resizeColumnsToContents();
}

void PlotPanel::setCaption(const QString& text) {
  caption_->setText(text);
  caption_->setVisible(!text.isEmpty());
}

void PlotPanel::setToolbar(QWidget* toolbar) { top_layout_->insertWidget(0, toolbar); }

bool PlotPanel::eventFilter(QObject* watched, QEvent* event) {
  if (event->type() == QEvent::MouseButtonPress)
    for (auto* p : plots_)
      if (p == watched) active_ = p;
  return QWidget::eventFilter(watched, event);
}

}  // namespace squeeze::gui
