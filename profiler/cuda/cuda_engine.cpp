// The CUDA engine: one forward pass per prefill/decode call over a batch group, bf16 weights and
// KV cache, fp32 residual stream, cuBLASLt GEMMs and the kernels in kernels/. Eviction: prefill
// compaction through core::LayerKvSelector (so kept positions are the reference's by
// construction), decode eviction on the device (kv_select.cuh, tested slot for slot against it).
#include "squeeze/profiler/cuda/cuda_engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <numeric>

#include "device_buffer.hpp"
#include "gemm.hpp"
#include "kernels.hpp"
#include "squeeze/core/trace_types.hpp"

namespace squeeze::profiler {
namespace {

using core::make_error;
using core::Result;
using core::Status;
using cuda::bf16;
using cuda::DeviceBuffer;
using cuda::MemCategory;
namespace op = core::trace_op;

constexpr int kMaxSplits = 128;

Status cuda_status(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return {};
  return make_error(fmt::format("CUDA engine: {}: {}", what, cudaGetErrorString(e)));
}

struct LayerDevice {
  DeviceBuffer wqkv;       // (q_dim + 2 kv_dim, hidden) bf16: rows [wq; wk; wv]
  DeviceBuffer bqkv;       // (q_dim + 2 kv_dim) f32, Qwen2 only
  DeviceBuffer wo;         // (hidden, q_dim) bf16
  DeviceBuffer w_gate_up;  // (2 inter, hidden) bf16: rows [w_gate; w_up]
  DeviceBuffer w_down;     // (hidden, inter) bf16
  DeviceBuffer attn_norm;  // (hidden) f32
  DeviceBuffer ffn_norm;   // (hidden) f32
};

// One layer's KV cache for every row of a batch group.
struct LayerArena {
  DeviceBuffer k, v;         // (batch, kv_heads, capacity, head_dim) bf16
  DeviceBuffer positions;    // (batch, kv_heads, capacity) int32
  DeviceBuffer scores;       // (batch, kv_heads, capacity) f64, H2O only
  DeviceBuffer rows;         // (6, batch) int32: lens, ring, budget, ring_start, protect, spare
  int capacity = 0;
  std::vector<int> len;      // (batch) host mirror of lens
  std::vector<int> budget;   // (batch) per row; full policy: unused
};

struct Group {
  std::vector<SequenceId> members;  // row order; -1 once released
  core::PolicySpec policy;
  std::vector<LayerArena> layers;   // (n_layers)
};

struct Sequence {
  CachePlan plan;
  int group = -1, row = -1;
  int length = 0;
  bool prefilled = false;
  std::vector<int> budgets;  // (n_layers) after prefill; empty for full
};

cuda::KvPolicy device_policy(core::PolicyKind k) {
  switch (k) {
    case core::PolicyKind::Full: return cuda::KvPolicy::Full;
    case core::PolicyKind::SlidingWindow: return cuda::KvPolicy::Window;
    case core::PolicyKind::StreamingLLM: return cuda::KvPolicy::Streaming;
    case core::PolicyKind::H2O: return cuda::KvPolicy::H2O;
  }
  return cuda::KvPolicy::Full;
}

class CudaEngineImpl final : public CudaEngine {
 public:
  CudaEngineImpl(core::ModelConfig cfg, CudaEngineOptions opt) : cfg_(std::move(cfg)), opt_(opt) {}
  ~CudaEngineImpl() override {
    groups_.clear();
    layers_.clear();
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }

  Status init(const ModelWeights& w);

  const core::ModelConfig& config() const override { return cfg_; }
  std::string device() const override { return device_name_; }

  Result<SequenceId> add_sequence(const CachePlan& plan) override {
    SQZ_CHECK(validate_cache_plan(plan, cfg_.n_layers));
    const SequenceId id = next_id_++;
    seqs_[id].plan = plan;
    return id;
  }
  void release_sequence(SequenceId id) override;

  Result<std::vector<PrefillOutput>> prefill(std::span<const SequenceId> ids,
                                             std::span<const std::vector<int>> prompts,
                                             const PrefillOptions& options) override;
  Result<std::vector<std::vector<float>>> decode(std::span<const SequenceId> ids,
                                                 std::span<const int> tokens) override {
    SQZ_TRY(g, decode_step(ids, tokens));
    std::vector<float> logits(static_cast<size_t>(g.batch) * cfg_.vocab);
    SQZ_CHECK(cuda_status(cudaMemcpyAsync(logits.data(), ws_logits_.as<float>(),
                                          logits.size() * sizeof(float), cudaMemcpyDeviceToHost,
                                          stream_), "copy logits"));
    SQZ_CHECK(finish_step());
    std::vector<std::vector<float>> out;
    for (size_t i = 0; i < ids.size(); ++i) {
      const int row = seqs_.at(ids[i]).row;
      out.emplace_back(logits.begin() + static_cast<ptrdiff_t>(row) * cfg_.vocab,
                       logits.begin() + static_cast<ptrdiff_t>(row + 1) * cfg_.vocab);
    }
    return out;
  }
  Result<std::vector<int>> decode_greedy(std::span<const SequenceId> ids,
                                         std::span<const int> tokens) override {
    SQZ_TRY(g, decode_step(ids, tokens));
    observe_begin(-1, op::kSample);
    SQZ_CHECK(cuda_status(cuda::ops::argmax(ws_logits_.as<float>(), ws_ids_.as<int32_t>(),
                                              g.batch, cfg_.vocab, stream_), "argmax"));
    observe_end();
    std::vector<int32_t> best(static_cast<size_t>(g.batch));
    SQZ_CHECK(cuda_status(cudaMemcpyAsync(best.data(), ws_ids_.as<int32_t>(),
                                          best.size() * sizeof(int32_t), cudaMemcpyDeviceToHost,
                                          stream_), "copy ids"));
    SQZ_CHECK(finish_step());
    std::vector<int> out;
    for (SequenceId id : ids) out.push_back(best[static_cast<size_t>(seqs_.at(id).row)]);
    return out;
  }

  Result<SequenceInfo> sequence_info(SequenceId id) const override;
  Result<std::vector<int>> kept_positions(SequenceId id, int layer, int kv_head) const override;

  Status synchronize() override { return cuda_status(cudaStreamSynchronize(stream_), "sync"); }
  CudaMemoryStats memory() const override {
    CudaMemoryStats s;
    s.weights_bytes = mem_.by_category[0];
    s.kv_bytes = mem_.by_category[1];
    s.workspace_bytes = mem_.by_category[2];
    s.allocated_bytes = mem_.allocated;
    s.peak_allocated_bytes = mem_.peak;
    size_t f = 0, t = 0;
    if (cudaMemGetInfo(&f, &t) == cudaSuccess) {
      s.device_free_bytes = static_cast<std::int64_t>(f);
      s.device_total_bytes = static_cast<std::int64_t>(t);
    }
    return s;
  }
  void reset_peak_memory() override { mem_.peak = mem_.allocated; }
  void set_observer(OpObserver* o) override { observer_ = o; }
  void reset_step_counter() override { step_ = 0; }

 private:
  struct StepInfo {
    int group = -1;
    int batch = 0;
  };

  Result<DeviceBuffer> alloc(MemCategory c, size_t bytes, const std::string& what) {
    return DeviceBuffer::allocate(mem_, c, bytes, what);
  }
  Status upload_bf16(DeviceBuffer& dst, const std::vector<float>& src, const std::string& what);
  Status upload_f32(DeviceBuffer& dst, const std::vector<float>& src, const std::string& what);
  Status random_bf16(DeviceBuffer& dst, size_t n, float scale, const std::string& what);
  Status ones_f32(DeviceBuffer& dst, size_t n, const std::string& what);
  Status ensure_workspace(int tokens, int batch, int max_capacity);
  Status forward_layers(int tokens, bool prefill_mode, int group_id, int max_prompt,
                        const std::vector<DeviceBuffer>* prefill_k,
                        const std::vector<DeviceBuffer>* prefill_v,
                        const std::vector<DeviceBuffer>* colsums);
  Result<StepInfo> decode_step(std::span<const SequenceId> ids, std::span<const int> tokens);
  Status grow_full_arena(LayerArena& a, int batch, int new_capacity);
  Status finish_step() {
    SQZ_CHECK(cuda_status(cudaStreamSynchronize(stream_), "decode step"));
    int32_t flag = 0;
    SQZ_CHECK(cuda_status(cudaMemcpy(&flag, ws_error_.as<int32_t>(), sizeof(flag),
                                     cudaMemcpyDeviceToHost), "error flag"));
    if (flag != 0)
      return make_error(fmt::format("CUDA engine: KV slot selection broke an invariant (code {}): "
                                    "arena too small or positions not consecutive", flag));
    return {};
  }
  void observe_begin(int layer, const char* name) {
    if (observer_ != nullptr) observer_->begin(step_, layer, name);
  }
  void observe_end() {
    if (observer_ != nullptr) observer_->end();
  }

  core::ModelConfig cfg_;
  CudaEngineOptions opt_;
  std::string device_name_;
  cudaStream_t stream_ = nullptr;
  cuda::MemTracker mem_;
  cuda::LtGemm gemm_;
  OpObserver* observer_ = nullptr;
  int step_ = 0;
  int prefill_batch_ = 0;  // sequences in the prefill under way

  DeviceBuffer embedding_;   // (vocab, hidden) bf16
  DeviceBuffer lm_head_;     // (vocab, hidden) bf16; empty when tied
  DeviceBuffer final_norm_;  // (hidden) f32
  DeviceBuffer inv_freq_;    // (head_dim / 2) f32
  std::vector<LayerDevice> layers_;

  // Workspace, sized for ws_tokens_ tokens / ws_batch_ decode rows / ws_capacity_ slots.
  int ws_tokens_ = 0, ws_batch_ = 0, ws_capacity_ = 0;
  DeviceBuffer ws_x_;        // (tokens, hidden) f32 residual stream
  DeviceBuffer ws_norm_;     // (tokens, hidden) bf16
  DeviceBuffer ws_qkv_;      // (tokens, q_dim + 2 kv_dim) f32
  DeviceBuffer ws_q_;        // (tokens, q_dim) bf16
  DeviceBuffer ws_attn_;     // (tokens, q_dim) bf16
  DeviceBuffer ws_delta_;    // (tokens, hidden) f32
  DeviceBuffer ws_gate_up_;  // (tokens, 2 inter) f32
  DeviceBuffer ws_act_;      // (tokens, inter) bf16
  DeviceBuffer ws_cos_;      // (n_layers, tokens) f32
  DeviceBuffer ws_meta_;     // (4 + kv_heads, tokens) int32: ids, positions, seq_of_token,
                             // seq_start (batch + 1), slots (tokens, kv_heads)
  DeviceBuffer ws_last_;     // (batch, hidden) bf16 final-normed rows of the last tokens
  DeviceBuffer ws_logits_;   // (batch, vocab) f32
  DeviceBuffer ws_ids_;      // (batch) int32
  DeviceBuffer ws_attn_work_;  // decode attention split workspace
  DeviceBuffer ws_h2o_logits_; // (batch, n_heads, capacity) f32
  DeviceBuffer ws_row_ml_;     // (2, batch, n_heads) f32
  DeviceBuffer ws_error_;      // (1) int32

  std::map<SequenceId, Sequence> seqs_;
  std::map<int, Group> groups_;
  SequenceId next_id_ = 0;
  int next_group_ = 0;
};

Status CudaEngineImpl::upload_bf16(DeviceBuffer& dst, const std::vector<float>& src,
                                   const std::string& what) {
  SQZ_TRY(b, alloc(MemCategory::Weights, src.size() * sizeof(bf16), what));
  std::vector<bf16> host(src.size());
  for (size_t i = 0; i < src.size(); ++i) host[i] = __float2bfloat16(src[i]);
  SQZ_CHECK(cuda_status(cudaMemcpy(b.as<bf16>(), host.data(), host.size() * sizeof(bf16),
                                   cudaMemcpyHostToDevice), what.c_str()));
  dst = std::move(b);
  return {};
}

Status CudaEngineImpl::upload_f32(DeviceBuffer& dst, const std::vector<float>& src,
                                  const std::string& what) {
  SQZ_TRY(b, alloc(MemCategory::Weights, src.size() * sizeof(float), what));
  SQZ_CHECK(cuda_status(cudaMemcpy(b.as<float>(), src.data(), src.size() * sizeof(float),
                                   cudaMemcpyHostToDevice), what.c_str()));
  dst = std::move(b);
  return {};
}

Status CudaEngineImpl::random_bf16(DeviceBuffer& dst, size_t n, float scale,
                                   const std::string& what) {
  SQZ_TRY(b, alloc(MemCategory::Weights, n * sizeof(bf16), what));
  SQZ_CHECK(cuda_status(cuda::ops::fill_uniform_bf16(b.as<bf16>(), n,
                                                     opt_.seed * 1315423911ull + n +
                                                         static_cast<unsigned long long>(mem_.allocated),
                                                     scale, stream_), what.c_str()));
  dst = std::move(b);
  return {};
}

Status CudaEngineImpl::ones_f32(DeviceBuffer& dst, size_t n, const std::string& what) {
  SQZ_TRY(b, alloc(MemCategory::Weights, n * sizeof(float), what));
  SQZ_CHECK(cuda_status(cuda::ops::fill_f32(b.as<float>(), n, 1.f, stream_), what.c_str()));
  dst = std::move(b);
  return {};
}

Status CudaEngineImpl::init(const ModelWeights& w) {
  SQZ_CHECK(cfg_.validate());
  const int hd = cfg_.head_dim;
  if (hd < 8 || hd > 256 || (hd & (hd - 1)) != 0)
    return make_error(fmt::format("CUDA engine: head_dim {} not supported (a power of two in "
                                  "8..256)", hd), 2);
  if (cfg_.group_size() > 8)
    return make_error(fmt::format("CUDA engine: {} query heads per KV head not supported (<= 8)",
                                  cfg_.group_size()), 2);
  SQZ_CHECK(cuda_status(cudaSetDevice(opt_.device), "cudaSetDevice"));
  cudaDeviceProp prop{};
  SQZ_CHECK(cuda_status(cudaGetDeviceProperties(&prop, opt_.device), "device properties"));
  device_name_ = fmt::format("cuda:{} ({})", opt_.device, prop.name);
  SQZ_CHECK(cuda_status(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "stream"));
  SQZ_TRY(g, cuda::LtGemm::create());
  gemm_ = std::move(g);

  const size_t hidden = cfg_.hidden, q_dim = cfg_.q_dim(), kv_dim = cfg_.kv_dim();
  const size_t inter = cfg_.intermediate, vocab = cfg_.vocab, qkv = q_dim + 2 * kv_dim;
  layers_.resize(static_cast<size_t>(cfg_.n_layers));
  if (opt_.random_weights) {
    const float s_in = 1.f / std::sqrt(float(hidden)), s_inter = 1.f / std::sqrt(float(inter));
    SQZ_CHECK(random_bf16(embedding_, vocab * hidden, 1.f, "token embedding"));
    for (int l = 0; l < cfg_.n_layers; ++l) {
      auto& L = layers_[static_cast<size_t>(l)];
      const std::string n = fmt::format("layer {} ", l);
      SQZ_CHECK(random_bf16(L.wqkv, qkv * hidden, s_in, n + "wqkv"));
      SQZ_CHECK(random_bf16(L.wo, hidden * q_dim, 1.f / std::sqrt(float(q_dim)), n + "wo"));
      SQZ_CHECK(random_bf16(L.w_gate_up, 2 * inter * hidden, s_in, n + "w_gate_up"));
      SQZ_CHECK(random_bf16(L.w_down, hidden * inter, s_inter, n + "w_down"));
      SQZ_CHECK(ones_f32(L.attn_norm, hidden, n + "attn_norm"));
      SQZ_CHECK(ones_f32(L.ffn_norm, hidden, n + "ffn_norm"));
    }
    SQZ_CHECK(ones_f32(final_norm_, hidden, "final norm"));
    if (!cfg_.tied_embeddings) SQZ_CHECK(random_bf16(lm_head_, vocab * hidden, s_in, "lm_head"));
  } else {
    if (w.layers.size() != static_cast<size_t>(cfg_.n_layers) ||
        w.token_embedding.size() != vocab * hidden)
      return make_error("CUDA engine: weights do not match their config");
    SQZ_CHECK(upload_bf16(embedding_, w.token_embedding, "token embedding"));
    for (int l = 0; l < cfg_.n_layers; ++l) {
      const auto& src = w.layers[static_cast<size_t>(l)];
      auto& L = layers_[static_cast<size_t>(l)];
      const std::string n = fmt::format("layer {} ", l);
      std::vector<float> cat(src.wq);
      cat.insert(cat.end(), src.wk.begin(), src.wk.end());
      cat.insert(cat.end(), src.wv.begin(), src.wv.end());
      SQZ_CHECK(upload_bf16(L.wqkv, cat, n + "wqkv"));
      if (!src.bq.empty()) {
        std::vector<float> b(src.bq);
        b.insert(b.end(), src.bk.begin(), src.bk.end());
        b.insert(b.end(), src.bv.begin(), src.bv.end());
        SQZ_CHECK(upload_f32(L.bqkv, b, n + "bqkv"));
      }
      SQZ_CHECK(upload_bf16(L.wo, src.wo, n + "wo"));
      cat = src.w_gate;
      cat.insert(cat.end(), src.w_up.begin(), src.w_up.end());
      SQZ_CHECK(upload_bf16(L.w_gate_up, cat, n + "w_gate_up"));
      SQZ_CHECK(upload_bf16(L.w_down, src.w_down, n + "w_down"));
      SQZ_CHECK(upload_f32(L.attn_norm, src.attn_norm, n + "attn_norm"));
      SQZ_CHECK(upload_f32(L.ffn_norm, src.ffn_norm, n + "ffn_norm"));
    }
    SQZ_CHECK(upload_f32(final_norm_, w.final_norm, "final norm"));
    if (!cfg_.tied_embeddings) SQZ_CHECK(upload_bf16(lm_head_, w.lm_head, "lm_head"));
  }
  const auto& rs = cfg_.rope_scaling;
  SQZ_CHECK(upload_f32(inv_freq_, cuda::rope_inv_freq(hd, cfg_.rope_theta, rs.type.c_str(),
                                                      rs.factor, rs.low_freq_factor,
                                                      rs.high_freq_factor,
                                                      rs.original_max_position),
                       "rope frequencies"));
  SQZ_TRY(err, alloc(MemCategory::Workspace, sizeof(int32_t), "error flag"));
  ws_error_ = std::move(err);
  SQZ_CHECK(cuda_status(cudaMemset(ws_error_.as<int32_t>(), 0, sizeof(int32_t)), "memset"));
  return cuda_status(cudaStreamSynchronize(stream_), "weights upload");
}

Status CudaEngineImpl::ensure_workspace(int tokens, int batch, int max_capacity) {
  const size_t hidden = cfg_.hidden, q_dim = cfg_.q_dim(), kv_dim = cfg_.kv_dim();
  const size_t inter = cfg_.intermediate;
  if (tokens > ws_tokens_) {
    const size_t t = static_cast<size_t>(std::max(tokens, opt_.max_prefill_tokens));
    // Free first so that growing does not need old + new at once.
    for (DeviceBuffer* b : {&ws_x_, &ws_norm_, &ws_qkv_, &ws_q_, &ws_attn_, &ws_delta_,
                            &ws_gate_up_, &ws_act_, &ws_cos_, &ws_meta_})
      b->reset();
    auto get = [&](DeviceBuffer& dst, size_t bytes, const char* what) -> Status {
      SQZ_TRY(b, alloc(MemCategory::Workspace, bytes,
                       fmt::format("activation workspace {} for {} tokens", what, t)));
      dst = std::move(b);
      return {};
    };
    SQZ_CHECK(get(ws_x_, t * hidden * 4, "x"));
    SQZ_CHECK(get(ws_norm_, t * hidden * 2, "norm"));
    SQZ_CHECK(get(ws_qkv_, t * (q_dim + 2 * kv_dim) * 4, "qkv"));
    SQZ_CHECK(get(ws_q_, t * q_dim * 2, "q"));
    SQZ_CHECK(get(ws_attn_, t * q_dim * 2, "attn"));
    SQZ_CHECK(get(ws_delta_, t * hidden * 4, "delta"));
    SQZ_CHECK(get(ws_gate_up_, t * 2 * inter * 4, "gate_up"));
    SQZ_CHECK(get(ws_act_, t * inter * 2, "act"));
    SQZ_CHECK(get(ws_cos_, t * static_cast<size_t>(cfg_.n_layers) * 4, "cos"));
    SQZ_CHECK(get(ws_meta_, (t * (4 + static_cast<size_t>(cfg_.n_kv_heads)) + 1) * 4, "meta"));
    ws_tokens_ = static_cast<int>(t);
  }
  if (batch > ws_batch_ || max_capacity > ws_capacity_) {
    const size_t b = static_cast<size_t>(std::max(batch, ws_batch_));
    const size_t cap = static_cast<size_t>(std::max(max_capacity, ws_capacity_));
    for (DeviceBuffer* x : {&ws_last_, &ws_logits_, &ws_ids_, &ws_attn_work_, &ws_h2o_logits_,
                            &ws_row_ml_})
      x->reset();
    auto get = [&](DeviceBuffer& dst, size_t bytes, const char* what) -> Status {
      SQZ_TRY(buf, alloc(MemCategory::Workspace, bytes,
                         fmt::format("decode workspace {} for batch {}", what, b)));
      dst = std::move(buf);
      return {};
    };
    const size_t nh = cfg_.n_heads;
    SQZ_CHECK(get(ws_last_, b * hidden * 2, "last rows"));
    SQZ_CHECK(get(ws_logits_, b * cfg_.vocab * 4, "logits"));
    SQZ_CHECK(get(ws_ids_, b * 4, "ids"));
    SQZ_CHECK(get(ws_attn_work_,
                  cuda::decode_attention_workspace_bytes(static_cast<int>(b), cfg_.n_heads,
                                                         cfg_.head_dim, kMaxSplits),
                  "attention splits"));
    // The split counters in it must start at zero (each launch leaves them so).
    SQZ_CHECK(cuda_status(cudaMemsetAsync(ws_attn_work_.as<void>(), 0, ws_attn_work_.bytes(), stream_),
                          "zero attention splits"));
    SQZ_CHECK(get(ws_h2o_logits_, b * nh * std::max<size_t>(cap, 1) * 4, "h2o logits"));
    SQZ_CHECK(get(ws_row_ml_, 2 * b * nh * 4, "softmax stats"));
    ws_batch_ = static_cast<int>(b);
    ws_capacity_ = static_cast<int>(cap);
  }
  return {};
}

// Runs every decoder layer and the final norm over `tokens` rows of ws_x_ (embedded already).
// Prefill: K/V go to the per-layer full prefill caches (slot = position) and attention is the
// causal prefill kernel; decode: slots come from kv_admit and attention is split-KV decode over
// the group's arenas.
Status CudaEngineImpl::forward_layers(int tokens, bool prefill_mode, int group_id, int max_prompt,
                                      const std::vector<DeviceBuffer>* prefill_k,
                                      const std::vector<DeviceBuffer>* prefill_v,
                                      const std::vector<DeviceBuffer>* colsums) {
  const int hidden = cfg_.hidden, q_dim = cfg_.q_dim(), kv_dim = cfg_.kv_dim();
  const int inter = cfg_.intermediate, kvh = cfg_.n_kv_heads;
  const float eps = static_cast<float>(cfg_.rms_eps);
  int32_t* meta = ws_meta_.as<int32_t>();
  int32_t* d_ids = meta;
  int32_t* d_pos = meta + tokens;
  int32_t* d_seq = meta + 2 * tokens;
  int32_t* d_start = meta + 3 * tokens;  // batch + 1 entries (prefill)
  int32_t* d_slots = meta + 4 * tokens + 1;
  (void)d_ids;
  Group* group = prefill_mode ? nullptr : &groups_.at(group_id);
  const int batch = prefill_mode ? 0 : static_cast<int>(group->members.size());
  auto check = [&](cudaError_t e, int layer, const char* what) -> Status {
    if (e == cudaSuccess) return {};
    if (e == cudaErrorUnknown) return make_error(fmt::format("CUDA engine: layer {} {}: {}", layer, what, gemm_.last_error()));
    return make_error(fmt::format("CUDA engine: layer {} {}: {}", layer, what, cudaGetErrorString(e)));
  };
  for (int l = 0; l < cfg_.n_layers; ++l) {
    const auto& L = layers_[static_cast<size_t>(l)];
    if (l == 0) {
      observe_begin(l, op::kRmsNorm);
      SQZ_CHECK(check(cuda::ops::rmsnorm(ws_x_.as<float>(), L.attn_norm.as<float>(),
                                           ws_norm_.as<bf16>(), tokens, hidden, eps, stream_), l, "rmsnorm"));
      observe_end();
    }
    observe_begin(l, op::kQkv);
    SQZ_CHECK(check(gemm_.linear(ws_norm_.as<bf16>(), L.wqkv.as<bf16>(), ws_qkv_.as<float>(),
                                 cuda::GemmOut::F32, tokens, hidden, q_dim + 2 * kv_dim, stream_), l, "qkv"));
    observe_end();
    cuda::RopeArgs ra{};
    ra.qkv = ws_qkv_.as<float>();
    ra.bias = L.bqkv.empty() ? nullptr : L.bqkv.as<float>();
    ra.positions = d_pos;
    ra.seq_of_token = d_seq;
    ra.slots = d_slots;
    ra.inv_freq = inv_freq_.as<float>();
    ra.q_out = ws_q_.as<bf16>();
    ra.tokens = tokens;
    ra.n_heads = cfg_.n_heads;
    ra.kv_heads = kvh;
    ra.head_dim = cfg_.head_dim;
    ra.pairing = cfg_.rope_style == core::RopeStyle::Interleaved ? cuda::RopePairing::Interleaved
                                                                 : cuda::RopePairing::HalfSplit;
    const float scale = 1.f / std::sqrt(static_cast<float>(cfg_.head_dim));
    if (prefill_mode) {
      ra.k_cache = (*prefill_k)[static_cast<size_t>(l)].as<bf16>();
      ra.v_cache = (*prefill_v)[static_cast<size_t>(l)].as<bf16>();
      ra.capacity = max_prompt;
      observe_begin(l, op::kRope);
      SQZ_CHECK(check(cuda::ops::rope_kv_append(ra, stream_), l, "rope"));
      observe_end();
      cuda::PrefillAttentionArgs pa{};
      pa.q = ws_q_.as<bf16>();
      pa.k_cache = ra.k_cache;
      pa.v_cache = ra.v_cache;
      pa.seq_start = d_start;
      pa.out = ws_attn_.as<bf16>();
      pa.col_sums = colsums->empty() ? nullptr : (*colsums)[static_cast<size_t>(l)].as<double>();
      pa.n_heads = cfg_.n_heads;
      pa.kv_heads = kvh;
      pa.head_dim = cfg_.head_dim;
      pa.capacity = max_prompt;
      pa.max_len = max_prompt;
      pa.scale = scale;
      pa.batch = prefill_batch_;
      observe_begin(l, op::kPrefillAttention);
      SQZ_CHECK(check(cuda::ops::prefill_attention(pa, stream_), l, "prefill attention"));
      observe_end();
    } else {
      LayerArena& A = group->layers[static_cast<size_t>(l)];
      int32_t* rows = A.rows.as<int32_t>();
      cuda::KvAdmitArgs ka{};
      ka.state = {rows, rows + batch, A.positions.as<int32_t>(),
                  A.scores.empty() ? nullptr : A.scores.as<double>(), A.capacity};
      ka.new_pos = d_pos;
      ka.slots = d_slots;
      ka.error = ws_error_.as<int32_t>();
      ka.batch = batch;
      ka.kv_heads = kvh;
      ka.policy = device_policy(group->policy.kind);
      ka.budget = rows + 2 * batch;
      ka.ring_start = rows + 3 * batch;
      ka.protect = rows + 4 * batch;
      observe_begin(l, op::kH2oEvict);
      SQZ_CHECK(check(cuda::ops::kv_admit(ka, stream_), l, "kv admit"));
      observe_end();
      int max_len = 0;
      for (int r = 0; r < batch; ++r) {
        if (group->policy.kind == core::PolicyKind::Full || A.len[static_cast<size_t>(r)] < A.budget[static_cast<size_t>(r)])
          ++A.len[static_cast<size_t>(r)];
        max_len = std::max(max_len, A.len[static_cast<size_t>(r)]);
      }
      ra.k_cache = A.k.as<bf16>();
      ra.v_cache = A.v.as<bf16>();
      ra.capacity = A.capacity;
      observe_begin(l, op::kRope);
      SQZ_CHECK(check(cuda::ops::rope_kv_append(ra, stream_), l, "rope"));
      observe_end();
      const bool h2o = group->policy.kind == core::PolicyKind::H2O;
      cuda::DecodeAttentionArgs da{};
      da.q = ws_q_.as<bf16>();
      da.k_cache = A.k.as<bf16>();
      da.v_cache = A.v.as<bf16>();
      da.lens = rows;
      da.out = ws_attn_.as<bf16>();
      float* ml = ws_row_ml_.as<float>();
      da.logits = h2o ? ws_h2o_logits_.as<float>() : nullptr;
      da.row_max = h2o ? ml : nullptr;
      da.row_sum = h2o ? ml + static_cast<size_t>(batch) * cfg_.n_heads : nullptr;
      da.batch = batch;
      da.n_heads = cfg_.n_heads;
      da.kv_heads = kvh;
      da.head_dim = cfg_.head_dim;
      da.capacity = A.capacity;
      da.max_len = max_len;
      da.max_splits = kMaxSplits;
      da.scale = scale;
      cuda::bind_decode_attention_workspace(da, ws_attn_work_.as<void>(), ws_batch_);
      observe_begin(l, op::kDecodeAttention);
      SQZ_CHECK(check(cuda::ops::decode_attention(da, stream_), l, "decode attention"));
      observe_end();
      if (h2o) {
        observe_begin(l, op::kH2oEvict);
        SQZ_CHECK(check(cuda::ops::h2o_accumulate(da.logits, da.row_max, da.row_sum, rows,
                                                    A.scores.as<double>(), batch, cfg_.n_heads,
                                                    kvh, A.capacity, max_len, stream_), l, "h2o accumulate"));
        observe_end();
      }
    }
    observe_begin(l, op::kOProj);
    SQZ_CHECK(check(gemm_.linear(ws_attn_.as<bf16>(), L.wo.as<bf16>(), ws_delta_.as<float>(),
                                 cuda::GemmOut::F32, tokens, q_dim, hidden, stream_), l, "o_proj"));
    observe_end();
    observe_begin(l, prefill_mode ? op::kSimilarity : op::kRmsNorm);
    SQZ_CHECK(check(cuda::ops::residual_add(
                        ws_x_.as<float>(), ws_delta_.as<float>(), L.ffn_norm.as<float>(),
                        ws_norm_.as<bf16>(),
                        prefill_mode ? ws_cos_.as<float>() + static_cast<size_t>(l) * tokens : nullptr,
                        tokens, hidden, eps, stream_), l, "attention residual"));
    observe_end();
    observe_begin(l, op::kGateUp);
    SQZ_CHECK(check(gemm_.linear(ws_norm_.as<bf16>(), L.w_gate_up.as<bf16>(), ws_gate_up_.as<float>(),
                                 cuda::GemmOut::F32, tokens, hidden, 2 * inter, stream_), l, "gate_up"));
    observe_end();
    observe_begin(l, op::kSwiglu);
    SQZ_CHECK(check(cuda::ops::swiglu(ws_gate_up_.as<float>(), ws_act_.as<bf16>(), tokens, inter, stream_), l, "swiglu"));
    observe_end();
    observe_begin(l, op::kDown);
    SQZ_CHECK(check(gemm_.linear(ws_act_.as<bf16>(), L.w_down.as<bf16>(), ws_delta_.as<float>(),
                                 cuda::GemmOut::F32, tokens, inter, hidden, stream_), l, "down"));
    observe_end();
    const float* next_norm = l + 1 < cfg_.n_layers
                                 ? layers_[static_cast<size_t>(l + 1)].attn_norm.as<float>()
                                 : final_norm_.as<float>();
    observe_begin(l, op::kRmsNorm);
    SQZ_CHECK(check(cuda::ops::residual_add(ws_x_.as<float>(), ws_delta_.as<float>(), next_norm,
                                              ws_norm_.as<bf16>(), nullptr, tokens, hidden, eps,
                                              stream_), l, "mlp residual"));
    observe_end();
  }
  return {};
}

Result<std::vector<PrefillOutput>> CudaEngineImpl::prefill(std::span<const SequenceId> ids,
                                                           std::span<const std::vector<int>> prompts,
                                                           const PrefillOptions& options) {
  if (ids.empty() || ids.size() != prompts.size())
    return make_error("prefill: need one prompt per sequence", 2);
  const int batch = static_cast<int>(ids.size());
  const core::PolicySpec policy = seqs_.count(ids[0]) ? seqs_.at(ids[0]).plan.policy : core::PolicySpec{};
  int tokens = 0, max_prompt = 0;
  for (int i = 0; i < batch; ++i) {
    auto it = seqs_.find(ids[static_cast<size_t>(i)]);
    if (it == seqs_.end()) return make_error(fmt::format("prefill: unknown sequence {}", ids[static_cast<size_t>(i)]), 2);
    if (it->second.prefilled) return make_error(fmt::format("prefill: sequence {} was already prefilled", it->first), 2);
    const auto& pol = it->second.plan.policy;
    if (pol.kind != policy.kind || pol.sink_tokens != policy.sink_tokens || pol.recent_tokens != policy.recent_tokens)
      return make_error("prefill: the CUDA engine batches sequences of one KV policy only", 2);
    const auto& p = prompts[static_cast<size_t>(i)];
    if (p.empty()) return make_error("prefill: empty prompt", 2);
    for (int t : p)
      if (t < 0 || t >= cfg_.vocab) return make_error(fmt::format("prefill: token {} outside the vocabulary ({})", t, cfg_.vocab), 2);
    tokens += static_cast<int>(p.size());
    max_prompt = std::max(max_prompt, static_cast<int>(p.size()));
  }
  step_ = 0;
  prefill_batch_ = batch;
  SQZ_CHECK(ensure_workspace(tokens, batch, 0));
  // Host-side token metadata: ids, positions, sequence of each token, sequence starts, slots.
  const int kvh = cfg_.n_kv_heads;
  std::vector<int32_t> meta(static_cast<size_t>(tokens) * (4 + kvh) + 1, 0);
  std::vector<int32_t> starts(static_cast<size_t>(batch) + 1, 0);
  for (int b = 0, t = 0; b < batch; ++b) {
    starts[static_cast<size_t>(b)] = t;
    const auto& p = prompts[static_cast<size_t>(b)];
    for (int i = 0; i < static_cast<int>(p.size()); ++i, ++t) {
      meta[static_cast<size_t>(t)] = p[static_cast<size_t>(i)];
      meta[static_cast<size_t>(tokens + t)] = i;
      meta[static_cast<size_t>(2 * tokens + t)] = b;
      for (int h = 0; h < kvh; ++h) meta[static_cast<size_t>(4 * tokens + 1 + t * kvh + h)] = i;
    }
    starts[static_cast<size_t>(b) + 1] = t;
  }
  for (int b = 0; b <= batch; ++b) meta[static_cast<size_t>(3 * tokens + b)] = starts[static_cast<size_t>(b)];
  // starts occupy 3*tokens .. 3*tokens+batch; batch <= tokens, so they fit before 4*tokens+1.
  SQZ_CHECK(cuda_status(cudaMemcpyAsync(ws_meta_.as<int32_t>(), meta.data(), meta.size() * 4,
                                        cudaMemcpyHostToDevice, stream_), "upload tokens"));
  // The full prompt caches of every layer (online mode: prefill is not reduced) and H2O's
  // column sums, freed after compaction.
  const bool h2o = policy.kind == core::PolicyKind::H2O;
  std::vector<DeviceBuffer> pk, pv, cols;
  const size_t cache_elems = static_cast<size_t>(batch) * kvh * max_prompt * cfg_.head_dim;
  for (int l = 0; l < cfg_.n_layers; ++l) {
    SQZ_TRY(k, alloc(MemCategory::Kv, cache_elems * 2, fmt::format("prefill K cache of layer {} ({} sequences x {} tokens)", l, batch, max_prompt)));
    SQZ_TRY(v, alloc(MemCategory::Kv, cache_elems * 2, fmt::format("prefill V cache of layer {}", l)));
    pk.push_back(std::move(k));
    pv.push_back(std::move(v));
    if (h2o) {
      const size_t n = static_cast<size_t>(batch) * kvh * max_prompt;
      SQZ_TRY(c, alloc(MemCategory::Workspace, n * 8, fmt::format("H2O column sums of layer {}", l)));
      SQZ_CHECK(cuda_status(cudaMemsetAsync(c.as<double>(), 0, n * 8, stream_), "memset"));
      cols.push_back(std::move(c));
    }
  }
  observe_begin(-1, op::kEmbed);
  SQZ_CHECK(cuda_status(cuda::ops::embedding(ws_meta_.as<int32_t>(), embedding_.as<bf16>(), ws_x_.as<float>(), tokens, cfg_.vocab, cfg_.hidden, stream_), "embedding"));
  observe_end();
  SQZ_CHECK(forward_layers(tokens, true, -1, max_prompt, &pk, &pv, &cols));
  // LM head on each sequence's last token.
  SQZ_CHECK(ensure_workspace(tokens, batch, 0));
  for (int b = 0; b < batch; ++b)
    SQZ_CHECK(cuda_status(cudaMemcpyAsync(ws_last_.as<bf16>() + static_cast<size_t>(b) * cfg_.hidden,
                                          ws_norm_.as<bf16>() + static_cast<size_t>(starts[static_cast<size_t>(b) + 1] - 1) * cfg_.hidden,
                                          static_cast<size_t>(cfg_.hidden) * 2, cudaMemcpyDeviceToDevice, stream_), "gather last rows"));
  observe_begin(-1, op::kLmHead);
  const bf16* head = cfg_.tied_embeddings ? embedding_.as<bf16>() : lm_head_.as<bf16>();
  if (gemm_.linear(ws_last_.as<bf16>(), head, ws_logits_.as<float>(), cuda::GemmOut::F32, batch, cfg_.hidden, cfg_.vocab, stream_) != cudaSuccess)
    return make_error("CUDA engine: lm_head: " + gemm_.last_error());
  observe_end();
  std::vector<float> logits(static_cast<size_t>(batch) * cfg_.vocab);
  std::vector<float> cos(static_cast<size_t>(cfg_.n_layers) * tokens);
  SQZ_CHECK(cuda_status(cudaMemcpyAsync(logits.data(), ws_logits_.as<float>(), logits.size() * 4, cudaMemcpyDeviceToHost, stream_), "copy logits"));
  SQZ_CHECK(cuda_status(cudaMemcpyAsync(cos.data(), ws_cos_.as<float>(), cos.size() * 4, cudaMemcpyDeviceToHost, stream_), "copy similarities"));
  SQZ_CHECK(cuda_status(cudaStreamSynchronize(stream_), "prefill"));

  std::vector<PrefillOutput> outs(static_cast<size_t>(batch));
  std::vector<std::vector<int>> budgets(static_cast<size_t>(batch));
  for (int b = 0; b < batch; ++b) {
    auto& o = outs[static_cast<size_t>(b)];
    const int n = starts[static_cast<size_t>(b) + 1] - starts[static_cast<size_t>(b)];
    o.logits.assign(logits.begin() + static_cast<ptrdiff_t>(b) * cfg_.vocab, logits.begin() + static_cast<ptrdiff_t>(b + 1) * cfg_.vocab);
    o.layer_similarity.resize(static_cast<size_t>(cfg_.n_layers));
    for (int l = 0; l < cfg_.n_layers; ++l) {
      const float* c = cos.data() + static_cast<size_t>(l) * tokens + starts[static_cast<size_t>(b)];
      double s = 0;
      for (int t = 0; t < n; ++t) s += c[t];
      o.layer_similarity[static_cast<size_t>(l)] = s / n;
      if (options.position_similarities) o.position_similarity.emplace_back(c, c + n);
    }
    SQZ_TRY(bud, resolve_layer_budgets(seqs_.at(ids[static_cast<size_t>(b)]).plan, std::span<const double>(o.layer_similarity), n));
    o.layer_budgets = bud;
    budgets[static_cast<size_t>(b)] = std::move(bud);
  }

  // Compaction into per-layer arenas sized by the budgets.
  Group group;
  group.policy = policy;
  group.members.assign(ids.begin(), ids.end());
  const bool full = policy.kind == core::PolicyKind::Full;
  const size_t hd = static_cast<size_t>(cfg_.head_dim);
  int max_capacity = 0;
  for (int l = 0; l < cfg_.n_layers; ++l) {
    LayerArena A;
    int cap = full ? max_prompt + std::max(opt_.decode_reserve, 1) : 1;
    if (!full)
      for (int b = 0; b < batch; ++b) cap = std::max(cap, budgets[static_cast<size_t>(b)][static_cast<size_t>(l)]);
    A.capacity = cap;
    max_capacity = std::max(max_capacity, cap);
    const size_t slots = static_cast<size_t>(batch) * kvh * cap;
    SQZ_TRY(k, alloc(MemCategory::Kv, slots * hd * 2, fmt::format("K cache of layer {} ({} sequences x {} slots x {} KV heads)", l, batch, cap, kvh)));
    SQZ_TRY(v, alloc(MemCategory::Kv, slots * hd * 2, fmt::format("V cache of layer {}", l)));
    SQZ_TRY(pos, alloc(MemCategory::Kv, slots * 4, fmt::format("slot positions of layer {}", l)));
    A.k = std::move(k);
    A.v = std::move(v);
    A.positions = std::move(pos);
    if (h2o) {
      SQZ_TRY(sc, alloc(MemCategory::Kv, slots * 8, fmt::format("H2O scores of layer {}", l)));
      A.scores = std::move(sc);
    }
    SQZ_TRY(rows, alloc(MemCategory::Kv, static_cast<size_t>(6) * batch * 4, "per-row KV state"));
    A.rows = std::move(rows);
    std::vector<double> colhost;
    if (h2o) {
      colhost.resize(static_cast<size_t>(batch) * kvh * max_prompt);
      SQZ_CHECK(cuda_status(cudaMemcpy(colhost.data(), cols[static_cast<size_t>(l)].as<double>(), colhost.size() * 8, cudaMemcpyDeviceToHost), "copy column sums"));
    }
    std::vector<int32_t> src_pos(slots, -1), positions(slots, -1), rowstate(static_cast<size_t>(6) * batch, 0);
    std::vector<double> scores(h2o ? slots : 0, 0.0);
    A.len.resize(static_cast<size_t>(batch));
    A.budget.resize(static_cast<size_t>(batch));
    for (int b = 0; b < batch; ++b) {
      const int n = starts[static_cast<size_t>(b) + 1] - starts[static_cast<size_t>(b)];
      const int budget = full ? cap : budgets[static_cast<size_t>(b)][static_cast<size_t>(l)];
      SQZ_TRY(sel, core::LayerKvSelector::create(policy, budget, kvh));
      std::vector<std::vector<double>> cs;
      if (h2o) {
        cs.resize(static_cast<size_t>(kvh));
        for (int h = 0; h < kvh; ++h) {
          const double* c = colhost.data() + (static_cast<size_t>(b) * kvh + h) * max_prompt;
          cs[static_cast<size_t>(h)].assign(c, c + n);
        }
      }
      sel.prefill(n, cs);
      for (int h = 0; h < kvh; ++h) {
        auto p = sel.slot_positions(h);
        auto s = sel.slot_scores(h);
        for (size_t i = 0; i < p.size(); ++i) {
          const size_t idx = (static_cast<size_t>(b) * kvh + h) * cap + i;
          src_pos[idx] = p[i];
          positions[idx] = p[i];
          if (h2o) scores[idx] = s[i];
        }
      }
      A.len[static_cast<size_t>(b)] = sel.size();
      A.budget[static_cast<size_t>(b)] = full ? INT_MAX : budget;
      const auto& applied = sel.spec();
      const int ring_start = policy.kind == core::PolicyKind::StreamingLLM ? applied.sink_tokens : 0;
      rowstate[static_cast<size_t>(b)] = sel.size();
      rowstate[static_cast<size_t>(batch + b)] = ring_start;
      rowstate[static_cast<size_t>(2 * batch + b)] = full ? cap : budget;
      rowstate[static_cast<size_t>(3 * batch + b)] = ring_start;
      rowstate[static_cast<size_t>(4 * batch + b)] = h2o ? std::max(applied.recent_tokens - 1, 0) : 0;
    }
    SQZ_TRY(srcbuf, alloc(MemCategory::Workspace, slots * 4, "compaction map"));
    SQZ_CHECK(cuda_status(cudaMemcpyAsync(srcbuf.as<int32_t>(), src_pos.data(), slots * 4, cudaMemcpyHostToDevice, stream_), "upload map"));
    SQZ_CHECK(cuda_status(cudaMemcpyAsync(A.positions.as<int32_t>(), positions.data(), slots * 4, cudaMemcpyHostToDevice, stream_), "upload positions"));
    if (h2o) SQZ_CHECK(cuda_status(cudaMemcpyAsync(A.scores.as<double>(), scores.data(), slots * 8, cudaMemcpyHostToDevice, stream_), "upload scores"));
    SQZ_CHECK(cuda_status(cudaMemcpyAsync(A.rows.as<int32_t>(), rowstate.data(), rowstate.size() * 4, cudaMemcpyHostToDevice, stream_), "upload row state"));
    observe_begin(l, "kv_compact");
    SQZ_CHECK(cuda_status(cuda::ops::kv_gather(pk[static_cast<size_t>(l)].as<bf16>(), pv[static_cast<size_t>(l)].as<bf16>(), srcbuf.as<int32_t>(), A.k.as<bf16>(), A.v.as<bf16>(), batch, kvh, max_prompt, cap, cfg_.head_dim, stream_), "kv compaction"));
    observe_end();
    SQZ_CHECK(cuda_status(cudaStreamSynchronize(stream_), "kv compaction"));  // host vectors die here
    pk[static_cast<size_t>(l)].reset();
    pv[static_cast<size_t>(l)].reset();
    group.layers.push_back(std::move(A));
  }
  SQZ_CHECK(ensure_workspace(tokens, batch, max_capacity));
  const int gid = next_group_++;
  groups_.emplace(gid, std::move(group));
  for (int b = 0; b < batch; ++b) {
    auto& s = seqs_.at(ids[static_cast<size_t>(b)]);
    s.group = gid;
    s.row = b;
    s.prefilled = true;
    s.length = starts[static_cast<size_t>(b) + 1] - starts[static_cast<size_t>(b)];
    s.budgets = budgets[static_cast<size_t>(b)];
  }
  return outs;
}

Status CudaEngineImpl::grow_full_arena(LayerArena& a, int batch, int new_capacity) {
  const size_t hd = static_cast<size_t>(cfg_.head_dim), kvh = static_cast<size_t>(cfg_.n_kv_heads);
  const size_t rows = static_cast<size_t>(batch) * kvh;
  SQZ_TRY(k, alloc(MemCategory::Kv, rows * new_capacity * hd * 2, "growing a full-policy K cache"));
  SQZ_TRY(v, alloc(MemCategory::Kv, rows * new_capacity * hd * 2, "growing a full-policy V cache"));
  SQZ_TRY(p, alloc(MemCategory::Kv, rows * new_capacity * 4, "growing slot positions"));
  const size_t old = static_cast<size_t>(a.capacity);
  SQZ_CHECK(cuda_status(cudaMemcpy2DAsync(k.as<bf16>(), new_capacity * hd * 2, a.k.as<bf16>(), old * hd * 2, old * hd * 2, rows, cudaMemcpyDeviceToDevice, stream_), "grow K"));
  SQZ_CHECK(cuda_status(cudaMemcpy2DAsync(v.as<bf16>(), new_capacity * hd * 2, a.v.as<bf16>(), old * hd * 2, old * hd * 2, rows, cudaMemcpyDeviceToDevice, stream_), "grow V"));
  SQZ_CHECK(cuda_status(cudaMemcpy2DAsync(p.as<int32_t>(), new_capacity * 4, a.positions.as<int32_t>(), old * 4, old * 4, rows, cudaMemcpyDeviceToDevice, stream_), "grow positions"));
  std::vector<int32_t> caps(static_cast<size_t>(batch), new_capacity);
  SQZ_CHECK(cuda_status(cudaMemcpyAsync(a.rows.as<int32_t>() + 2 * batch, caps.data(), caps.size() * 4, cudaMemcpyHostToDevice, stream_), "budgets"));
  SQZ_CHECK(cuda_status(cudaStreamSynchronize(stream_), "grow"));
  a.k = std::move(k);
  a.v = std::move(v);
  a.positions = std::move(p);
  a.capacity = new_capacity;
  return {};
}

Result<CudaEngineImpl::StepInfo> CudaEngineImpl::decode_step(std::span<const SequenceId> ids,
                                                             std::span<const int> tokens) {
  if (ids.empty() || ids.size() != tokens.size()) return make_error("decode: need one token per sequence", 2);
  auto first = seqs_.find(ids[0]);
  if (first == seqs_.end() || !first->second.prefilled) return make_error("decode: sequence not prefilled", 2);
  const int gid = first->second.group;
  Group& g = groups_.at(gid);
  const int batch = static_cast<int>(g.members.size());
  std::vector<int32_t> row_token(static_cast<size_t>(batch), 0), row_pos(static_cast<size_t>(batch), 0);
  std::vector<char> seen(static_cast<size_t>(batch), 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    auto it = seqs_.find(ids[i]);
    if (it == seqs_.end() || it->second.group != gid)
      return make_error("decode: the CUDA engine decodes the sequences of one prefill() call together", 2);
    if (tokens[i] < 0 || tokens[i] >= cfg_.vocab) return make_error("decode: token outside the vocabulary", 2);
    seen[static_cast<size_t>(it->second.row)] = 1;
    row_token[static_cast<size_t>(it->second.row)] = tokens[i];
  }
  for (int r = 0; r < batch; ++r) {
    const SequenceId m = g.members[static_cast<size_t>(r)];
    if (m >= 0 && !seen[static_cast<size_t>(r)])
      return make_error(fmt::format("decode: sequence {} of this batch is missing (the CUDA engine steps a prefill group together)", m), 2);
    row_pos[static_cast<size_t>(r)] = m >= 0 ? seqs_.at(m).length : 0;
  }
  // Released rows keep running on a dummy token; their cache is never read again.
  if (g.policy.kind == core::PolicyKind::Full) {
    for (auto& A : g.layers) {
      int need = 0;
      for (int r = 0; r < batch; ++r) need = std::max(need, A.len[static_cast<size_t>(r)] + 1);
      if (need > A.capacity) {
        SQZ_CHECK(grow_full_arena(A, batch, std::max(need, A.capacity * 2)));
        for (auto& b : A.budget) b = INT_MAX;
      }
    }
  }
  int max_cap = 0;
  for (auto& A : g.layers) max_cap = std::max(max_cap, A.capacity);
  SQZ_CHECK(ensure_workspace(batch, batch, max_cap));
  ++step_;
  const int kvh = cfg_.n_kv_heads;
  std::vector<int32_t> meta(static_cast<size_t>(batch) * 4 + 1, 0);
  for (int r = 0; r < batch; ++r) {
    meta[static_cast<size_t>(r)] = row_token[static_cast<size_t>(r)];
    meta[static_cast<size_t>(batch + r)] = row_pos[static_cast<size_t>(r)];
    meta[static_cast<size_t>(2 * batch + r)] = r;
  }
  (void)kvh;
  SQZ_CHECK(cuda_status(cudaMemcpyAsync(ws_meta_.as<int32_t>(), meta.data(), meta.size() * 4, cudaMemcpyHostToDevice, stream_), "upload tokens"));
  observe_begin(-1, op::kEmbed);
  SQZ_CHECK(cuda_status(cuda::ops::embedding(ws_meta_.as<int32_t>(), embedding_.as<bf16>(), ws_x_.as<float>(), batch, cfg_.vocab, cfg_.hidden, stream_), "embedding"));
  observe_end();
  SQZ_CHECK(forward_layers(batch, false, gid, 0, nullptr, nullptr, nullptr));
  observe_begin(-1, op::kLmHead);
  const bf16* head = cfg_.tied_embeddings ? embedding_.as<bf16>() : lm_head_.as<bf16>();
  if (gemm_.linear(ws_norm_.as<bf16>(), head, ws_logits_.as<float>(), cuda::GemmOut::F32, batch, cfg_.hidden, cfg_.vocab, stream_) != cudaSuccess)
    return make_error("CUDA engine: lm_head: " + gemm_.last_error());
  observe_end();
  for (int r = 0; r < batch; ++r) {
    const SequenceId m = g.members[static_cast<size_t>(r)];
    if (m >= 0) ++seqs_.at(m).length;
  }
  return StepInfo{gid, batch};
}

void CudaEngineImpl::release_sequence(SequenceId id) {
  auto it = seqs_.find(id);
  if (it == seqs_.end()) return;
  const int gid = it->second.group;
  seqs_.erase(it);
  if (gid < 0) return;
  Group& g = groups_.at(gid);
  bool alive = false;
  for (auto& m : g.members) {
    if (m == id) m = -1;
    alive = alive || m >= 0;
  }
  if (!alive) groups_.erase(gid);
}

Result<SequenceInfo> CudaEngineImpl::sequence_info(SequenceId id) const {
  auto it = seqs_.find(id);
  if (it == seqs_.end()) return make_error(fmt::format("unknown sequence {}", id), 2);
  SequenceInfo info;
  info.length = it->second.length;
  if (it->second.group < 0) {
    info.layer_size.assign(static_cast<size_t>(cfg_.n_layers), 0);
    info.layer_capacity.assign(static_cast<size_t>(cfg_.n_layers), 0);
    return info;
  }
  const Group& g = groups_.at(it->second.group);
  for (const auto& A : g.layers) {
    info.layer_size.push_back(A.len[static_cast<size_t>(it->second.row)]);
    info.layer_capacity.push_back(A.capacity);
    info.kv_bytes += 2LL * cfg_.n_kv_heads * A.capacity * cfg_.head_dim * 2;
  }
  return info;
}

Result<std::vector<int>> CudaEngineImpl::kept_positions(SequenceId id, int layer, int kv_head) const {
  auto it = seqs_.find(id);
  if (it == seqs_.end() || it->second.group < 0) return make_error("kept_positions: unknown or unprefilled sequence", 2);
  if (layer < 0 || layer >= cfg_.n_layers || kv_head < 0 || kv_head >= cfg_.n_kv_heads)
    return make_error("kept_positions: layer or head out of range", 2);
  const Group& g = groups_.at(it->second.group);
  const LayerArena& A = g.layers[static_cast<size_t>(layer)];
  const int row = it->second.row, n = A.len[static_cast<size_t>(row)];
  std::vector<int32_t> pos(static_cast<size_t>(n));
  const size_t off = (static_cast<size_t>(row) * cfg_.n_kv_heads + kv_head) * A.capacity;
  SQZ_CHECK(cuda_status(cudaStreamSynchronize(stream_), "sync"));
  SQZ_CHECK(cuda_status(cudaMemcpy(pos.data(), A.positions.as<int32_t>() + off, pos.size() * 4, cudaMemcpyDeviceToHost), "copy positions"));
  std::vector<int> out(pos.begin(), pos.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Result<std::unique_ptr<CudaEngine>> make_cuda_engine(ModelWeights weights, const CudaEngineOptions& options) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n <= options.device) {
    cudaGetLastError();
    return make_error("CUDA engine: no CUDA device visible", 2);
  }
  auto engine = std::make_unique<CudaEngineImpl>(weights.config, options);
  SQZ_CHECK(engine->init(weights));
  return std::unique_ptr<CudaEngine>(std::move(engine));
}

}  // namespace squeeze::profiler
