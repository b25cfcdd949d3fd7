// squeeze-report: a capacity-planning report from a trace, rendered headless.
//   squeeze-report TRACE [--hardware h100-sxm,a100-80gb] [--similarity-from TRACE] -o report.html|report.pdf
// Exit status: 0 written, 1 runtime failure, 2 bad input.
#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <cstdio>

#include "squeeze/gui/report.hpp"
#include "squeeze/sim/scenario.hpp"
#include "squeeze/sim/session.hpp"

namespace {

int fail(const QString& message, int code) {
  std::fprintf(stderr, "squeeze-report: %s\n", qPrintable(message));
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  // Plots render into pixmaps: no display needed, whatever the environment says.
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  QApplication::setApplicationName("squeeze-report");

  QCommandLineParser parser;
  parser.setApplicationDescription("Write a capacity-planning report (HTML or PDF) from a squeeze trace.");
  parser.addHelpOption();
  parser.addPositionalArgument("trace", "the .sqz trace");
  QCommandLineOption out({"o", "output"}, "report file: .html (self-contained) or .pdf", "FILE");
  QCommandLineOption hardware("hardware", "comma-separated GPUs (default: all known)", "LIST");
  QCommandLineOption budget("budget", "uniform budget B: a fraction of the prompt (0.2) or tokens (512)", "B");
  QCommandLineOption p("p", "fraction of B for the unimportant cluster, in (0, 1]", "P");
  QCommandLineOption policy("policy", "eviction policy: window, streaming, h2o", "NAME");
  QCommandLineOption mode("mode", "online or calibrated", "MODE");
  QCommandLineOption prompt_len("prompt-len", "prompt tokens per sequence", "N");
  QCommandLineOption gen_len("gen-len", "generated tokens per sequence", "N");
  QCommandLineOption clusters("clusters", "k-means clusters over layer similarity", "K");
  QCommandLineOption similarity_from(
      "similarity-from",
      "take the prompts and per-layer similarities from another trace (a real model's profile beside a "
      "GPU capture with random weights), resampled by relative depth when the layer counts differ",
      "TRACE");
  parser.addOptions({out, hardware, budget, p, policy, mode, prompt_len, gen_len, clusters, similarity_from});
  parser.process(app);

  const QStringList args = parser.positionalArguments();
  if (args.size() != 1) return fail("expected one TRACE argument (see --help)", 2);
  if (!parser.isSet(out)) return fail("-o FILE is required (.html or .pdf)", 2);
  const QString out_path = parser.value(out);
  const QString suffix = QFileInfo(out_path).suffix().toLower();
  if (suffix != "html" && suffix != "htm" && suffix != "pdf")
    return fail(QString("%1: the report is written as .html or .pdf").arg(out_path), 2);

  auto snapshot = squeeze::gui::load_snapshot(args.first().toStdString(),
                                              parser.value(similarity_from).toStdString());
  if (!snapshot.ok()) return fail(QString::fromStdString(snapshot.error().message), 2);

  squeeze::gui::ReportOptions options;
  options.params = squeeze::gui::params_from_trace(*snapshot, options.params);
  options.params_from_trace = false;
  auto& params = options.params;
  auto to_int = [&](const QCommandLineOption& o, int& target) {
    bool ok = false;
    const int v = parser.value(o).toInt(&ok);
    if (!ok || v < 1) return false;
    target = v;
    return true;
  };
  if (parser.isSet(budget)) {
    auto b = squeeze::sim::parse_budget(parser.value(budget).toStdString());
    if (!b.ok()) return fail(QString::fromStdString(b.error().message), 2);
    params.unit = b->is_fraction ? squeeze::gui::AnalysisParams::BudgetUnit::Fraction
                                 : squeeze::gui::AnalysisParams::BudgetUnit::Tokens;
    if (b->is_fraction) params.budget_fraction = b->value;
    else params.budget_tokens = static_cast<int>(b->value);
  }
  if (parser.isSet(p)) {
    bool ok = false;
    params.p = parser.value(p).toDouble(&ok);
    if (!ok || !(params.p > 0 && params.p <= 1)) return fail("--p must be a number in (0, 1]", 2);
  }
  if (parser.isSet(policy)) params.policy = parser.value(policy).toStdString();
  if (parser.isSet(mode)) params.mode = parser.value(mode).toStdString();
  if (parser.isSet(prompt_len) && !to_int(prompt_len, params.prompt_len)) return fail("--prompt-len must be a positive integer", 2);
  if (parser.isSet(gen_len) && !to_int(gen_len, params.gen_len)) return fail("--gen-len must be a positive integer", 2);
  if (parser.isSet(clusters) && !to_int(clusters, params.clusters)) return fail("--clusters must be a positive integer", 2);
  if (parser.isSet(hardware)) {
    for (const auto& name : squeeze::sim::split_list(parser.value(hardware).toStdString())) {
      auto gpu = squeeze::gui::find_gpu(name);
      if (!gpu.ok()) return fail(QString::fromStdString(gpu.error().message), 2);
      options.hardware.push_back(gpu->name);
    }
    if (options.hardware.empty()) return fail("--hardware lists no GPU", 2);
  }

  auto doc = squeeze::gui::build_report(*snapshot, options);
  if (!doc.ok()) return fail(QString::fromStdString(doc.error().message), doc.error().code == 2 ? 2 : 1);
  if (auto status = squeeze::gui::write_report(*doc, out_path); !status.ok())
    return fail(QString::fromStdString(status.error().message), status.error().code);
  std::printf("squeeze-report: wrote %s (%zu plots, %zu sections)\n", qPrintable(out_path), doc->images.size(),
              doc->sections.size());
  return 0;
}
