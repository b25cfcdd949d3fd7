// squeeze-gui: explore a trace's layers, budgets, memory, throughput and kernels.
//   squeeze-gui [TRACE] [--screenshot FILE.png [--tab NAME]]
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <cstdio>

#include "squeeze/gui/main_window.hpp"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("squeeze-gui");
  QApplication::setOrganizationName("squeeze");

  QCommandLineParser parser;
  parser.setApplicationDescription("Layer importance, KV budgets and capacity of a squeeze trace.");
  parser.addHelpOption();
  parser.addPositionalArgument("trace", "a .sqz trace to open");
  QCommandLineOption screenshot("screenshot", "render the window with TRACE to FILE.png and exit", "FILE");
  QCommandLineOption tab("tab", "tab for --screenshot: " + squeeze::gui::MainWindow::tabNames().join(", "), "NAME");
  QCommandLineOption size("size", "window size for --screenshot, WxH (default 1400x900)", "WxH", "1400x900");
  parser.addOptions({screenshot, tab, size});
  parser.process(app);

  const QStringList args = parser.positionalArguments();
  squeeze::gui::MainWindow window;
  if (parser.isSet(screenshot)) {
    if (args.isEmpty()) {
      std::fprintf(stderr, "squeeze-gui: --screenshot needs a TRACE to render\n");
      return 2;
    }
    if (parser.isSet(tab) && !squeeze::gui::MainWindow::tabNames().contains(parser.value(tab).toLower())) {
      std::fprintf(stderr, "squeeze-gui: unknown tab '%s' (use %s)\n", qPrintable(parser.value(tab)),
                   qPrintable(squeeze::gui::MainWindow::tabNames().join(", ")));
      return 2;
    }
    const QStringList wh = parser.value(size).split('x');
    if (wh.size() == 2 && wh[0].toInt() > 0 && wh[1].toInt() > 0) window.resize(wh[0].toInt(), wh[1].toInt());
    int exit_code = 1;
    QObject::connect(&window, &squeeze::gui::MainWindow::screenshotFinished, &app,
                     [&](bool ok, const QString& message) {
                       std::fprintf(ok ? stdout : stderr, "squeeze-gui: %s\n", qPrintable(message));
                       exit_code = ok ? 0 : 1;
                       app.quit();
                     });
    window.requestScreenshot(parser.value(screenshot), parser.value(tab));
    window.show();
    window.openTrace(args.first());
    app.exec();
    return exit_code;
  }
  window.show();
  if (!args.isEmpty()) window.openTrace(args.first());
  return app.exec();
}
