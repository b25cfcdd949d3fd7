#include "squeeze/gui/tables.hpp"

#include <fmt/format.h>

namespace squeeze::gui {

std::string format_bytes(double bytes) {
  if (std::isnan(bytes)) return "—";
  constexpr double GiB = 1024.0 * 1024 * 1024;
  constexpr double MiB = 1024.0 * 1024;
  if (std::abs(bytes) >= GiB) return fmt::format("{:.2f} GiB", bytes / GiB);
  if (std::abs(bytes) >= MiB) return fmt::format("{:.1f} MiB", bytes / MiB);
  if (std::abs(bytes) >= 1024) return fmt::format("{:.1f} KiB", bytes / 1024);
  return fmt::format("{:.0f} B", bytes);
}

std::string format_number(double v, int decimals) {
  if (std::isnan(v)) return "—";
  return fmt::format("{:.{}f}", v, decimals);
}

namespace {

TableCell num(double v, int decimals) { return {format_number(v, decimals), v}; }
TableCell bytes(double v) { return {format_bytes(v), v}; }
TableCell text(std::string s) { return {std::move(s), std::numeric_limits<double>::quiet_NaN()}; }
TableCell integer(long long v) { return {std::to_string(v), static_cast<double>(v)}; }

}  // namespace

TableData layers_table(const LayerImportance& layers, const BudgetPlan* plan) {
  TableData t;
  t.headers = {"layer", "similarity", "min", "max", "cluster", "unimportant"};
  t.tooltips = {"decoder layer", "mean cosine similarity over prompts (high = changes little)",
                "lowest over prompts", "highest over prompts",
                "k-means cluster, 0 = lowest similarity (most important)",
                "in the cluster with the highest similarity: gets floor(p·B) tokens"};
  if (plan) {
    t.headers.insert(t.headers.end(), {"uniform budget", "squeeze budget", "change"});
    t.tooltips.insert(t.tooltips.end(), {"tokens kept per sequence, every layer the same",
                                         "tokens kept per sequence under SqueezeAttention",
                                         "squeeze minus uniform"});
  }
  for (int l = 0; l < layers.n_layers(); ++l) {
    const auto i = static_cast<std::size_t>(l);
    std::vector<TableCell> row{integer(l), num(layers.mean[i], 4), num(layers.lo[i], 4),
                               num(layers.hi[i], 4), integer(layers.cluster[i]),
                               text(layers.is_unimportant(l) ? "yes" : "")};
    if (plan && i < plan->squeeze.size()) {
      row.push_back(integer(plan->uniform[i]));
      row.push_back(integer(plan->squeeze[i]));
      const int d = plan->squeeze[i] - plan->uniform[i];
      row.push_back({fmt::format("{:+d}", d), static_cast<double>(d)});
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

TableData capacity_table(const CapacityCurves& c) {
  TableData t;
  t.headers = {"batch", "weights", "KV squeeze", "workspace", "total full", "total uniform",
               "total squeeze", "tok/s full", "tok/s uniform", "tok/s squeeze"};
  for (std::size_t i = 0; i < c.batches.size(); ++i) {
    double kv = 0;
    for (const auto& per_cluster : c.kv_squeeze_by_cluster) kv += per_cluster[i];
    t.rows.push_back({integer(c.batches[i]), bytes(static_cast<double>(c.weights_bytes)), bytes(kv),
                      bytes(c.workspace_bytes[i]), bytes(c.total_full[i]), bytes(c.total_uniform[i]),
                      bytes(c.total_squeeze[i]), num(c.tput_full[i], 0), num(c.tput_uniform[i], 0),
                      num(c.tput_squeeze[i], 0)});
  }
  return t;
}

TableData max_batch_table(const std::vector<CapacityCurves>& per_gpu) {
  TableData t;
  t.headers = {"GPU", "memory", "max batch full", "max batch uniform", "max batch squeeze",
               "tok/s full", "tok/s uniform", "tok/s squeeze", "squeeze vs full",
               "squeeze vs uniform"};
  auto ratio = [](double a, double b) {
    return b > 0 ? TableCell{fmt::format("{:.2f}×", a / b), a / b} : text("—");
  };
  for (const auto& c : per_gpu) {
    t.rows.push_back({text(c.gpu.name), bytes(static_cast<double>(c.gpu.memory_bytes)),
                      integer(c.max_batch_full), integer(c.max_batch_uniform),
                      integer(c.max_batch_squeeze), num(c.tput_at_max_full, 0),
                      num(c.tput_at_max_uniform, 0), num(c.tput_at_max_squeeze, 0),
                      ratio(c.tput_at_max_squeeze, c.tput_at_max_full),
                      ratio(c.tput_at_max_squeeze, c.tput_at_max_uniform)});
  }
  return t;
}

TableData timeline_table(const TimelineData& tl) {
  TableData t;
  t.headers = {"op", "kernels", "busy µs", "share of busy", "mean µs"};
  double busy = 0;
  for (const auto& o : tl.op_totals) busy += o.busy_us;
  for (const auto& o : tl.op_totals) {
    t.rows.push_back({text(o.op), integer(o.kernels), num(o.busy_us, 1),
                      {fmt::format("{:.1f}%", busy > 0 ? 100.0 * o.busy_us / busy : 0.0),
                       busy > 0 ? o.busy_us / busy : 0.0},
                      num(o.kernels > 0 ? o.busy_us / static_cast<double>(o.kernels) : 0.0, 2)});
  }
  return t;
}

TableData validation_table(const ValidationSummary& v) {
  TableData t;
  t.headers = {"run", "measured tok/s", "predicted tok/s", "error", "measured peak",
               "predicted peak", "error"};
  auto err = [](double m, double p) {
    if (std::isnan(p) || m == 0) return text("—");
    const double e = 100.0 * (p - m) / m;
    return TableCell{fmt::format("{:+.1f}%", e), e};
  };
  for (const auto& r : v.rows) {
    t.rows.push_back({text(r.label), num(r.measured_tokens_per_s, 1),
                      num(r.predicted_tokens_per_s, 1),
                      err(r.measured_tokens_per_s, r.predicted_tokens_per_s),
                      bytes(r.measured_peak_bytes), bytes(r.predicted_peak_bytes),
                      err(r.measured_peak_bytes, r.predicted_peak_bytes)});
  }
  return t;
}

TableData runs_table(const std::vector<core::RunRecord>& runs) {
  TableData t;
  t.headers = {"run", "label", "policy", "budget", "p", "batch", "prompt", "gen", "tok/s",
               "peak", "KV", "status"};
  for (const auto& r : runs) {
    std::string budget = r.budget_unit == core::BudgetUnit::None ? "full"
                         : r.budget_unit == core::BudgetUnit::Fraction
                             ? fmt::format("{:.2f}×prompt", r.budget_value)
                             : fmt::format("{:.0f} tok", r.budget_value);
    t.rows.push_back({integer(r.id), text(r.label), text(r.policy), text(budget), num(r.p, 2),
                      integer(r.batch), integer(r.prompt_len), integer(r.gen_len),
                      num(r.tokens_per_s, 1), bytes(static_cast<double>(r.peak_bytes)),
                      bytes(static_cast<double>(r.kv_bytes)), text(r.status)});
  }
  return t;
}

}  // namespace squeeze::gui
