// squeeze-gui: explore a trace's layers, budgets, memory and throughput.
#include <QApplication>

#include "squeeze/gui/main_window.hpp"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  squeeze::gui::MainWindow window;
  window.show();
  return app.exec();
}
