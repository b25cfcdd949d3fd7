#include "squeeze/gui/main_window.hpp"

#include <qcustomplot.h>

namespace squeeze::gui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle("squeeze");
  similarity_plot_ = new QCustomPlot(this);
  similarity_plot_->xAxis->setLabel("layer");
  similarity_plot_->yAxis->setLabel("cosine similarity");
  setCentralWidget(similarity_plot_);
  resize(1200, 800);
}

}  // namespace squeeze::gui
