// squeeze-report: render a capacity-planning report from a trace, headless.
#include <QApplication>
#include <cstdio>

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  std::fprintf(stderr, "squeeze-report: not yet implemented\n");
  return 1;
}
