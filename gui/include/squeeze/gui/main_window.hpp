#pragma once
#include <QMainWindow>

class QCustomPlot;

namespace squeeze::gui {

// The main window: a thin view over squeeze::sim's plain data (DESIGN.md §6).
class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);

 private:
  QCustomPlot* similarity_plot_ = nullptr;
};

}  // namespace squeeze::gui
