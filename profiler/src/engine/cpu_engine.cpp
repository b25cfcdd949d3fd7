#include "squeeze/profiler/cpu_engine.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "cpu_attention.hpp"
#include "cpu_kernels.hpp"
#include "kv_cache.hpp"
#include "rope.hpp"
#include "thread_pool.hpp"

namespace squeeze::profiler {

namespace {

using core::make_error;
using core::Result;
using core::Status;
using cpu::LayerCache;

struct Sequence {
  CachePlan plan;
  bool prefilled = false;
  int length = 0;                  // next absolute position
  std::vector<LayerCache> layers;  // (n_layers), filled by prefill
};

// The full-cache forward pass over one prompt: what every plan's compression starts from. Sequences
// of one prefill call with the same prompt share it (a quality grid prefills one prompt under many
// plans), so the model runs once per distinct prompt.
struct PromptForward {
  std::vector<int> prompt;
  bool has_columns = false;
  PrefillOutput out;                                         // logits and similarities, no budgets
  std::vector<std::vector<float>> full_k, full_v;            // (n_layers) each (prompt_len, kv_dim)
  std::vector<std::vector<std::vector<double>>> columns;     // (n_layers, kv_heads, prompt_len)
};

// Activations of one forward pass over `rows` tokens. Shapes in comments.
struct Activations {
  std::vector<float> x;     // (rows, hidden) residual stream
  std::vector<float> xn;    // (rows, hidden) normed
  std::vector<float> q;     // (rows, q_dim)
  std::vector<float> k;     // (rows, kv_dim)
  std::vector<float> v;     // (rows, kv_dim)
  std::vector<float> att;   // (rows, q_dim) attention output before o_proj
  std::vector<float> proj;  // (rows, hidden) o_proj / down output
  std::vector<float> gate;  // (rows, intermediate)
  std::vector<float> up;    // (rows, intermediate)

  Activations(const core::ModelConfig& c, int rows) {
    const auto r = static_cast<std::size_t>(rows);
    x.resize(r * static_cast<std::size_t>(c.hidden));
    xn.resize(x.size());
    proj.resize(x.size());
    q.resize(r * static_cast<std::size_t>(c.q_dim()));
    att.resize(q.size());
    k.resize(r * static_cast<std::size_t>(c.kv_dim()));
    v.resize(k.size());
    gate.resize(r * static_cast<std::size_t>(c.intermediate));
    up.resize(gate.size());
  }
};

class CpuEngine final : public Engine {
 public:
  CpuEngine(ModelWeights weights, cpu::Rope rope, CpuEngineOptions options, int threads)
      : w_(std::move(weights)), rope_(std::move(rope)), options_(std::move(options)),
        pool_(threads) {
    shape_ = {w_.config.n_heads, w_.config.n_kv_heads, w_.config.head_dim};
  }

  const core::ModelConfig& config() const override { return w_.config; }
  std::string device() const override { return fmt::format("cpu ({} threads)", pool_.size()); }

  Result<SequenceId> add_sequence(const CachePlan& plan) override {
    SQZ_CHECK(validate_cache_plan(plan, w_.config.n_layers));
    const SequenceId id = next_id_++;
    sequences_[id].plan = plan;
    return id;
  }

  void release_sequence(SequenceId id) override { sequences_.erase(id); }

  Result<std::vector<PrefillOutput>> prefill(std::span<const SequenceId> ids,
                                             std::span<const std::vector<int>> prompts,
                                             const PrefillOptions& options) override {
    if (ids.size() != prompts.size())
      return make_error(fmt::format("prefill: {} sequences but {} prompts", ids.size(), prompts.size()));
    for (std::size_t i = 0; i < ids.size(); ++i) {
      SQZ_TRY(seq, find(ids[i]));
      if (seq->prefilled)
        return make_error(fmt::format("prefill: sequence {} was already prefilled", ids[i]));
      if (prompts[i].empty()) return make_error("prefill: empty prompt", 2);
      SQZ_CHECK(check_tokens(prompts[i]));
    }
    std::vector<PrefillOutput> outputs;
    bool any_h2o = false;
    for (SequenceId id : ids) any_h2o |= sequences_.at(id).plan.policy.kind == core::PolicyKind::H2O;
    PromptForward forward;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      SQZ_TRY(out, prefill_one(ids[i], sequences_.at(ids[i]), prompts[i], options, any_h2o, forward));
      outputs.push_back(std::move(out));
    }
    return outputs;
  }

  Result<std::vector<std::vector<float>>> decode(std::span<const SequenceId> ids,
                                                 std::span<const int> tokens) override;

  Result<SequenceInfo> sequence_info(SequenceId id) const override {
    auto it = sequences_.find(id);
    if (it == sequences_.end()) return make_error(fmt::format("no sequence {}", id));
    SequenceInfo info;
    info.length = it->second.length;
    for (const auto& layer : it->second.layers) {
      info.layer_size.push_back(layer.selector.size());
      info.layer_capacity.push_back(layer.slots_allocated());
      info.kv_bytes += layer.bytes();
    }
    return info;
  }

  Result<std::vector<int>> kept_positions(SequenceId id, int layer, int kv_head) const override {
    auto it = sequences_.find(id);
    if (it == sequences_.end()) return make_error(fmt::format("no sequence {}", id));
    const auto& layers = it->second.layers;
    if (layer < 0 || layer >= static_cast<int>(layers.size()))
      return make_error(fmt::format("layer {} out of range (sequence holds {})", layer, layers.size()));
    if (kv_head < 0 || kv_head >= w_.config.n_kv_heads)
      return make_error(fmt::format("kv head {} out of range", kv_head));
    return layers[static_cast<std::size_t>(layer)].selector.kept_positions(kv_head);
  }

 private:
  Result<Sequence*> find(SequenceId id) {
    auto it = sequences_.find(id);
    if (it == sequences_.end()) return make_error(fmt::format("no sequence {}", id));
    return &it->second;
  }

  Status check_tokens(std::span<const int> tokens) const {
    for (int t : tokens)
      if (t < 0 || t >= w_.config.vocab)
        return make_error(fmt::format("token id {} out of range (vocab {})", t, w_.config.vocab), 2);
    return {};
  }

  // Reuses `forward` when it holds this prompt (and column sums where the plan needs them);
  // otherwise runs the model and leaves the pass in `forward` for the next sequence.
  Result<PrefillOutput> prefill_one(SequenceId id, Sequence& seq, const std::vector<int>& prompt,
                                    const PrefillOptions& options, bool batch_wants_columns,
                                    PromptForward& forward);
  void run_prompt(SequenceId id, const std::vector<int>& prompt, const PrefillOptions& options,
                  bool want_columns, PromptForward& forward);

  // x(rows) -> xn -> q, k, v with biases and RoPE at positions[r].
  void project_qkv(const LayerWeights& lw, Activations& a, int rows,
                   std::span<const int> positions);
  // The MLP half of a layer: x += down(silu(gate(norm x)) * up(norm x)).
  void mlp(const LayerWeights& lw, Activations& a, int rows);
  std::vector<float> logits_of_row(const float* x_row);
  // (rows) logits of (rows, hidden) final residuals; one pass over the classifier for all rows.
  std::vector<std::vector<float>> logits_of_rows(const float* x, int rows);

  ModelWeights w_;
  cpu::Rope rope_;
  CpuEngineOptions options_;
  cpu::ThreadPool pool_;
  cpu::AttentionShape shape_;
  std::map<SequenceId, Sequence> sequences_;
  SequenceId next_id_ = 0;
};

}  // namespace

void CpuEngine::project_qkv(const LayerWeights& lw, Activations& a, int rows,
                            std::span<const int> positions) {
  const auto& c = w_.config;
  const auto hidden = static_cast<std::size_t>(c.hidden);
  for (int r = 0; r < rows; ++r)
    cpu::rmsnorm(a.x.data() + r * hidden, lw.attn_norm.data(), c.hidden, c.rms_eps,
                 a.xn.data() + r * hidden);
  const auto q_dim = static_cast<std::size_t>(c.q_dim()), kv_dim = static_cast<std::size_t>(c.kv_dim());
  cpu::matmul_nt(a.xn.data(), hidden, rows, lw.wq.data(), hidden, c.q_dim(), c.hidden, a.q.data(), q_dim, pool_);
  cpu::matmul_nt(a.xn.data(), hidden, rows, lw.wk.data(), hidden, c.kv_dim(), c.hidden, a.k.data(), kv_dim, pool_);
  cpu::matmul_nt(a.xn.data(), hidden, rows, lw.wv.data(), hidden, c.kv_dim(), c.hidden, a.v.data(), kv_dim, pool_);
  std::vector<float> cos_t(static_cast<std::size_t>(rope_.pairs())), sin_t(cos_t.size());
  for (int r = 0; r < rows; ++r) {
    float* q = a.q.data() + r * q_dim;
    float* k = a.k.data() + r * kv_dim;
    float* v = a.v.data() + r * kv_dim;
    // Qwen2's q/k/v biases are added before RoPE, as in transformers.
    if (!lw.bq.empty()) for (std::size_t i = 0; i < q_dim; ++i) q[i] += lw.bq[i];
    if (!lw.bk.empty()) for (std::size_t i = 0; i < kv_dim; ++i) k[i] += lw.bk[i];
    if (!lw.bv.empty()) for (std::size_t i = 0; i < kv_dim; ++i) v[i] += lw.bv[i];
    rope_.angles(positions[static_cast<std::size_t>(r)], cos_t.data(), sin_t.data());
    rope_.apply(q, c.n_heads, cos_t.data(), sin_t.data());
    rope_.apply(k, c.n_kv_heads, cos_t.data(), sin_t.data());
  }
}

void CpuEngine::mlp(const LayerWeights& lw, Activations& a, int rows) {
  const auto& c = w_.config;
  const auto hidden = static_cast<std::size_t>(c.hidden), inter = static_cast<std::size_t>(c.intermediate);
  for (int r = 0; r < rows; ++r)
    cpu::rmsnorm(a.x.data() + r * hidden, lw.ffn_norm.data(), c.hidden, c.rms_eps,
                 a.xn.data() + r * hidden);
  cpu::matmul_nt(a.xn.data(), hidden, rows, lw.w_gate.data(), hidden, c.intermediate, c.hidden, a.gate.data(), inter, pool_);
  cpu::matmul_nt(a.xn.data(), hidden, rows, lw.w_up.data(), hidden, c.intermediate, c.hidden, a.up.data(), inter, pool_);
  for (std::size_t i = 0; i < static_cast<std::size_t>(rows) * inter; ++i) {
    const double g = a.gate[i];
    a.gate[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * a.up[i]);
  }
  cpu::matmul_nt(a.gate.data(), inter, rows, lw.w_down.data(), inter, c.hidden, c.intermediate, a.proj.data(), hidden, pool_);
  for (std::size_t i = 0; i < static_cast<std::size_t>(rows) * hidden; ++i) a.x[i] += a.proj[i];
}

std::vector<float> CpuEngine::logits_of_row(const float* x_row) {
  const auto& c = w_.config;
  std::vector<float> normed(static_cast<std::size_t>(c.hidden));
  cpu::rmsnorm(x_row, w_.final_norm.data(), c.hidden, c.rms_eps, normed.data());
  std::vector<float> logits(static_cast<std::size_t>(c.vocab));
  cpu::matmul_nt(normed.data(), static_cast<std::size_t>(c.hidden), 1, w_.classifier().data(),
                 static_cast<std::size_t>(c.hidden), c.vocab, c.hidden, logits.data(),
                 static_cast<std::size_t>(c.vocab), pool_);
  return logits;
}

std::vector<std::vector<float>> CpuEngine::logits_of_rows(const float* x, int rows) {
  const auto& c = w_.config;
  const auto hidden = static_cast<std::size_t>(c.hidden), vocab = static_cast<std::size_t>(c.vocab);
  std::vector<float> normed(static_cast<std::size_t>(rows) * hidden);
  for (int r = 0; r < rows; ++r)
    cpu::rmsnorm(x + static_cast<std::size_t>(r) * hidden, w_.final_norm.data(), c.hidden, c.rms_eps,
                 normed.data() + static_cast<std::size_t>(r) * hidden);
  std::vector<float> all(static_cast<std::size_t>(rows) * vocab);
  cpu::matmul_nt(normed.data(), hidden, rows, w_.classifier().data(), hidden, c.vocab, c.hidden,
                 all.data(), vocab, pool_);
  std::vector<std::vector<float>> logits;
  for (int r = 0; r < rows; ++r)
    logits.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(r) * vocab),
                        all.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(r + 1) * vocab));
  return logits;
}

void CpuEngine::run_prompt(SequenceId id, const std::vector<int>& prompt,
                           const PrefillOptions& options, bool want_columns, PromptForward& forward) {
  const auto& c = w_.config;
  const int n = static_cast<int>(prompt.size());
  const auto hidden = static_cast<std::size_t>(c.hidden);
  Activations a(c, n);
  for (int t = 0; t < n; ++t) {
    const float* row = w_.token_embedding.data() + static_cast<std::size_t>(prompt[static_cast<std::size_t>(t)]) * hidden;
    std::copy(row, row + hidden, a.x.begin() + static_cast<std::ptrdiff_t>(t * hidden));
  }
  std::vector<int> positions(static_cast<std::size_t>(n));
  for (int t = 0; t < n; ++t) positions[static_cast<std::size_t>(t)] = t;

  forward = PromptForward{};
  forward.prompt = prompt;
  forward.has_columns = want_columns;
  PrefillOutput& out = forward.out;
  out.layer_similarity.resize(static_cast<std::size_t>(c.n_layers));
  // Online mode: every layer's full K/V is kept until the budgets, which need all layers'
  // similarities, are known.
  auto& full_k = forward.full_k;
  auto& full_v = forward.full_v;
  auto& columns = forward.columns;
  full_k.resize(static_cast<std::size_t>(c.n_layers));
  full_v.resize(full_k.size());
  columns.resize(full_k.size());
  for (int l = 0; l < c.n_layers; ++l) {
    const auto& lw = w_.layers[static_cast<std::size_t>(l)];
    if (options_.observer.on_layer_input) options_.observer.on_layer_input(id, l, a.x);
    project_qkv(lw, a, n, positions);
    cpu::prefill_attention(shape_, n, a.q.data(), a.k.data(), a.v.data(), a.att.data(),
                           want_columns ? &columns[static_cast<std::size_t>(l)] : nullptr, pool_);
    cpu::matmul_nt(a.att.data(), static_cast<std::size_t>(c.q_dim()), n, lw.wo.data(),
                   static_cast<std::size_t>(c.q_dim()), c.hidden, c.q_dim(), a.proj.data(), hidden, pool_);
    // y = x + o_proj(attn): s_{l,t} = cos(x_t, y_t) before the residual stream moves on.
    double sum = 0;
    std::vector<double> per_position;
    if (options.position_similarities) per_position.resize(static_cast<std::size_t>(n));
    for (int t = 0; t < n; ++t) {
      float* x = a.x.data() + static_cast<std::size_t>(t) * hidden;
      const float* o = a.proj.data() + static_cast<std::size_t>(t) * hidden;
      float* y = a.xn.data() + static_cast<std::size_t>(t) * hidden;  // scratch for y
      for (std::size_t i = 0; i < hidden; ++i) y[i] = x[i] + o[i];
      const double s = cpu::cosine(x, y, c.hidden);
      sum += s;
      if (options.position_similarities) per_position[static_cast<std::size_t>(t)] = s;
      std::copy(y, y + hidden, x);
    }
    out.layer_similarity[static_cast<std::size_t>(l)] = sum / n;
    if (options.position_similarities) out.position_similarity.push_back(std::move(per_position));
    full_k[static_cast<std::size_t>(l)] = a.k;
    full_v[static_cast<std::size_t>(l)] = a.v;
    mlp(lw, a, n);
  }
  out.logits = logits_of_row(a.x.data() + static_cast<std::size_t>(n - 1) * hidden);
}

Result<PrefillOutput> CpuEngine::prefill_one(SequenceId id, Sequence& seq,
                                             const std::vector<int>& prompt,
                                             const PrefillOptions& options,
                                             bool batch_wants_columns, PromptForward& forward) {
  const auto& c = w_.config;
  const int n = static_cast<int>(prompt.size());
  const auto kv_dim = static_cast<std::size_t>(c.kv_dim());
  const bool needs_columns = seq.plan.policy.kind == core::PolicyKind::H2O ||
                             static_cast<bool>(options_.observer.on_prefill);
  // The layer-input observer must see every pass, so it disables sharing.
  const bool reuse = !options_.observer.on_layer_input && forward.prompt == prompt &&
                     (forward.has_columns || !needs_columns);
  if (!reuse)
    run_prompt(id, prompt, options, needs_columns || batch_wants_columns, forward);
  PrefillOutput out = forward.out;
  const auto& full_k = forward.full_k;
  const auto& full_v = forward.full_v;
  const auto& columns = forward.columns;

  SQZ_TRY(budgets, resolve_layer_budgets(seq.plan, out.layer_similarity, n));
  out.layer_budgets = budgets;
  seq.layers.clear();
  for (int l = 0; l < c.n_layers; ++l) {
    const auto lu = static_cast<std::size_t>(l);
    const int budget = budgets.empty() ? n : budgets[lu];
    SQZ_TRY(selector, core::LayerKvSelector::create(seq.plan.policy, budget, c.n_kv_heads));
    selector.prefill(n, columns[lu]);
    if (options_.observer.on_prefill) options_.observer.on_prefill(id, l, columns[lu]);
    LayerCache cache{std::move(selector), c.head_dim, {}, {}};
    const int capacity = budgets.empty() ? n : budget;
    cache.k.assign(static_cast<std::size_t>(c.n_kv_heads),
                   std::vector<float>(static_cast<std::size_t>(capacity) * static_cast<std::size_t>(c.head_dim)));
    cache.v = cache.k;
    for (int h = 0; h < c.n_kv_heads; ++h) {
      const auto kept = cache.selector.slot_positions(h);
      for (std::size_t slot = 0; slot < kept.size(); ++slot) {
        const std::size_t off = static_cast<std::size_t>(kept[slot]) * kv_dim + static_cast<std::size_t>(h * c.head_dim);
        cache.write(h, static_cast<int>(slot), full_k[lu].data() + off, full_v[lu].data() + off);
      }
    }
    seq.layers.push_back(std::move(cache));
  }
  seq.length = n;
  seq.prefilled = true;
  return out;
}

Result<std::vector<std::vector<float>>> CpuEngine::decode(std::span<const SequenceId> ids,
                                                          std::span<const int> tokens) {
  if (ids.size() != tokens.size())
    return make_error(fmt::format("decode: {} sequences but {} tokens", ids.size(), tokens.size()));
  SQZ_CHECK(check_tokens(tokens));
  std::vector<Sequence*> seqs;
  for (SequenceId id : ids) {
    SQZ_TRY(seq, find(id));
    if (!seq->prefilled) return make_error(fmt::format("decode: sequence {} has no prefill", id));
    if (std::find(seqs.begin(), seqs.end(), seq) != seqs.end())
      return make_error(fmt::format("decode: sequence {} listed twice", id));
    seqs.push_back(seq);
  }
  const auto& c = w_.config;
  const int rows = static_cast<int>(ids.size());
  const auto hidden = static_cast<std::size_t>(c.hidden);
  const auto q_dim = static_cast<std::size_t>(c.q_dim()), kv_dim = static_cast<std::size_t>(c.kv_dim());
  Activations a(c, rows);
  std::vector<int> positions;
  for (int r = 0; r < rows; ++r) {
    const float* row = w_.token_embedding.data() + static_cast<std::size_t>(tokens[static_cast<std::size_t>(r)]) * hidden;
    std::copy(row, row + hidden, a.x.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(r) * hidden));
    positions.push_back(seqs[static_cast<std::size_t>(r)]->length);
  }
  std::vector<std::vector<std::vector<double>>> probs(static_cast<std::size_t>(rows));
  for (int l = 0; l < c.n_layers; ++l) {
    const auto lu = static_cast<std::size_t>(l);
    const auto& lw = w_.layers[lu];
    project_qkv(lw, a, rows, positions);
    // The selector picks each head's slot (evicting first when full), then the new query attends
    // over everything held, its own key included.
    for (int r = 0; r < rows; ++r) {
      auto& cache = seqs[static_cast<std::size_t>(r)]->layers[lu];
      const auto slots = cache.selector.admit(positions[static_cast<std::size_t>(r)]);
      for (int h = 0; h < c.n_kv_heads; ++h) {
        const std::size_t off = static_cast<std::size_t>(r) * kv_dim + static_cast<std::size_t>(h * c.head_dim);
        cache.write(h, slots[static_cast<std::size_t>(h)], a.k.data() + off, a.v.data() + off);
      }
    }
    pool_.parallel_for(static_cast<std::size_t>(rows), [&](std::size_t lo, std::size_t hi) {
      for (std::size_t r = lo; r < hi; ++r)
        cpu::decode_attention(shape_, a.q.data() + r * q_dim, seqs[r]->layers[lu],
                              a.att.data() + r * q_dim, probs[r]);
    });
    for (int r = 0; r < rows; ++r) {
      auto& cache = seqs[static_cast<std::size_t>(r)]->layers[lu];
      for (int h = 0; h < c.n_kv_heads; ++h) {
        const auto& p = probs[static_cast<std::size_t>(r)][static_cast<std::size_t>(h)];
        cache.selector.accumulate(h, p);
        if (options_.observer.on_decode) options_.observer.on_decode(ids[static_cast<std::size_t>(r)], l, h, p);
      }
    }
    cpu::matmul_nt(a.att.data(), q_dim, rows, lw.wo.data(), q_dim, c.hidden, c.q_dim(), a.proj.data(), hidden, pool_);
    for (std::size_t i = 0; i < static_cast<std::size_t>(rows) * hidden; ++i) a.x[i] += a.proj[i];
    mlp(lw, a, rows);
  }
  for (int r = 0; r < rows; ++r) seqs[static_cast<std::size_t>(r)]->length += 1;
  return logits_of_rows(a.x.data(), rows);
}

static Status check_weights(const ModelWeights& w) {
  const auto& c = w.config;
  SQZ_CHECK(c.validate());
  auto expect = [](const std::vector<float>& v, std::size_t n, const std::string& what) -> Status {
    if (v.size() != n)
      return make_error(fmt::format("weights: {} has {} values, expected {}", what, v.size(), n));
    return {};
  };
  const auto H = static_cast<std::size_t>(c.hidden), Q = static_cast<std::size_t>(c.q_dim()),
             KV = static_cast<std::size_t>(c.kv_dim()), I = static_cast<std::size_t>(c.intermediate),
             V = static_cast<std::size_t>(c.vocab);
  SQZ_CHECK(expect(w.token_embedding, V * H, "token_embedding"));
  SQZ_CHECK(expect(w.final_norm, H, "final_norm"));
  SQZ_CHECK(expect(w.classifier(), V * H, c.tied_embeddings ? "token_embedding" : "lm_head"));
  if (w.layers.size() != static_cast<std::size_t>(c.n_layers))
    return make_error(fmt::format("weights: {} layers, config says {}", w.layers.size(), c.n_layers));
  for (std::size_t l = 0; l < w.layers.size(); ++l) {
    const auto& lw = w.layers[l];
    const auto name = [l](const char* t) { return fmt::format("layer {} {}", l, t); };
    SQZ_CHECK(expect(lw.attn_norm, H, name("attn_norm")));
    SQZ_CHECK(expect(lw.ffn_norm, H, name("ffn_norm")));
    SQZ_CHECK(expect(lw.wq, Q * H, name("wq")));
    SQZ_CHECK(expect(lw.wk, KV * H, name("wk")));
    SQZ_CHECK(expect(lw.wv, KV * H, name("wv")));
    SQZ_CHECK(expect(lw.wo, H * Q, name("wo")));
    SQZ_CHECK(expect(lw.w_gate, I * H, name("w_gate")));
    SQZ_CHECK(expect(lw.w_up, I * H, name("w_up")));
    SQZ_CHECK(expect(lw.w_down, H * I, name("w_down")));
    if (!lw.bq.empty()) SQZ_CHECK(expect(lw.bq, Q, name("bq")));
    if (!lw.bk.empty()) SQZ_CHECK(expect(lw.bk, KV, name("bk")));
    if (!lw.bv.empty()) SQZ_CHECK(expect(lw.bv, KV, name("bv")));
  }
  return {};
}

Result<std::unique_ptr<Engine>> make_cpu_engine(ModelWeights weights, CpuEngineOptions options) {
  SQZ_CHECK(check_weights(weights));
  SQZ_TRY(rope, cpu::Rope::create(weights.config));
  int threads = options.threads > 0 ? options.threads
                                    : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(threads, 1);
  return std::unique_ptr<Engine>(
      std::make_unique<CpuEngine>(std::move(weights), std::move(rope), std::move(options), threads));
}

}  // namespace squeeze::profiler
