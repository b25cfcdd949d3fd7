#include "squeeze/gui/plots.hpp"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

#include "squeeze/gui/palette.hpp"

namespace squeeze::gui {

namespace {

constexpr double kGiB = 1024.0 * 1024 * 1024;

void reset(QCustomPlot* plot) {
  plot->clearPlottables();
  plot->clearItems();
  plot->clearGraphs();
  plot->legend->clearItems();
  plot->legend->setVisible(true);
  plot->legend->setBrush(QColor(255, 255, 255, 220));
  plot->legend->setBorderPen(QPen(QColor("#bbbbbb")));
  plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  plot->xAxis->setScaleType(QCPAxis::stLinear);
  plot->yAxis->setScaleType(QCPAxis::stLinear);
  plot->xAxis->grid()->setVisible(false);
  plot->yAxis->grid()->setVisible(true);
  if (plot->plotLayout()->rowCount() > 1) {  // drop an old title row
    plot->plotLayout()->remove(plot->plotLayout()->element(0, 0));
    plot->plotLayout()->simplify();
  }
  // Zoom and pan on every plot: users explore, and double-checking a value is a drag away.
  plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot->axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
  plot->axisRect()->setRangeZoom(Qt::Horizontal | Qt::Vertical);
}

void set_title(QCustomPlot* plot, const QString& title) {
  plot->plotLayout()->insertRow(0);
  auto* t = new QCPTextElement(plot, title, QFont(plot->font().family(), 11, QFont::Bold));
  plot->plotLayout()->addElement(0, 0, t);
}

QString cluster_name(const LayerImportance& layers, int c) {
  QString name = QString("cluster %1 (center %2)").arg(c).arg(layers.centers[static_cast<std::size_t>(c)], 0, 'f', 3);
  if (c == layers.unimportant_cluster) name += " — unimportant";
  else if (c == 0 && layers.n_clusters > 1) name += " — most important";
  return name;
}

QCPBars* cluster_bars(QCustomPlot* plot, const LayerImportance& layers, int c) {
  auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
  const QColor color = cluster_color(c, layers.n_clusters);
  bars->setBrush(color);
  // The unimportant set gets a dark outline so it reads even in grey print.
  bars->setPen(c == layers.unimportant_cluster ? QPen(QColor("#7a3d00"), 1.5) : QPen(color.darker(130)));
  bars->setWidth(0.75);
  bars->setName(cluster_name(layers, c));
  return bars;
}

void layer_axis(QCustomPlot* plot, int n_layers) {
  auto ticker = QSharedPointer<QCPAxisTickerFixed>(new QCPAxisTickerFixed);
  ticker->setTickStep(n_layers > 40 ? 4.0 : n_layers > 16 ? 2.0 : 1.0);
  ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  plot->xAxis->setTicker(ticker);
  plot->xAxis->setLabel("decoder layer");
  plot->xAxis->setRange(-0.7, n_layers - 0.3);
}

}  // namespace

void plot_message(QCustomPlot* plot, const QString& message) {
  reset(plot);
  plot->legend->setVisible(false);
  auto* text = new QCPItemText(plot);
  text->position->setType(QCPItemPosition::ptAxisRectRatio);
  text->position->setCoords(0.5, 0.5);
  text->setText(message);
  text->setFont(QFont(plot->font().family(), 11));
  text->setColor(QColor("#555555"));
  plot->replot();
}

void plot_similarity(QCustomPlot* plot, const LayerImportance& layers) {
  reset(plot);
  const int n = layers.n_layers();
  double lo = 1.0, hi = 0.0;
  for (int c = 0; c < layers.n_clusters; ++c) {
    auto* bars = cluster_bars(plot, layers, c);
    auto* errors = new QCPErrorBars(plot->xAxis, plot->yAxis);
    errors->removeFromLegend();
    errors->setPen(QPen(QColor("#333333"), 1));
    errors->setWhiskerWidth(4);
    QVector<double> keys, values, minus, plus;
    for (int l = 0; l < n; ++l) {
      if (layers.cluster[static_cast<std::size_t>(l)] != c) continue;
      const auto i = static_cast<std::size_t>(l);
      keys << l;
      values << layers.mean[i];
      minus << layers.mean[i] - layers.lo[i];
      plus << layers.hi[i] - layers.mean[i];
      lo = std::min(lo, layers.lo[i]);
      hi = std::max(hi, layers.hi[i]);
    }
    bars->setData(keys, values, true);
    errors->setDataPlottable(bars);
    errors->setData(minus, plus);
  }
  layer_axis(plot, n);
  plot->yAxis->setLabel("cosine similarity (attention in vs out)");
  // Similarities crowd near 1: zoom the value axis onto their spread, not onto zero.
  const double pad = std::max(0.01, (hi - lo) * 0.15);
  plot->yAxis->setRange(std::max(-1.0, lo - pad), std::min(1.0 + pad, hi + pad * 2.2));
  plot->legend->setVisible(layers.n_clusters > 0);
  plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
  set_title(plot, QString("Layer similarity over %1 prompt%2 (bars: mean, whiskers: min–max)")
                      .arg(layers.prompts).arg(layers.prompts == 1 ? "" : "s"));
  plot->replot();
}

void plot_budgets(QCustomPlot* plot, const LayerImportance& layers, const BudgetPlan& plan) {
  reset(plot);
  const int n = layers.n_layers();
  int top = plan.uniform_budget;
  for (int c = 0; c < layers.n_clusters; ++c) {
    auto* bars = cluster_bars(plot, layers, c);
    QVector<double> keys, values;
    for (int l = 0; l < n && static_cast<std::size_t>(l) < plan.squeeze.size(); ++l) {
      if (layers.cluster[static_cast<std::size_t>(l)] != c) continue;
      keys << l;
      values << plan.squeeze[static_cast<std::size_t>(l)];
      top = std::max(top, plan.squeeze[static_cast<std::size_t>(l)]);
    }
    bars->setData(keys, values, true);
  }
  auto* uniform = plot->addGraph();
  uniform->setName(QString("uniform: %1 tokens every layer").arg(plan.uniform_budget));
  uniform->setPen(QPen(policy_color("uniform"), 2, Qt::DashLine));
  uniform->setData(QVector<double>{-0.5, n - 0.5}, QVector<double>{double(plan.uniform_budget), double(plan.uniform_budget)});
  layer_axis(plot, n);
  plot->yAxis->setLabel("KV tokens kept per sequence");
  plot->yAxis->setRange(0, top * 1.3);
  set_title(plot, QString("Per-layer KV budgets: SqueezeAttention vs uniform (total %1 tokens each)")
                      .arg(plan.total_squeeze));
  plot->replot();
}

void plot_memory(QCustomPlot* plot, const CapacityCurves& c) {
  reset(plot);
  const int n = static_cast<int>(c.batches.size());
  QVector<double> keys(n);
  auto ticker = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
  const int label_every = std::max(1, n / 16);
  for (int i = 0; i < n; ++i) {
    keys[i] = i;
    if (i % label_every == 0 || i == n - 1) ticker->addTick(i, QString::number(c.batches[static_cast<std::size_t>(i)]));
  }
  plot->xAxis->setTicker(ticker);
  QCPBars* below = nullptr;
  auto stack = [&](const QString& name, const QColor& color, auto value_of) {
    auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
    bars->setName(name);
    bars->setBrush(color);
    bars->setPen(QPen(color.darker(120)));
    bars->setWidth(0.7);
    bars->setStackingGap(0);
    QVector<double> v(n);
    for (int i = 0; i < n; ++i) v[i] = value_of(static_cast<std::size_t>(i)) / kGiB;
    bars->setData(keys, v, true);
    if (below) bars->moveAbove(below);
    below = bars;
  };
  stack("weights", weights_color(), [&](std::size_t) { return static_cast<double>(c.weights_bytes); });
  const int k = static_cast<int>(c.kv_squeeze_by_cluster.size());
  for (int j = 0; j < k; ++j)
    stack(QString("KV, squeeze, cluster %1").arg(j), cluster_color(j, k),
          [&](std::size_t i) { return c.kv_squeeze_by_cluster[static_cast<std::size_t>(j)][i]; });
  stack("workspace", workspace_color(), [&](std::size_t i) { return c.workspace_bytes[i]; });

  auto total_line = [&](const QString& name, const std::vector<double>& totals, const QString& which) {
    auto* g = plot->addGraph();
    g->setName(name);
    g->setPen(QPen(policy_color(which), 2, which == "full" ? Qt::DotLine : Qt::DashLine));
    QVector<double> v(n);
    for (int i = 0; i < n; ++i) v[i] = totals[static_cast<std::size_t>(i)] / kGiB;
    g->setData(keys, v, true);
  };
  total_line("total, full cache", c.total_full, "full");
  total_line("total, uniform budgets", c.total_uniform, "uniform");

  const double limit = static_cast<double>(c.gpu.memory_bytes) / kGiB;
  auto* line = new QCPItemStraightLine(plot);
  line->setPen(QPen(QColor("#c00000"), 2));
  line->point1->setCoords(-1, limit);
  line->point2->setCoords(n, limit);
  auto* label = new QCPItemText(plot);
  label->position->setCoords(n - 0.5, limit);
  label->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
  label->setBrush(QColor(255, 255, 255, 230));
  label->setPadding(QMargins(3, 1, 3, 1));
  label->setText(QString("%1: %2 GiB").arg(QString::fromStdString(c.gpu.name)).arg(limit, 0, 'f', 0));
  label->setColor(QColor("#c00000"));

  plot->xAxis->setLabel("batch (sequences)");
  plot->xAxis->setRange(-0.7, n - 0.3);
  plot->yAxis->setLabel("device memory (GiB)");
  double top = limit;
  if (!c.total_squeeze.empty()) top = std::max(top, c.total_squeeze.back() / kGiB);
  plot->yAxis->setRange(0, top * 1.15);
  plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
  set_title(plot, QString("Memory vs batch on %1 (bars: squeeze plan)").arg(QString::fromStdString(c.gpu.name)));
  plot->replot();
}

void plot_throughput(QCustomPlot* plot, const CapacityCurves& c) {
  reset(plot);
  auto ticker = QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog);
  ticker->setLogBase(2);
  ticker->setSubTickCount(0);
  plot->xAxis->setScaleType(QCPAxis::stLogarithmic);
  plot->xAxis->setTicker(ticker);
  plot->xAxis->grid()->setVisible(true);
  double top = 0;
  int right = 1;
  std::vector<std::pair<int, double>> labelled;  // (max batch, tokens/s) already labelled
  auto series = [&](const QString& which, const QString& label, const std::vector<double>& tput,
                    int max_batch, double at_max) {
    QVector<double> x, y;
    for (std::size_t i = 0; i < c.batches.size(); ++i) {
      if (std::isnan(tput[i]) || c.batches[i] > max_batch) continue;
      x << c.batches[i];
      y << tput[i];
    }
    if (max_batch > 0 && (x.isEmpty() || x.back() < max_batch)) {
      x << max_batch;
      y << at_max;
    }
    const QColor color = policy_color(which);
    auto* g = plot->addGraph();
    g->setName(label);
    g->setPen(QPen(color, 2));
    g->setData(x, y, true);
    if (max_batch <= 0) return;
    // The max-batch marker: where this policy runs out of memory.
    auto* marker = plot->addGraph();
    marker->removeFromLegend();
    marker->setLineStyle(QCPGraph::lsNone);
    marker->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, color, color, 11));
    marker->setData(QVector<double>{double(max_batch)}, QVector<double>{at_max});
    auto* text = new QCPItemText(plot);
    text->position->setCoords(max_batch, at_max);
    text->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
    // Policies that run out of memory at (nearly) the same point would print over each other:
    // stack their labels.
    int clash = 0;
    for (const auto& [b, t] : labelled)
      if (std::abs(b - max_batch) <= std::max(1, max_batch / 8) && std::abs(t - at_max) <= 0.08 * std::max(t, at_max)) ++clash;
    labelled.emplace_back(max_batch, at_max);
    text->setPadding(QMargins(0, 0, 6, 4 + 16 * clash));
    text->setText(QString("%1: max %2").arg(which).arg(max_batch));
    text->setColor(color.darker(120));
    top = std::max(top, at_max);
    right = std::max(right, max_batch);
    for (double v : y) top = std::max(top, v);
  };
  series("full", "full cache", c.tput_full, c.max_batch_full, c.tput_at_max_full);
  series("uniform", "uniform budgets", c.tput_uniform, c.max_batch_uniform, c.tput_at_max_uniform);
  series("squeeze", "SqueezeAttention", c.tput_squeeze, c.max_batch_squeeze, c.tput_at_max_squeeze);
  plot->xAxis->setLabel("batch (sequences, log scale)");
  plot->xAxis->setRange(0.8, right * 1.6);
  plot->yAxis->setLabel("decode throughput (tokens/s)");
  plot->yAxis->setRange(0, top > 0 ? top * 1.15 : 1);
  plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
  set_title(plot, QString("Throughput vs batch on %1 (◆ = max batch that fits)").arg(QString::fromStdString(c.gpu.name)));
  plot->replot();
}

void plot_timeline(QCustomPlot* plot, const TimelineData& t) {
  reset(plot);
  plot->legend->setVisible(false);
  const int lanes = static_cast<int>(t.ops.size());
  auto ticker = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
  std::vector<QCPGraph*> graphs;
  std::vector<QVector<QCPGraphData>> data(static_cast<std::size_t>(lanes));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const auto& s : t.spans) {
    auto& d = data[static_cast<std::size_t>(s.op_index)];
    const double y = lanes - 1 - s.op_index;  // first-seen op on top
    // A span is a thick line segment; NaN breaks the line between spans.
    d.append(QCPGraphData(s.start_us, y));
    d.append(QCPGraphData(s.start_us + std::max(s.duration_us, 1e-3), y));
    d.append(QCPGraphData(s.start_us + std::max(s.duration_us, 1e-3) + 1e-6, nan));
  }
  const int pen_px = std::clamp(220 / std::max(1, lanes), 6, 18);
  for (int i = 0; i < lanes; ++i) {
    const QString op = QString::fromStdString(t.ops[static_cast<std::size_t>(i)]);
    ticker->addTick(lanes - 1 - i, op);
    auto* g = plot->addGraph();
    g->setName(op);
    g->setPen(QPen(op_color(op), pen_px, Qt::SolidLine, Qt::FlatCap));
    g->setAdaptiveSampling(true);
    g->data()->set(data[static_cast<std::size_t>(i)], true);
  }
  plot->yAxis->setTicker(ticker);
  plot->yAxis->grid()->setVisible(false);
  plot->xAxis->grid()->setVisible(true);
  plot->xAxis->setLabel("time from the step's first kernel (µs) — drag to pan, wheel to zoom");
  plot->yAxis->setLabel("");
  plot->xAxis->setRange(0, std::max(1.0, t.step_span_us) * 1.01);
  plot->yAxis->setRange(-0.7, lanes - 0.3);
  // Time is the axis worth zooming; lanes stay put.
  plot->axisRect()->setRangeDrag(Qt::Horizontal);
  plot->axisRect()->setRangeZoom(Qt::Horizontal);
  QString title = QString("Kernels of run %1, step %2 (%3): %4 kernels over %5 µs")
                      .arg(t.run_id).arg(t.step).arg(t.step == 0 ? "prefill" : "decode")
                      .arg(t.kernels_in_step).arg(t.step_span_us, 0, 'f', 1);
  if (t.downsampled) title += QString(", merged into %1 spans").arg(t.spans.size());
  set_title(plot, title);
  plot->replot();
}

void plot_validation(QCustomPlot* plot, const ValidationSummary& v) {
  reset(plot);
  const int n = static_cast<int>(v.rows.size());
  auto ticker = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
  auto* group = new QCPBarsGroup(plot);
  auto make = [&](const QString& name, const QColor& color) {
    auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
    bars->setName(name);
    bars->setBrush(color);
    bars->setPen(QPen(color.darker(130)));
    bars->setWidth(0.38);
    bars->setBarsGroup(group);
    return bars;
  };
  auto* measured = make("measured", QColor("#7f7f7f"));
  auto* predicted = make("predicted by the simulator", policy_color("squeeze"));
  double top = 0;
  for (int i = 0; i < n; ++i) {
    const auto& r = v.rows[static_cast<std::size_t>(i)];
    ticker->addTick(i, QString::fromStdString(r.label));
    measured->addData(i, r.measured_tokens_per_s);
    if (!std::isnan(r.predicted_tokens_per_s)) predicted->addData(i, r.predicted_tokens_per_s);
    top = std::max({top, r.measured_tokens_per_s, std::isnan(r.predicted_tokens_per_s) ? 0.0 : r.predicted_tokens_per_s});
  }
  plot->xAxis->setTicker(ticker);
  // Negative angles anchor each label at its end, so long labels grow left into the plot, not off it.
  plot->xAxis->setTickLabelRotation(n > 4 ? -25 : 0);
  plot->xAxis->setRange(-0.7, n - 0.3);
  plot->yAxis->setLabel("decode throughput (tokens/s)");
  plot->yAxis->setRange(0, top > 0 ? top * 1.2 : 1);
  plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
  set_title(plot, QString("Measured runs vs simulator (throughput MAPE %1%)").arg(v.mape_tokens_per_s, 0, 'f', 1));
  plot->replot();
}

QString export_plot(QCustomPlot* plot, const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  bool ok = false;
  if (suffix == "png") ok = plot->savePng(path, 0, 0, 2.0);
  else if (suffix == "pdf") ok = plot->savePdf(path);
  else return QString("cannot export to '%1': use a .png or .pdf file name").arg(path);
  return ok ? QString() : QString("could not write %1").arg(path);
}

}  // namespace squeeze::gui
