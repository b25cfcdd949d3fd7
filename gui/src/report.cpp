#include "squeeze/gui/report.hpp"

#include <qcustomplot.h>

#include <QBuffer>
#include <QFile>
#include <QFileInfo>
#include <QPrinter>
#include <QSaveFile>
#include <QTextDocument>
#include <QUrl>
#include <cmath>
#include <filesystem>

#include "squeeze/gui/plots.hpp"
#include "squeeze/gui/tables.hpp"
#include "squeeze/sim/session.hpp"

namespace squeeze::gui {

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }
QString esc(const QString& s) { return s.toHtmlEscaped(); }

QString html_table(const TableData& t, int max_rows = -1) {
  QString h = "<table class=\"data\" width=\"100%\" cellspacing=\"0\" cellpadding=\"3\" border=\"1\"><thead><tr>";
  for (const auto& head : t.headers) h += "<th>" + esc(q(head)) + "</th>";
  h += "</tr></thead><tbody>";
  int n = 0;
  for (const auto& row : t.rows) {
    if (max_rows >= 0 && n++ >= max_rows) break;
    h += "<tr>";
    for (const auto& cell : row)
      h += QString("<td%1>").arg(std::isnan(cell.value) ? "" : " align=\"right\"") + esc(q(cell.text)) + "</td>";
    h += "</tr>";
  }
  return h + "</tbody></table>";
}

// Renders a plot offscreen; QCustomPlot lays itself out for the requested size.
class PlotRenderer {
 public:
  PlotRenderer(int w, int h) : w_(w), h_(h) { plot_.resize(w, h); }
  QCustomPlot* plot() { return &plot_; }
  QByteArray png() {
    plot_.legend->setFont(QFont(plot_.font().family(), 8));
    const QPixmap pixmap = plot_.toPixmap(w_, h_, 2.0);
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    pixmap.save(&buffer, "PNG");
    return bytes;
  }

 private:
  QCustomPlot plot_;
  int w_, h_;
};

struct Builder {
  ReportDocument doc;
  void section(const QString& title) {
    doc.sections.push_back(title);
    doc.html += "<h2>" + esc(title) + "</h2>\n";
  }
  void para(const QString& html) { doc.html += "<p>" + html + "</p>\n"; }
  void image(const QString& id, const QString& caption, QByteArray png, int width) {
    doc.html += QString("<p class=\"figure\"><img src=\"squeeze-img:%1\" width=\"%2\" alt=\"%3\"><br><i>%3</i></p>\n")
                    .arg(id).arg(width).arg(esc(caption));
    doc.images.push_back({id, caption, std::move(png)});
  }
};

QString ratio_text(double a, double b) {
  return b > 0 ? QString::number(a / b, 'f', 2) + "×" : QString("—");
}

}  // namespace

core::Result<ReportDocument> build_report(const TraceSnapshot& trace, const ReportOptions& options) {
  const AnalysisParams params =
      options.params_from_trace ? params_from_trace(trace, options.params) : options.params;
  SQZ_TRY(layers, analyze_layers(trace.similarities, params.clusters));
  SQZ_TRY(plan, plan_budgets(layers, params));
  std::vector<std::string> gpus = options.hardware;
  if (gpus.empty())
    for (const auto& g : available_gpus()) gpus.push_back(g.name);
  std::vector<CapacityCurves> curves;
  for (const auto& name : gpus) {
    AnalysisParams p = params;
    p.gpu = name;
    SQZ_TRY(c, compute_capacity(trace, layers, plan, p));
    curves.push_back(std::move(c));
  }
  const int w = options.plot_width, h = options.plot_height;
  const auto& m = trace.model;
  Builder b;
  b.doc.title = QString("Capacity plan: %1 with SqueezeAttention").arg(q(m.name));
  b.doc.html += "<h1>" + esc(b.doc.title) + "</h1>\n";

  // Headline first: what a planner came for.
  b.section("Summary");
  {
    QString list;
    for (const auto& c : curves)
      list += QString("<li><b>%1</b> (%2): max batch %3 with the full cache, %4 with uniform budgets, "
                      "<b>%5 with SqueezeAttention</b>; decode throughput at the max batch %6 tokens/s "
                      "(%7 vs full, %8 vs uniform).</li>")
                  .arg(esc(q(c.gpu.name))).arg(esc(q(format_bytes(double(c.gpu.memory_bytes)))))
                  .arg(c.max_batch_full).arg(c.max_batch_uniform).arg(c.max_batch_squeeze)
                  .arg(c.tput_at_max_squeeze, 0, 'f', 0)
                  .arg(ratio_text(c.tput_at_max_squeeze, c.tput_at_max_full))
                  .arg(ratio_text(c.tput_at_max_squeeze, c.tput_at_max_uniform));
    int n_u = 0;
    for (int l = 0; l < layers.n_layers(); ++l) n_u += layers.is_unimportant(l) ? 1 : 0;
    b.para(QString("Serving <b>%1</b> with a KV budget of <b>B = %2 tokens per layer</b> (%3), policy <b>%4</b>, "
                   "%5 mode, prompts of %6 tokens and %7 generated tokens. SqueezeAttention gives the %8 least "
                   "important of %9 layers floor(p·B) tokens (p = %10) and spreads the saving over the others; "
                   "the total KV stays that of the uniform budget.")
               .arg(esc(q(m.name))).arg(plan.uniform_budget)
               .arg(params.unit == AnalysisParams::BudgetUnit::Fraction
                        ? QString("%1 of the prompt").arg(params.budget_fraction) : QString("given in tokens"))
               .arg(esc(q(params.policy))).arg(esc(q(params.mode))).arg(params.prompt_len).arg(params.gen_len)
               .arg(n_u).arg(layers.n_layers()).arg(params.p));
    b.doc.html += "<ul>" + list + "</ul>\n";
    if (params.mode == "online" && !curves.empty() && curves.front().prefill_is_peak)
      b.para("In <i>online</i> mode (the paper's) the prefill holds every layer's full prompt cache before "
             "compressing, so the prefill sets the peak and budgets do not raise the max batch; they raise "
             "throughput per sequence and pay off in <i>calibrated</i> mode (re-run with --mode calibrated), "
             "which is safe when the unimportant set is stable across prompts (see below).");
    if (trace.meta.device_kind == "synthetic" || trace.meta.notes.find("synthetic") != std::string::npos)
      b.para("<b>Note:</b> this trace is synthetic: its similarities, timings and calibration were generated, "
             "not measured on a GPU. Use it to learn the tool, not to buy hardware.");
  }

  b.section("Model and trace");
  {
    TableData t;
    t.headers = {"item", "value"};
    auto row = [&](const std::string& k, const std::string& v) { t.rows.push_back({{k}, {v}}); };
    row("model", m.name);
    row("architecture", m.architecture);
    row("layers", std::to_string(m.n_layers));
    row("hidden / intermediate", std::to_string(m.hidden) + " / " + std::to_string(m.intermediate));
    row("query heads / KV heads / head dim", std::to_string(m.n_heads) + " / " + std::to_string(m.n_kv_heads) +
                                                  " / " + std::to_string(m.head_dim));
    row("parameters", format_number(double(m.parameter_count()) / 1e9, 2) + " B");
    row("weights / KV dtype", std::string(core::dtype_name(m.weight_dtype)) + " / " + core::dtype_name(m.kv_dtype));
    row("KV per token, all layers", format_bytes(2.0 * m.kv_dim() * core::dtype_bytes(m.kv_dtype) * m.n_layers));
    row("trace", QFileInfo(q(trace.path)).fileName().toStdString());
    row("captured by", trace.meta.tool + " " + trace.meta.tool_version + " on " +
                           (trace.meta.gpu_name.empty() ? trace.meta.device_kind : trace.meta.gpu_name));
    row("created", trace.meta.created_utc);
    if (!trace.similarity_source.empty()) row("layer similarities from", trace.similarity_source);
    row("prompts / measured runs / kernel records",
        std::to_string(trace.prompts.size()) + " / " + std::to_string(trace.runs.size()) + " / " +
            std::to_string(trace.counts.kernels));
    b.doc.html += html_table(t);
  }

  b.section("Layer importance and clusters");
  {
    PlotRenderer r(w, h);
    plot_similarity(r.plot(), layers);
    b.para("For each decoder layer, the cosine similarity between the residual stream before attention and after "
           "the attention residual add, averaged over prompt tokens. A layer with high similarity changes its input "
           "little: it is <i>unimportant</i>, and its KV cache can shrink. Layers are split into clusters by exact 1-D "
           "k-means; the highest cluster is the unimportant set.");
    if (!trace.similarity_source.empty())
      b.para(QString("These similarities are not this trace's own: they come from <b>%1</b>. Costs and memory still "
                     "come from this trace's measurements.").arg(esc(q(trace.similarity_source))));
    b.image("similarity", "Per-layer similarity by cluster; whiskers span the prompts.", r.png(), w);
    b.para(QString("Unimportant-set agreement between single prompts and the average: <b>%1</b> "
                   "(1 = every prompt picks the same layers; calibrated mode, which fixes budgets in advance, "
                   "is safe when this is high).").arg(layers.agreement, 0, 'f', 2));
  }

  b.section("Per-layer budgets");
  {
    PlotRenderer r(w, h);
    plot_budgets(r.plot(), layers, plan);
    b.image("budgets", "Tokens kept per sequence in each layer: SqueezeAttention vs uniform.", r.png(), w);
    b.doc.html += html_table(layers_table(layers, &plan));
  }

  b.section("Memory and throughput");
  b.para("Peak device memory and decode throughput against batch, predicted by the simulator fitted on this trace's "
         "calibration and measured runs. Bars stack weights, KV per cluster (SqueezeAttention) and activations plus "
         "workspace; the lines are the totals with the full cache and with uniform budgets; the red line is the GPU's "
         "memory. Diamonds mark the largest batch that fits.");
  for (const auto& c : curves) {
    const QString id = q(c.gpu.name);
    PlotRenderer rm(w, h);
    plot_memory(rm.plot(), c);
    b.image("memory-" + id, QString("Memory vs batch on %1.").arg(id), rm.png(), w);
    PlotRenderer rt(w, h);
    plot_throughput(rt.plot(), c);
    b.image("throughput-" + id, QString("Throughput vs batch on %1.").arg(id), rt.png(), w);
  }
  if (!curves.empty()) {
    b.para(QString("Sweep on %1:").arg(esc(q(curves.front().gpu.name))));
    b.doc.html += html_table(capacity_table(curves.front()));
  }

  b.section("Max batch per GPU");
  b.doc.html += html_table(max_batch_table(curves));
  b.para("Savings: the ratios compare decode throughput at each allocation's own max batch.");

  b.section("Simulator validation");
  if (auto v = validate_runs(trace); v.ok() && !v->rows.empty()) {
    b.para(QString("Each measured run of the trace predicted by the simulator (%1). Mean absolute percentage error: "
                   "throughput <b>%2%</b>, peak memory <b>%3%</b>.")
               .arg(esc(q(v->method))).arg(v->mape_tokens_per_s, 0, 'f', 1).arg(v->mape_peak_bytes, 0, 'f', 1));
    PlotRenderer r(w, h);
    plot_validation(r.plot(), *v);
    b.image("validation", "Measured vs predicted decode throughput per run.", r.png(), w);
    b.doc.html += html_table(validation_table(*v));
  } else {
    b.para(v.ok() ? QString("The trace holds no measured runs to validate against.")
                  : esc(q(v.error().message)));
  }

  b.section("Method and caveats");
  {
    QString notes;
    if (!curves.empty()) {
      notes += "<li>" + esc(q(curves.front().method)) + "</li>";
      for (const auto& n : curves.front().notes) notes += "<li>" + esc(q(n)) + "</li>";
    }
    notes += "<li>Budgets: DESIGN §2 of squeeze; SqueezeAttention, arXiv 2404.04793 (ICLR 2025).</li>";
    b.doc.html += "<ul>" + notes + "</ul>\n";
  }
  return b.doc;
}

namespace {

const char* kStyle =
    "body{font-family:sans-serif;max-width:1000px;margin:24px auto;color:#222}"
    "h1{font-size:22px}h2{font-size:17px;border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:28px}"
    "table.data{border-collapse:collapse;font-size:12px;margin:8px 0}"
    "table.data th{background:#eee}table.data td,table.data th{border:1px solid #ccc;padding:2px 6px}"
    "p.figure{text-align:center}img{max-width:100%;height:auto}";

// QTextDocument (the PDF path) knows a subset of CSS and sizes px at screen resolution: points.
const char* kPrintStyle =
    "body{font-size:9pt}h1{font-size:16pt}h2{font-size:12pt}"
    "table.data{border-collapse:collapse;font-size:6.5pt}table.data th{background:#eee}";

QString wrap(const ReportDocument& doc, const QString& body, const char* style = kStyle) {
  return QString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%1</title><style>%2</style></head>"
                 "<body>\n%3</body></html>\n")
      .arg(esc(doc.title), style, body);
}

}  // namespace

QString render_html(const ReportDocument& doc) {
  QString body = doc.html;
  for (const auto& img : doc.images)
    body.replace("squeeze-img:" + img.id, "data:image/png;base64," + QString::fromLatin1(img.png.toBase64()));
  return wrap(doc, body);
}

core::Status write_report(const ReportDocument& doc, const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == "html" || suffix == "htm") {
    QSaveFile file(path);  // writes a temporary file and renames it on commit
    if (!file.open(QIODevice::WriteOnly))
      return core::make_error(QString("cannot write %1: %2").arg(path, file.errorString()).toStdString());
    file.write(render_html(doc).toUtf8());
    if (!file.commit())
      return core::make_error(QString("cannot write %1: %2").arg(path, file.errorString()).toStdString());
    return {};
  }
  if (suffix != "pdf")
    return core::make_error(QString("%1: the report is written as .html or .pdf").arg(path).toStdString(), 2);
  const QString tmp = path + ".tmp";
  {
    QPrinter printer(QPrinter::HighResolution);
    printer.setOutputFormat(QPrinter::PdfFormat);
    printer.setOutputFileName(tmp);
    printer.setPageSize(QPageSize(QPageSize::A4));
    printer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout::Millimeter);
    printer.setDocName(doc.title);
    // Lay the document out in points on the printable area, so image widths are page widths.
    const QSizeF page = printer.pageLayout().paintRect(QPageLayout::Point).size();
    QTextDocument text;
    text.setPageSize(page);
    for (const auto& img : doc.images) {
      QImage image;
      image.loadFromData(img.png, "PNG");
      text.addResource(QTextDocument::ImageResource, QUrl("squeeze-img:" + img.id), image);
    }
    QString body = doc.html;
    body.replace(QRegularExpression("width=\"\\d+\""), QString("width=\"%1\"").arg(int(page.width() * 0.88)));
    text.setHtml(wrap(doc, body, kPrintStyle));
    text.print(&printer);
  }
  if (!QFileInfo(tmp).exists() || QFileInfo(tmp).size() == 0) {
    QFile::remove(tmp);
    return core::make_error(QString("cannot write %1").arg(path).toStdString());
  }
  std::error_code ec;
  std::filesystem::rename(tmp.toStdString(), path.toStdString(), ec);
  if (ec) {
    QFile::remove(tmp);
    return core::make_error(QString("cannot write %1: %2").arg(path, QString::fromStdString(ec.message())).toStdString());
  }
  return {};
}

}  // namespace squeeze::gui
