#include "squeeze/sim/cost_model.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

namespace squeeze::sim {
namespace {

constexpr const char* kGemmOps[] = {core::trace_op::kQkv, core::trace_op::kOProj,
                                    core::trace_op::kGateUp, core::trace_op::kDown,
                                    core::trace_op::kLmHead};

bool is_gemm_op(std::string_view op) {
  return std::any_of(std::begin(kGemmOps), std::end(kGemmOps),
                     [&](const char* g) { return op == g; });
}

int dtype_size(const std::string& dtype) {
  if (dtype == "f32" || dtype == "fp32" || dtype == "float32") return 4;
  return 2;
}

// Sequence length of an attention calibration point (prefill points may give rows instead).
int attention_len(const core::CalibrationPoint& p) {
  if (p.kv_len > 0) return p.kv_len;
  return p.batch > 0 ? p.rows / p.batch : 0;
}

core::Result<AttentionTable> fit_attention(const std::vector<core::CalibrationPoint>& points,
                                           const GpuSpec& gpu, bool prefill) {
  AttentionTable table;
  if (points.empty()) return table;
  // One head configuration per table: the most common one (a trace holds one model).
  std::map<std::tuple<int, int, int, int>, int> shape_votes;
  for (const auto& p : points)
    ++shape_votes[{p.n_heads, p.n_kv_heads, p.head_dim, dtype_size(p.dtype)}];
  const auto best = std::max_element(shape_votes.begin(), shape_votes.end(),
                                     [](auto& a, auto& b) { return a.second < b.second; });
  const auto [nh, nkv, hd, kvb] = best->first;
  table.shape = {nh, nkv, hd, kvb};
  if (nh <= 0 || nkv <= 0 || hd <= 0)
    return core::make_error(fmt::format(
        "{} calibration points lack head counts (n_heads={}, n_kv_heads={}, head_dim={})",
        prefill ? "prefill_attention" : "decode_attention", nh, nkv, hd));
  std::map<int, std::pair<std::vector<double>, std::vector<double>>> by_batch;
  for (const auto& p : points) {
    if (std::tuple{p.n_heads, p.n_kv_heads, p.head_dim, dtype_size(p.dtype)} != best->first) continue;
    const int len = attention_len(p);
    if (p.batch <= 0 || len <= 0 || !(p.duration_us > 0)) continue;
    auto& [lens, durations] = by_batch[p.batch];
    lens.push_back(len);
    durations.push_back(p.duration_us);
  }
  for (auto& [batch, series] : by_batch) {
    auto& [lens, durations] = series;
    std::vector<double> slowdowns;
    for (std::size_t i = 0; i < lens.size(); ++i) {
      const int len = static_cast<int>(lens[i]);
      const double ideal = prefill ? prefill_attention_ideal_us(batch, len, table.shape, gpu)
                                   : decode_attention_ideal_us(batch, len, table.shape, gpu);
      slowdowns.push_back(durations[i] / ideal);
    }
    SQZ_TRY(duration_curve, LogLogCurve::fit(lens, durations));
    SQZ_TRY(slowdown_curve, LogLogCurve::fit(lens, slowdowns));
    table.batches.push_back(batch);
    table.duration_us.push_back(std::move(duration_curve));
    table.slowdown.push_back(std::move(slowdown_curve));
  }
  return table;
}

// Neighbouring grid entries of `value` in an ascending list, clamped to its ends.
std::pair<std::size_t, std::size_t> bracket(const std::vector<int>& grid, double value) {
  if (value <= grid.front()) return {0, 0};
  if (value >= grid.back()) return {grid.size() - 1, grid.size() - 1};
  const auto hi = static_cast<std::size_t>(std::upper_bound(grid.begin(), grid.end(), value) - grid.begin());
  return {hi - 1, hi};
}

}  // namespace

double gemm_ideal_us(int rows, GemmShape shape, int elem_bytes, const GpuSpec& gpu) {
  const double r = rows, n = shape.n, k = shape.k;
  const double bytes = (n * k + r * k + r * n) * elem_bytes;
  return roofline_us(bytes, 2.0 * r * n * k, gpu);
}

double decode_attention_ideal_us(int batch, int kv_len, const AttentionShape& s, const GpuSpec& gpu) {
  const double b = batch, len = kv_len;
  const double bytes = b * (len * 2.0 * s.n_kv_heads * s.head_dim * s.kv_bytes +
                            2.0 * s.n_heads * s.head_dim * 2.0);
  const double flops = 4.0 * b * s.n_heads * len * s.head_dim;
  return roofline_us(bytes, flops, gpu);
}

double prefill_attention_ideal_us(int batch, int seq_len, const AttentionShape& s, const GpuSpec& gpu) {
  const double b = batch, len = seq_len;
  const double bytes = b * len * (2.0 * s.n_heads + 2.0 * s.n_kv_heads) * s.head_dim * 2.0;
  const double flops = 2.0 * b * s.n_heads * s.head_dim * len * len;  // causal: half of 4 s^2 d
  return roofline_us(bytes, flops, gpu);
}

core::Result<CostModel> CostModel::fit(std::span<const core::CalibrationPoint> points,
                                       const GpuSpec& profiled_gpu) {
  CostModel model;
  model.profiled_gpu_ = profiled_gpu;
  std::map<std::tuple<std::string, int, int, int>, std::pair<std::vector<double>, std::vector<double>>> gemms;
  std::vector<core::CalibrationPoint> decode, prefill;
  for (const auto& p : points) {
    if (!(p.duration_us > 0)) continue;
    if (is_gemm_op(p.op) && p.rows > 0 && p.n > 0 && p.k > 0) {
      auto& [rows, durations] = gemms[{p.op, p.n, p.k, dtype_size(p.dtype)}];
      rows.push_back(p.rows);
      durations.push_back(p.duration_us);
    } else if (p.op == core::trace_op::kDecodeAttention) {
      decode.push_back(p);
    } else if (p.op == core::trace_op::kPrefillAttention) {
      prefill.push_back(p);
    }
  }
  double largest_gemm_flops = 0;
  for (auto& [key, series] : gemms) {
    const auto& [op, n, k, elem] = key;
    auto& [rows, durations] = series;
    std::vector<double> slowdowns;
    for (std::size_t i = 0; i < rows.size(); ++i)
      slowdowns.push_back(durations[i] / gemm_ideal_us(static_cast<int>(rows[i]), {n, k}, elem, profiled_gpu));
    GemmTable table{op, {n, k}, {}, {}};
    SQZ_TRY(duration_curve, LogLogCurve::fit(rows, durations));
    SQZ_TRY(slowdown_curve, LogLogCurve::fit(rows, slowdowns));
    table.duration_us = std::move(duration_curve);
    table.slowdown = std::move(slowdown_curve);
    // The most compute-bound point measured tells how far from peak FLOPs large kernels run.
    const double flops = 2.0 * table.slowdown.max_x() * n * k;
    if (flops > largest_gemm_flops) {
      largest_gemm_flops = flops;
      model.compute_slowdown_ = table.slowdown.ys.back();
    }
    model.gemm_tables_.push_back(std::move(table));
  }
  if (model.gemm_tables_.empty())
    model.notes_.push_back("no GEMM calibration: GEMMs priced at roofline / 0.7 (uncalibrated)");
  for (const char* op : kGemmOps) {
    const bool found = std::any_of(model.gemm_tables_.begin(), model.gemm_tables_.end(),
                                   [&](const GemmTable& t) { return t.op == op; });
    if (!found && !model.gemm_tables_.empty())
      model.notes_.push_back(fmt::format("no '{}' calibration: priced with the slowdown of the "
                                         "nearest calibrated GEMM shape", op));
  }
  SQZ_TRY(decode_table, fit_attention(decode, profiled_gpu, false));
  SQZ_TRY(prefill_table, fit_attention(prefill, profiled_gpu, true));
  model.decode_attention_ = std::move(decode_table);
  model.prefill_attention_ = std::move(prefill_table);
  if (model.decode_attention_.empty()) {
    model.notes_.push_back("no decode_attention calibration: priced at roofline / 0.7 (uncalibrated)");
  } else {
    model.bandwidth_slowdown_ = model.decode_attention_.slowdown.back().ys.back();
  }
  if (model.prefill_attention_.empty())
    model.notes_.push_back("no prefill_attention calibration: priced at its roofline with the "
                           "large-GEMM compute slowdown");
  return model;
}

const GemmTable* CostModel::nearest_gemm_table(std::string_view op, GemmShape shape) const {
  const GemmTable* best = nullptr;
  double best_distance = 0;
  const double target = std::log(double(shape.n) * shape.k);
  // Same op first; any GEMM of the nearest size otherwise.
  for (int pass = 0; pass < 2 && best == nullptr; ++pass) {
    for (const auto& t : gemm_tables_) {
      if (pass == 0 && t.op != op) continue;
      const double distance = std::abs(std::log(double(t.shape.n) * t.shape.k) - target);
      if (best == nullptr || distance < best_distance) {
        best = &t;
        best_distance = distance;
      }
    }
  }
  return best;
}

double CostModel::gemm_us(std::string_view op, int rows, GemmShape shape, int elem_bytes,
                          const GpuSpec& gpu) const {
  const GemmTable* table = nearest_gemm_table(op, shape);
  const double ideal = gemm_ideal_us(rows, shape, elem_bytes, gpu);
  if (table == nullptr) return ideal * gemm_default_slowdown_;
  const bool measured_here = gpu.name == profiled_gpu_.name && table->op == op && table->shape == shape;
  if (measured_here && table->duration_us.side(rows) == GridSide::Inside)
    return table->duration_us.at_clamped(rows);
  return ideal * table->slowdown.at_clamped(rows);
}

double CostModel::attention_us(const AttentionTable& table, double default_slowdown, int batch,
                               int kv_len, const AttentionShape& shape, const GpuSpec& gpu,
                               bool prefill) const {
  auto ideal = [&](int b, int len, const AttentionShape& sh, const GpuSpec& g) {
    return prefill ? prefill_attention_ideal_us(b, len, sh, g) : decode_attention_ideal_us(b, len, sh, g);
  };
  if (table.empty()) return ideal(batch, kv_len, shape, gpu) * default_slowdown;
  // Duration on the profiled GPU and shape at one measured batch (grid index i), any length.
  auto profiled_us = [&](std::size_t i, int len) {
    const LogLogCurve& curve = table.duration_us[i];
    const int b = table.batches[i];
    switch (curve.side(len)) {
      case GridSide::Inside: return curve.at_clamped(len);
      case GridSide::Below: {
        // Short caches: a fixed cost plus bytes, so extend the first segment as a straight line
        // (not a power law, which would wrongly send the fixed cost to zero).
        if (curve.xs.size() < 2) return curve.ys.front();
        const double slope = std::max(0.0, (curve.ys[1] - curve.ys[0]) / (curve.xs[1] - curve.xs[0]));
        const double line = curve.ys[0] - slope * (curve.xs[0] - len);
        return std::max(line, curve.ys[0] * len / curve.xs[0]);
      }
      case GridSide::Above: break;
    }
    // Long caches: bandwidth-bound, so the roofline scaled by the last measured slowdown.
    return ideal(b, len, table.shape, profiled_gpu_) * table.slowdown[i].ys.back();
  };
  const auto [lo, hi] = bracket(table.batches, batch);
  const bool batch_inside = batch >= table.batches.front() && batch <= table.batches.back();
  const bool measured_here = gpu.name == profiled_gpu_.name && shape == table.shape;
  if (measured_here && batch_inside)
    return log_lerp(batch, table.batches[lo], profiled_us(lo, kv_len), table.batches[hi],
                    profiled_us(hi, kv_len));
  auto slowdown_at = [&](std::size_t i) {
    return profiled_us(i, kv_len) / ideal(table.batches[i], kv_len, table.shape, profiled_gpu_);
  };
  const double slowdown = log_lerp(std::clamp(batch, table.batches[lo], table.batches[hi]),
                                   table.batches[lo], slowdown_at(lo), table.batches[hi], slowdown_at(hi));
  return ideal(batch, kv_len, shape, gpu) * slowdown;
}

double CostModel::decode_attention_us(int batch, int kv_len, const AttentionShape& shape,
                                      const GpuSpec& gpu) const {
  return attention_us(decode_attention_, bandwidth_slowdown_, batch, std::max(1, kv_len), shape,
                      gpu, false);
}

double CostModel::decode_attention_mixed_us(std::span<const int> kv_lens, const AttentionShape& shape,
                                            const GpuSpec& gpu) const {
  if (kv_lens.empty()) return 0.0;
  const int batch = static_cast<int>(kv_lens.size());
  double total = 0.0;
  for (int kv : kv_lens) total += decode_attention_us(batch, kv, shape, gpu);
  return total / batch;
}

double CostModel::prefill_attention_us(int batch, int seq_len, const AttentionShape& shape,
                                       const GpuSpec& gpu) const {
  return attention_us(prefill_attention_, compute_slowdown_, batch, std::max(1, seq_len), shape,
                      gpu, true);
}

double CostModel::memory_bound_us(double bytes, const GpuSpec& gpu) const {
  return roofline_us(bytes, 0.0, gpu) * bandwidth_slowdown_;
}

double CostModel::allreduce_us(double bytes, int tp, const GpuSpec& gpu) const {
  if (tp <= 1) return 0.0;
  const double wire = 2.0 * (tp - 1) / tp * bytes;
  return gpu.link_latency_us + (gpu.link_bytes_per_s > 0 ? wire / gpu.link_bytes_per_s * 1e6 : 0.0);
}

}  // namespace squeeze::sim
