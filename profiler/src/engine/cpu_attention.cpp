#include "cpu_attention.hpp"

#include <algorithm>
#include <cmath>

#include "cpu_kernels.hpp"

namespace squeeze::profiler::cpu {

namespace {

// In place: scores -> probabilities, fp64, max-subtracted.
void softmax(std::vector<double>& scores, int n) {
  double max_score = scores[0];
  for (int j = 1; j < n; ++j) max_score = std::max(max_score, scores[static_cast<std::size_t>(j)]);
  double sum = 0;
  for (int j = 0; j < n; ++j) {
    auto& s = scores[static_cast<std::size_t>(j)];
    s = std::exp(s - max_score);
    sum += s;
  }
  for (int j = 0; j < n; ++j) scores[static_cast<std::size_t>(j)] /= sum;
}

}  // namespace

void prefill_attention(const AttentionShape& shape, int n, const float* q, const float* k,
                       const float* v, float* out,
                       std::vector<std::vector<double>>* column_scores, ThreadPool& pool) {
  const int d = shape.head_dim;
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  const auto q_dim = static_cast<std::size_t>(shape.q_dim());
  const auto kv_dim = static_cast<std::size_t>(shape.kv_dim());
  const auto nn = static_cast<std::size_t>(n);
  // Queries in blocks: each block's scores and outputs are two small matmuls over the keys the
  // block can see (0..block end), so causal masking wastes at most half a block.
  constexpr int kQueryBlock = 64;
  // Per query head, so threads never share an accumulator; summed per group afterwards.
  std::vector<std::vector<double>> head_columns(
      column_scores ? static_cast<std::size_t>(shape.n_heads) : 0);
  pool.parallel_for(static_cast<std::size_t>(shape.n_heads), [&](std::size_t lo, std::size_t hi) {
    std::vector<float> scores(static_cast<std::size_t>(kQueryBlock) * nn);  // (block, keys)
    std::vector<float> v_t(static_cast<std::size_t>(d) * nn);               // (head_dim, n)
    std::vector<double> row(nn);
    for (std::size_t h = lo; h < hi; ++h) {
      const std::size_t kvh = h / static_cast<std::size_t>(shape.group());
      const float* k_head = k + kvh * static_cast<std::size_t>(d);
      for (std::size_t j = 0; j < nn; ++j)
        for (int c = 0; c < d; ++c)
          v_t[static_cast<std::size_t>(c) * nn + j] = v[j * kv_dim + kvh * static_cast<std::size_t>(d) + static_cast<std::size_t>(c)];
      std::vector<double>* columns = nullptr;
      if (column_scores) {
        head_columns[h].assign(nn, 0.0);
        columns = &head_columns[h];
      }
      for (int i0 = 0; i0 < n; i0 += kQueryBlock) {
        const int i1 = std::min(n, i0 + kQueryBlock);
        const int rows = i1 - i0, keys = i1;
        const auto ld = static_cast<std::size_t>(keys);
        matmul_nt_serial(q + static_cast<std::size_t>(i0) * q_dim + h * static_cast<std::size_t>(d), q_dim, rows,
                         k_head, kv_dim, keys, d, scores.data(), ld);
        for (int r = 0; r < rows; ++r) {
          const int visible = i0 + r + 1;
          float* s = scores.data() + static_cast<std::size_t>(r) * ld;
          for (int j = 0; j < visible; ++j) row[static_cast<std::size_t>(j)] = s[j] * scale;
          softmax(row, visible);
          for (int j = 0; j < visible; ++j) s[j] = static_cast<float>(row[static_cast<std::size_t>(j)]);
          for (int j = visible; j < keys; ++j) s[j] = 0.0f;
          if (columns)
            for (int j = 0; j < visible; ++j) (*columns)[static_cast<std::size_t>(j)] += row[static_cast<std::size_t>(j)];
        }
        matmul_nt_serial(scores.data(), ld, rows, v_t.data(), nn, d, keys,
                         out + static_cast<std::size_t>(i0) * q_dim + h * static_cast<std::size_t>(d), q_dim);
      }
    }
  });
  if (column_scores) {
    column_scores->assign(static_cast<std::size_t>(shape.n_kv_heads), std::vector<double>(nn, 0.0));
    for (int h = 0; h < shape.n_heads; ++h) {
      auto& dst = (*column_scores)[static_cast<std::size_t>(h / shape.group())];
      const auto& src = head_columns[static_cast<std::size_t>(h)];
      for (std::size_t j = 0; j < nn; ++j) dst[j] += src[j];
    }
  }
}

void decode_attention(const AttentionShape& shape, const float* q, const LayerCache& cache,
                      float* out, std::vector<std::vector<double>>& probs_by_slot) {
  const int d = shape.head_dim;
  const int slots = cache.selector.size();
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  probs_by_slot.assign(static_cast<std::size_t>(shape.n_kv_heads),
                       std::vector<double>(static_cast<std::size_t>(slots), 0.0));
  std::vector<double> p(static_cast<std::size_t>(slots));
  std::vector<float> scores(static_cast<std::size_t>(slots));
  std::vector<double> acc(static_cast<std::size_t>(d));
  for (int h = 0; h < shape.n_heads; ++h) {
    const auto kvh = static_cast<std::size_t>(h / shape.group());
    const float* keys = cache.k[kvh].data();
    const float* values = cache.v[kvh].data();
    const float* qh = q + static_cast<std::size_t>(h) * static_cast<std::size_t>(d);
    matmul_nt_serial(qh, static_cast<std::size_t>(d), 1, keys, static_cast<std::size_t>(d), slots, d,
                     scores.data(), static_cast<std::size_t>(slots));
    for (int s = 0; s < slots; ++s) p[static_cast<std::size_t>(s)] = scores[static_cast<std::size_t>(s)] * scale;
    softmax(p, slots);
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int s = 0; s < slots; ++s) {
      const double ps = p[static_cast<std::size_t>(s)];
      const float* vs = values + static_cast<std::size_t>(s) * static_cast<std::size_t>(d);
      for (int c = 0; c < d; ++c) acc[static_cast<std::size_t>(c)] += ps * vs[c];
      probs_by_slot[kvh][static_cast<std::size_t>(s)] += ps;
    }
    float* oh = out + static_cast<std::size_t>(h) * static_cast<std::size_t>(d);
    for (int c = 0; c < d; ++c) oh[c] = static_cast<float>(acc[static_cast<std::size_t>(c)]);
  }
}

}  // namespace squeeze::profiler::cpu
