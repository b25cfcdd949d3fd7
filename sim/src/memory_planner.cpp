#include "squeeze/sim/memory_planner.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "squeeze/sim/op_shapes.hpp"

namespace squeeze::sim {
namespace {

// Solves the k x k system a x = y (k <= 3) by Gaussian elimination with partial pivoting.
// Returns false when a pivot vanishes.
template <std::size_t N>
bool solve(std::array<std::array<double, N>, N> a, std::array<double, N> y, std::size_t k,
           std::array<double, N>& x) {
  for (std::size_t c = 0; c < k; ++c) {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < k; ++r)
      if (std::abs(a[r][c]) > std::abs(a[pivot][c])) pivot = r;
    if (!(std::abs(a[pivot][c]) > 0)) return false;
    std::swap(a[c], a[pivot]);
    std::swap(y[c], y[pivot]);
    for (std::size_t r = c + 1; r < k; ++r) {
      const double f = a[r][c] / a[c][c];
      for (std::size_t j = c; j < k; ++j) a[r][j] -= f * a[c][j];
      y[r] -= f * y[c];
    }
  }
  for (std::size_t c = k; c-- > 0;) {
    double s = y[c];
    for (std::size_t j = c + 1; j < k; ++j) s -= a[c][j] * x[j];
    x[c] = s / a[c][c];
  }
  return true;
}

// Byte counts are summed in double (exact below 2^53 bytes, 8 PiB) so that absurd inputs saturate
// instead of overflowing; converted back saturating.
std::int64_t saturate(double bytes) {
  constexpr double kMax = 9.2e18;
  if (!(bytes < kMax)) return INT64_MAX;
  if (bytes < -kMax) return INT64_MIN;
  return std::llround(bytes);
}

}  // namespace

WorkspaceFit fit_workspace(std::span<const int> batch, std::span<const int> prompt_len,
                           std::span<const double> residual_bytes) {
  WorkspaceFit fit;
  const std::size_t n = std::min({batch.size(), prompt_len.size(), residual_bytes.size()});
  fit.runs_used = static_cast<int>(n);
  if (n == 0) return fit;
  // Candidate columns, each scaled to unit maximum so that the elimination is well conditioned.
  std::array<std::vector<double>, 3> column;
  for (std::size_t i = 0; i < n; ++i) {
    column[0].push_back(1.0);
    column[1].push_back(double(batch[i]));
    column[2].push_back(double(batch[i]) * double(prompt_len[i]));
  }
  std::array<double, 3> scale{};
  for (std::size_t c = 0; c < 3; ++c) {
    for (double v : column[c]) scale[c] = std::max(scale[c], std::abs(v));
    if (scale[c] > 0)
      for (double& v : column[c]) v /= scale[c];
  }
  // Keep a column only if it is not (nearly) in the span of the kept ones (Gram-Schmidt) and the
  // runs leave at least one degree of freedom beyond the kept terms.
  std::vector<std::size_t> kept;
  std::vector<std::vector<double>> basis;
  for (std::size_t c = 0; c < 3; ++c) {
    if (kept.size() + 1 >= n && !kept.empty()) break;
    std::vector<double> v = column[c];
    double norm0 = 0;
    for (double x : v) norm0 += x * x;
    for (const auto& q : basis) {
      double dot = 0;
      for (std::size_t i = 0; i < n; ++i) dot += v[i] * q[i];
      for (std::size_t i = 0; i < n; ++i) v[i] -= dot * q[i];
    }
    double norm = 0;
    for (double x : v) norm += x * x;
    if (!(norm0 > 0) || norm < 1e-10 * norm0) continue;
    for (double& x : v) x /= std::sqrt(norm);
    basis.push_back(std::move(v));
    kept.push_back(c);
  }
  std::array<std::array<double, 3>, 3> a{};
  std::array<double, 3> y{}, x{};
  for (std::size_t r = 0; r < kept.size(); ++r) {
    for (std::size_t c = 0; c < kept.size(); ++c)
      for (std::size_t i = 0; i < n; ++i) a[r][c] += column[kept[r]][i] * column[kept[c]][i];
    for (std::size_t i = 0; i < n; ++i) y[r] += column[kept[r]][i] * residual_bytes[i];
  }
  if (kept.empty() || !solve(a, y, kept.size(), x)) {
    double mean = 0;
    for (std::size_t i = 0; i < n; ++i) mean += residual_bytes[i];
    fit.constant_bytes = mean / double(n);
    return fit;
  }
  std::array<double, 3> coefficient{};
  for (std::size_t r = 0; r < kept.size(); ++r) coefficient[kept[r]] = x[r] / scale[kept[r]];
  fit.constant_bytes = coefficient[0];
  fit.per_sequence_bytes = coefficient[1];
  fit.per_token_bytes = coefficient[2];
  return fit;
}

std::int64_t decode_kv_tokens(std::span<const int> caps, int prompt_len, int gen_len) {
  std::int64_t total = 0;
  for (int cap : caps) total += std::min<std::int64_t>(cap, std::int64_t(prompt_len) + gen_len);
  return total;
}

std::int64_t prefill_kv_tokens(std::span<const int> caps, int prompt_len, CacheMode mode, int chunk) {
  std::int64_t total = 0;
  for (int cap : caps) {
    if (mode == CacheMode::Online) total += prompt_len;
    else total += std::min<std::int64_t>(prompt_len, std::int64_t(cap) + chunk);
  }
  return total;
}

MemoryPlanner::MemoryPlanner(core::ModelConfig model, WorkspaceFit workspace, double reserve_fraction,
                             EngineMemoryRule rule)
    : model_(std::move(model)), workspace_(workspace), reserve_(reserve_fraction), rule_(rule) {}

std::int64_t MemoryPlanner::weights_bytes(int tp) const {
  return model_.parameter_count() * core::dtype_bytes(model_.weight_dtype) / std::max(1, tp);
}

double MemoryPlanner::activation_workspace(double tokens, int tp) const {
  if (tokens <= 0) return 0;
  const LayerShapes s = layer_shapes(model_, tp);
  const double h = s.hidden, ab = s.act_bytes;
  // x (fp32), norm, qkv (fp32), q, attention output, delta (fp32), gate_up (fp32), SwiGLU output,
  // per-layer cosines (fp32), token metadata (ids, positions, sequence, starts, slots per KV head).
  const double per_token = 4 * h + ab * h + 4.0 * s.qkv.n + 2 * ab * s.o_proj.k + 4 * h + 4.0 * s.gate_up.n +
                           ab * s.intermediate_per_gpu + 4.0 * model_.n_layers + 4.0 * (4 + s.attention.n_kv_heads);
  return tokens * per_token + 4;
}

double MemoryPlanner::decode_workspace(double batch, int capacity, int tp) const {
  if (batch <= 0) return 0;
  const LayerShapes s = layer_shapes(model_, tp);
  const double heads = s.attention.n_heads, d = s.attention.head_dim;
  // Last rows, fp32 logits, token ids, split-KV partials (output + max/sum), H2O logits over the
  // largest capacity, softmax statistics.
  const double per_row = double(s.act_bytes) * s.hidden + 4.0 * s.lm_head.n + 4 +
                         heads * rule_.attention_splits * (d + 2) * 4 + heads * std::max(capacity, 1) * 4.0 +
                         2 * heads * 4;
  return batch * per_row;
}

std::int64_t MemoryPlanner::activation_workspace_bytes(std::int64_t tokens, int tp) const {
  return saturate(activation_workspace(double(tokens), tp));
}

std::int64_t MemoryPlanner::decode_workspace_bytes(int batch, int capacity, int tp) const {
  return saturate(decode_workspace(double(batch), capacity, tp));
}

int MemoryPlanner::full_initial_capacity(int prompt_len) const {
  return prompt_len + std::max(rule_.full_decode_reserve, 1);
}

namespace {

// Capacity of a layer at the end of the run: min(cap, sequence) with budgets; a full cache starts
// at prompt + reserve and doubles whenever a decode step needs one slot more than it holds.
int full_final_capacity(int initial, std::int64_t sequence) {
  std::int64_t c = initial;
  while (c < sequence) c *= 2;
  return static_cast<int>(std::min<std::int64_t>(c, 1 << 30));
}

int budget_capacity(int cap, std::int64_t sequence) {
  return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(cap, sequence)));
}

}  // namespace

std::vector<int> MemoryPlanner::layer_capacities(const Scenario& s, std::span<const int> caps) const {
  const std::int64_t sequence = std::int64_t(s.prompt_len) + s.gen_len;
  if (s.allocation == Allocation::Full)
    return std::vector<int>(caps.size(), full_final_capacity(full_initial_capacity(s.prompt_len), sequence));
  std::vector<int> out;
  out.reserve(caps.size());
  for (int cap : caps) out.push_back(budget_capacity(cap, sequence));
  return out;
}

std::int64_t MemoryPlanner::prefill_rows(const Scenario& s) {
  const int per_sequence = s.mode == CacheMode::Calibrated ? std::min(s.prompt_len, s.prefill_chunk) : s.prompt_len;
  return std::int64_t(s.batch) * std::max(per_sequence, 1);
}

MemoryBreakdown MemoryPlanner::peak(const Scenario& s, std::span<const int> caps,
                                    const std::optional<ResidentWorkspace>& resident) const {
  const LayerShapes sh = layer_shapes(model_, s.tp);
  const double b = s.batch, P = s.prompt_len, kvh = sh.attention.n_kv_heads, layers = double(caps.size());
  const bool full = s.allocation == Allocation::Full;
  const bool h2o = s.policy == core::PolicyKind::H2O && !full;
  const double kv_token = double(kv_bytes_per_token_layer(model_, s.tp));  // K and V, one token
  const double slot = kv_token + kvh * (4 + (h2o ? 8 : 0));                // + position (+ score)
  const double row_state = 6 * 4;
  // Layer capacities right after prefill (no allocation here: the sweep calls this per row).
  const std::int64_t sequence = std::int64_t(s.prompt_len) + s.gen_len;
  const int full_initial = full_initial_capacity(s.prompt_len);
  auto capacity_of = [&](int cap) { return full ? full_initial : budget_capacity(cap, sequence); };
  int max_capacity = 0;
  for (int cap : caps) max_capacity = std::max(max_capacity, capacity_of(cap));
  const std::int64_t rows = std::max<std::int64_t>(prefill_rows(s), s.batch);
  const ResidentWorkspace r = resident.value_or(ResidentWorkspace{rows, s.batch, max_capacity});
  const double batch_rows = std::max(r.batch, s.batch);
  const double act = activation_workspace(double(std::max(r.tokens, rows)), s.tp);
  const double weights = double(weights_bytes(s.tp));
  const double overhead = std::round(workspace_.at(s.batch, s.prompt_len));

  double best_total = -1e300, best_kv = 0, best_other = 0;
  bool best_prefill = false;
  auto moment = [&](double kv, double other, bool prefill) {
    const double total = weights + overhead + act + kv + other;
    if (total > best_total) {
      best_total = total;
      best_kv = kv;
      best_other = other;
      best_prefill = prefill;
    }
  };
  auto arena = [&](int c) { return b * (c * slot + row_state); };

  const int post_capacity = std::max(r.capacity, max_capacity);
  double arenas = 0;
  if (s.mode == CacheMode::Online) {
    // Every layer's prompt K/V (and H2O's fp64 column sums) is allocated before the first arena;
    // arenas are then built layer by layer, each followed by freeing that layer's prompt cache.
    const double prompt_kv = b * P * kv_token;
    const double column_sums = h2o ? layers * b * kvh * P * 8 : 0;
    const double dec_before = decode_workspace(batch_rows, r.capacity, s.tp);
    double held = layers * prompt_kv;
    for (int cap : caps) {
      const int c = capacity_of(cap);
      held += arena(c);
      moment(held, dec_before + column_sums + b * kvh * c * 4, true);  // + compaction map
      held -= prompt_kv;
      arenas += arena(c);
    }
    // The decode workspace is resized for the arenas' capacity while the column sums still live.
    moment(arenas, decode_workspace(batch_rows, post_capacity, s.tp) + column_sums, true);
  } else {
    // Chunked prefill with budgets applied per chunk: each layer's arena plus one chunk of new
    // K/V (never more than the prompt), H2O scores over the same positions.
    double held = 0, column_sums = 0;
    for (int cap : caps) {
      const int c = capacity_of(cap);
      const double window = std::min<double>(P, double(c) + s.prefill_chunk);
      held += arena(c) + b * kv_token * std::max(0.0, window - c);
      if (h2o) column_sums += b * kvh * window * 8;
      arenas += arena(c);
    }
    moment(held, decode_workspace(batch_rows, post_capacity, s.tp) + column_sums, true);
  }
  // Decode. A full cache that outgrows its reserve doubles layer by layer: while the last layer
  // is copied both its old and new arenas are held.
  const int grown = full ? full_final_capacity(full_initial, sequence) : max_capacity;
  if (full && !caps.empty() && grown > max_capacity) {
    const int previous = grown / 2;
    const double new_arenas = layers * arena(grown);
    moment(new_arenas + b * previous * slot, decode_workspace(batch_rows, std::max(post_capacity, previous), s.tp),
           false);
    moment(new_arenas, decode_workspace(batch_rows, std::max(post_capacity, grown), s.tp), false);
  } else {
    moment(arenas, decode_workspace(batch_rows, post_capacity, s.tp), false);
  }
  MemoryBreakdown out;
  out.weights_bytes = saturate(weights);
  out.workspace_bytes = saturate(overhead);
  out.kv_bytes = saturate(best_kv);
  out.activation_bytes = saturate(act + best_other);
  out.total_bytes = saturate(best_total);
  out.prefill_is_peak = best_prefill;
  return out;
}

ResidentWorkspace MemoryPlanner::workspace_after(const Scenario& s, std::span<const int> caps,
                                                 const ResidentWorkspace& before) const {
  const std::vector<int> capacity = layer_capacities(s, caps);
  ResidentWorkspace after = before;
  after.tokens = std::max({before.tokens, prefill_rows(s), std::int64_t(s.batch)});
  after.batch = std::max(before.batch, s.batch);
  if (!capacity.empty()) after.capacity = std::max(before.capacity, *std::max_element(capacity.begin(), capacity.end()));
  return after;
}

int MemoryPlanner::max_batch(Scenario s, std::span<const int> caps, const GpuSpec& gpu) const {
  const auto usable = static_cast<std::int64_t>(double(gpu.memory_bytes) * (1.0 - reserve_));
  auto total = [&](std::int64_t batch) {
    s.batch = static_cast<int>(batch);
    return peak(s, caps).total_bytes;
  };
  // Every term of the peak is affine in the batch, so peak = fixed + batch x per_sequence and the
  // answer is one division; the checks around it absorb integer rounding.
  const std::int64_t one = total(1);
  if (one > usable) return 0;
  const std::int64_t per_sequence = std::max<std::int64_t>(1, total(2) - one);
  const std::int64_t fixed = one - per_sequence;
  constexpr std::int64_t kLimit = 1 << 24;
  std::int64_t batch = std::clamp<std::int64_t>((usable - fixed) / per_sequence, 1, kLimit);
  while (batch > 1 && total(batch) > usable) --batch;
  while (batch < kLimit && total(batch + 1) <= usable) ++batch;
  return static_cast<int>(batch);
}

MemoryPlan MemoryPlanner::plan(const Scenario& s, std::span<const int> caps, const GpuSpec& gpu) const {
  MemoryPlan plan;
  plan.peak = peak(s, caps);
  plan.decode_kv_bytes = decode_kv_tokens(caps, s.prompt_len, s.gen_len) *
                         kv_bytes_per_token_layer(model_, s.tp) * s.batch;
  plan.usable_bytes = static_cast<std::int64_t>(double(gpu.memory_bytes) * (1.0 - reserve_));
  plan.fits = plan.peak.total_bytes <= plan.usable_bytes;
  plan.max_batch = max_batch(s, caps, gpu);
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  if (plan.max_batch == 0) {
    Scenario one = s;
    one.batch = 1;
    plan.limit = fmt::format(
        "does not fit: one sequence needs {:.1f} GiB (weights {:.1f} GiB) but {} has {:.1f} GiB "
        "usable ({:.0f}% reserve); try --tp or a smaller model",
        double(peak(one, caps).total_bytes) / kGiB, double(weights_bytes(s.tp)) / kGiB, gpu.name,
        double(plan.usable_bytes) / kGiB, reserve_ * 100);
  } else {
    Scenario at_max = s;
    at_max.batch = plan.max_batch;
    if (!peak(at_max, caps).prefill_is_peak)
      plan.limit = "limited by the decode KV at the end of generation";
    else if (s.mode == CacheMode::Online)
      plan.limit = "limited by the prefill peak (every layer's full prompt KV held while the budgeted "
                   "arenas are built)";
    else
      plan.limit = "limited by the chunked prefill (arenas plus one chunk of new KV per layer)";
  }
  return plan;
}

}  // namespace squeeze::sim
