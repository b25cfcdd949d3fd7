#include "squeeze/gui/controls_panel.hpp"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QSpinBox>
#include <QVBoxLayout>
#include <cmath>

namespace squeeze::gui {

ControlsPanel::ControlsPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);

  auto* budget_box = new QGroupBox("KV budget", this);
  auto* form = new QFormLayout(budget_box);
  unit_ = new QComboBox(budget_box);
  unit_->addItem("fraction of prompt");
  unit_->addItem("tokens per layer");
  form->addRow("budget as", unit_);
  budget_ = new QDoubleSpinBox(budget_box);
  budget_->setToolTip("uniform budget B: every layer keeps B tokens per sequence in the baseline");
  form->addRow("B", budget_);
  p_ = new QDoubleSpinBox(budget_box);
  p_->setRange(0.05, 1.0);
  p_->setSingleStep(0.05);
  p_->setDecimals(2);
  p_->setToolTip("the unimportant cluster keeps floor(p·B) tokens; the paper finds 0.3–0.4 good");
  form->addRow("p", p_);
  clusters_ = new QSpinBox(budget_box);
  clusters_->setRange(1, 8);
  clusters_->setToolTip("k-means clusters over layer similarity; the highest one is unimportant");
  form->addRow("clusters", clusters_);
  policy_ = new QComboBox(budget_box);
  for (const char* p : {"h2o", "streaming", "window"}) policy_->addItem(p);
  policy_->setToolTip("which tokens each budgeted layer keeps (full cache is always shown beside)");
  form->addRow("policy", policy_);
  mode_ = new QComboBox(budget_box);
  mode_->addItem("online");
  mode_->addItem("calibrated");
  mode_->setToolTip("online: prefill with the full cache, then compress (the prefill peak is not reduced);\n"
                    "calibrated: budgets known in advance, applied during chunked prefill");
  form->addRow("mode", mode_);
  layout->addWidget(budget_box);

  auto* load_box = new QGroupBox("Workload", this);
  auto* load_form = new QFormLayout(load_box);
  prompt_len_ = new QSpinBox(load_box);
  prompt_len_->setRange(1, 1 << 20);
  prompt_len_->setSingleStep(256);
  load_form->addRow("prompt tokens", prompt_len_);
  gen_len_ = new QSpinBox(load_box);
  gen_len_->setRange(1, 1 << 20);
  gen_len_->setSingleStep(64);
  load_form->addRow("generated tokens", gen_len_);
  layout->addWidget(load_box);

  auto* hw_box = new QGroupBox("Hardware", this);
  auto* hw_form = new QFormLayout(hw_box);
  gpu_ = new QComboBox(hw_box);
  for (const auto& g : available_gpus()) gpu_->addItem(QString::fromStdString(g.name));
  hw_form->addRow("GPU", gpu_);
  max_batch_ = new QSpinBox(hw_box);
  max_batch_->setRange(1, 65536);
  max_batch_->setToolTip("largest batch the sweep plots");
  hw_form->addRow("sweep to batch", max_batch_);
  layout->addWidget(hw_box);

  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  summary_->setTextFormat(Qt::RichText);
  layout->addWidget(summary_);
  layout->addStretch(1);

  setParams(AnalysisParams{});
  connect(unit_, &QComboBox::currentIndexChanged, this, [this] { onUnitChanged(); });
  for (auto* spin : {budget_, p_})
    connect(spin, &QDoubleSpinBox::valueChanged, this, [this] { emitChanged(); });
  for (auto* spin : {clusters_, prompt_len_, gen_len_, max_batch_})
    connect(spin, &QSpinBox::valueChanged, this, [this] { emitChanged(); });
  for (auto* combo : {gpu_, policy_, mode_})
    connect(combo, &QComboBox::currentIndexChanged, this, [this] { emitChanged(); });
}

AnalysisParams ControlsPanel::params() const {
  AnalysisParams p;
  p.unit = unit_->currentIndex() == 0 ? AnalysisParams::BudgetUnit::Fraction
                                      : AnalysisParams::BudgetUnit::Tokens;
  if (p.unit == AnalysisParams::BudgetUnit::Fraction) {
    p.budget_fraction = budget_->value();
    p.budget_tokens = static_cast<int>(last_tokens_);
  } else {
    p.budget_tokens = static_cast<int>(std::lround(budget_->value()));
    p.budget_fraction = last_fraction_;
  }
  p.p = p_->value();
  p.clusters = clusters_->value();
  p.policy = policy_->currentText().toStdString();
  p.mode = mode_->currentText().toStdString();
  p.prompt_len = prompt_len_->value();
  p.gen_len = gen_len_->value();
  p.gpu = gpu_->currentText().toStdString();
  p.max_batch = max_batch_->value();
  return p;
}

void ControlsPanel::setParams(const AnalysisParams& p) {
  updating_ = true;
  last_fraction_ = p.budget_fraction;
  last_tokens_ = p.budget_tokens;
  unit_->setCurrentIndex(p.unit == AnalysisParams::BudgetUnit::Fraction ? 0 : 1);
  onUnitChanged();
  p_->setValue(p.p);
  clusters_->setValue(p.clusters);
  policy_->setCurrentText(QString::fromStdString(p.policy));
  mode_->setCurrentText(QString::fromStdString(p.mode));
  prompt_len_->setValue(p.prompt_len);
  gen_len_->setValue(p.gen_len);
  gpu_->setCurrentText(QString::fromStdString(p.gpu));
  max_batch_->setValue(p.max_batch);
  updating_ = false;
}

void ControlsPanel::setSummary(const QString& html) { summary_->setText(html); }

void ControlsPanel::onUnitChanged() {
  const bool was_updating = updating_;
  updating_ = true;
  // Each unit remembers its own value, so switching back and forth loses nothing.
  if (unit_->currentIndex() == 0) {
    budget_->setDecimals(3);
    budget_->setRange(0.001, 1.0);
    budget_->setSingleStep(0.05);
    budget_->setSuffix(" × prompt");
    budget_->setValue(last_fraction_);
  } else {
    budget_->setDecimals(0);
    budget_->setRange(1, 1 << 20);
    budget_->setSingleStep(64);
    budget_->setSuffix(" tokens");
    budget_->setValue(last_tokens_);
  }
  updating_ = was_updating;
  emitChanged();
}

void ControlsPanel::emitChanged() {
  if (updating_) return;
  if (unit_->currentIndex() == 0) last_fraction_ = budget_->value();
  else last_tokens_ = budget_->value();
  emit paramsChanged(params());
}

}  // namespace squeeze::gui
