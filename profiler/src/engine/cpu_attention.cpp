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
  // Per query head, so threads never share an accumulator; summed per group afterwards.
  std::vector<std::vector<double>> head_columns(
      column_scores ? static_cast<std::size_t>(shape.n_heads) : 0);
  pool.parallel_for(static_cast<std::size_t>(shape.n_heads), [&](std::size_t lo, std::size_t hi) {
    std::vector<double> p(static_cast<std::size_t>(n));
    std::vector<double> acc(static_cast<std::size_t>(d));
    for (std::size_t h = lo; h < hi; ++h) {
      const std::size_t kvh = h / static_cast<std::size_t>(shape.group());
      std::vector<double>* columns = nullptr;
      if (column_scores) {
        head_columns[h].assign(static_cast<std::size_t>(n), 0.0);
        columns = &head_columns[h];
      }
      for (int i = 0; i < n; ++i) {
        const float* qi = q + static_cast<std::size_t>(i) * q_dim + h * static_cast<std::size_t>(d);
        for (int j = 0; j <= i; ++j)
          p[static_cast<std::size_t>(j)] =
              dot(qi, k + static_cast<std::size_t>(j) * kv_dim + kvh * static_cast<std::size_t>(d), d) *
              scale;
        softmax(p, i + 1);
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int j = 0; j <= i; ++j) {
          const double pj = p[static_cast<std::size_t>(j)];
          const float* vj = v + static_cast<std::size_t>(j) * kv_dim + kvh * static_cast<std::size_t>(d);
          for (int c = 0; c < d; ++c) acc[static_cast<std::size_t>(c)] += pj * vj[c];
          if (columns) (*columns)[static_cast<std::size_t>(j)] += pj;
        }
        float* oi = out + static_cast<std::size_t>(i) * q_dim + h * static_cast<std::size_t>(d);
        for (int c = 0; c < d; ++c) oi[c] = static_cast<float>(acc[static_cast<std::size_t>(c)]);
      }
    }
  });
  if (column_scores) {
    column_scores->assign(static_cast<std::size_t>(shape.n_kv_heads),
                          std::vector<double>(static_cast<std::size_t>(n), 0.0));
    for (int h = 0; h < shape.n_heads; ++h) {
      auto& dst = (*column_scores)[static_cast<std::size_t>(h / shape.group())];
      const auto& src = head_columns[static_cast<std::size_t>(h)];
      for (int j = 0; j < n; ++j) dst[static_cast<std::size_t>(j)] += src[static_cast<std::size_t>(j)];
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
  std::vector<double> acc(static_cast<std::size_t>(d));
  for (int h = 0; h < shape.n_heads; ++h) {
    const auto kvh = static_cast<std::size_t>(h / shape.group());
    const float* keys = cache.k[kvh].data();
    const float* values = cache.v[kvh].data();
    const float* qh = q + static_cast<std::size_t>(h) * static_cast<std::size_t>(d);
    for (int s = 0; s < slots; ++s)
      p[static_cast<std::size_t>(s)] = dot(qh, keys + static_cast<std::size_t>(s) * static_cast<std::size_t>(d), d) * scale;
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
