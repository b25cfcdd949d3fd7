#pragma once
// Shared by the GUI tests: the checked-in synthetic trace, and one offscreen QApplication.
#include <QApplication>
#include <QString>
#include <memory>

namespace squeeze::gui::test {

inline QString fixture_trace() {
  return QString(SQUEEZE_SOURCE_DIR) + "/traces/synthetic-llama2-7b.sqz";
}

inline QString binary(const char* name) { return QString(SQUEEZE_BINARY_DIR) + "/gui/" + name; }

// Widgets and pixmaps need an application object; offscreen so CI needs no display.
inline QApplication& app() {
  static int argc = 1;
  static char name[] = "gui-test";
  static char* argv[] = {name, nullptr};
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  static std::unique_ptr<QApplication> instance(new QApplication(argc, argv));
  return *instance;
}

}  // namespace squeeze::gui::test
