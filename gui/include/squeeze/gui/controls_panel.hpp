#pragma once
// The knobs every view recomputes from: budget (fraction of the prompt or tokens), p, cluster
// count, policy, prompt/generation length, GPU. Emits paramsChanged on every edit; the window
// recomputes budgets at once and the capacity sweep on a worker.
#include <QWidget>

#include "squeeze/gui/analysis.hpp"

class QComboBox;
class QDoubleSpinBox;
class QSpinBox;
class QLabel;

namespace squeeze::gui {

class ControlsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ControlsPanel(QWidget* parent = nullptr);

  [[nodiscard]] AnalysisParams params() const;
  // Sets every control without emitting paramsChanged once per control.
  void setParams(const AnalysisParams& params);
  // A line under the controls: B in tokens, savings, ... (set by the window).
  void setSummary(const QString& html);

 signals:
  void paramsChanged(const squeeze::gui::AnalysisParams& params);

 private:
  void onUnitChanged();
  void emitChanged();

  QComboBox* gpu_ = nullptr;
  QComboBox* unit_ = nullptr;
  QDoubleSpinBox* budget_ = nullptr;
  QDoubleSpinBox* p_ = nullptr;
  QSpinBox* clusters_ = nullptr;
  QComboBox* policy_ = nullptr;
  QComboBox* mode_ = nullptr;
  QSpinBox* prompt_len_ = nullptr;
  QSpinBox* gen_len_ = nullptr;
  QSpinBox* max_batch_ = nullptr;
  QLabel* summary_ = nullptr;
  bool updating_ = false;
  double last_fraction_ = 0.2;
  double last_tokens_ = 512;
};

}  // namespace squeeze::gui
