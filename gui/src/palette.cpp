#include "squeeze/gui/palette.hpp"

#include <QHash>
#include <array>

namespace squeeze::gui {

QColor cluster_color(int cluster, int n_clusters) {
  // Important -> unimportant. With fewer clusters the unimportant one still ends orange.
  static const std::array<QColor, 6> ramp{QColor("#0072B2"), QColor("#009E73"), QColor("#56B4E9"),
                                          QColor("#CC79A7"), QColor("#F0E442"), QColor("#E69F00")};
  if (n_clusters <= 1) return ramp[0];
  if (cluster >= n_clusters - 1) return ramp[5];
  return ramp[static_cast<std::size_t>(std::clamp(cluster, 0, 4))];
}

QColor op_color(const QString& op) {
  static const QHash<QString, QColor> known{
      {"embed", QColor("#7f7f7f")},        {"rmsnorm", QColor("#bcbd22")},
      {"qkv", QColor("#1f77b4")},          {"rope", QColor("#17becf")},
      {"prefill_attention", QColor("#d62728")}, {"decode_attention", QColor("#d62728")},
      {"o_proj", QColor("#aec7e8")},       {"gate_up", QColor("#2ca02c")},
      {"swiglu", QColor("#98df8a")},       {"down", QColor("#9467bd")},
      {"lm_head", QColor("#8c564b")},      {"similarity", QColor("#ff7f0e")},
      {"h2o_evict", QColor("#e377c2")},    {"sample", QColor("#c49c94")},
      {"memcpy", QColor("#c7c7c7")},
  };
  if (auto it = known.find(op); it != known.end()) return *it;
  // Unknown ops: a stable hue from the name.
  return QColor::fromHsv(static_cast<int>(qHash(op) % 360), 140, 200);
}

QColor policy_color(const QString& which) {
  if (which == "full") return QColor("#555555");
  if (which == "uniform") return QColor("#0072B2");
  return QColor("#D55E00");
}

QColor weights_color() { return QColor("#9e9e9e"); }
QColor workspace_color() { return QColor("#d9d9d9"); }

}  // namespace squeeze::gui
