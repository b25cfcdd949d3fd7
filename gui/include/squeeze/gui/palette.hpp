#pragma once
// Colours shared by the window and the report, so a cluster or op looks the same everywhere.
// Cluster colours run from important (cool, dark) to unimportant (warm), colour-blind safe
// (Okabe–Ito).
#include <QColor>
#include <QString>

namespace squeeze::gui {

[[nodiscard]] QColor cluster_color(int cluster, int n_clusters);
[[nodiscard]] QColor op_color(const QString& op);
[[nodiscard]] QColor policy_color(const QString& which);  // "full", "uniform", "squeeze"
[[nodiscard]] QColor weights_color();
[[nodiscard]] QColor workspace_color();

}  // namespace squeeze::gui
