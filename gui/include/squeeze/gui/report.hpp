#pragma once
// squeeze-report's engine: a capacity-planning report for someone who never ran the tool, built
// from the same analyses and plot functions as the window, rendered offscreen.
#include <QByteArray>
#include <QString>
#include <string>
#include <vector>

#include "squeeze/core/result.hpp"
#include "squeeze/gui/analysis.hpp"

namespace squeeze::gui {

struct ReportOptions {
  std::vector<std::string> hardware;  // simulator GPU names; empty: every known GPU
  AnalysisParams params;              // budget, p, policy, mode, lengths
  bool params_from_trace = true;      // start from the trace's own squeeze run, as the window does
  int plot_width = 960;               // pixels of each embedded plot (rendered at 2x)
  int plot_height = 420;
};

struct ReportImage {
  QString id;       // "similarity", "memory-h100-sxm", ...
  QString caption;
  QByteArray png;
};

// The report as HTML whose images are referenced as "squeeze-img:ID", plus the images, so that
// HTML output inlines them as data: URIs and PDF output hands them to QTextDocument.
struct ReportDocument {
  QString title;
  QString html;
  std::vector<ReportImage> images;
  std::vector<QString> sections;  // section titles, in order
};

[[nodiscard]] core::Result<ReportDocument> build_report(const TraceSnapshot& trace,
                                                        const ReportOptions& options);
// Self-contained HTML: every image inlined as data:image/png;base64.
[[nodiscard]] QString render_html(const ReportDocument& doc);
// Writes .html or .pdf by the suffix, atomically (a temporary file renamed over the target).
[[nodiscard]] core::Status write_report(const ReportDocument& doc, const QString& path);

}  // namespace squeeze::gui
