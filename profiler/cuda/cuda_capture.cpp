// Capture driver of the CUDA backend (see cuda_capture.hpp).
#include "squeeze/profiler/cuda/cuda_capture.hpp"

#include <cuda_runtime.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <random>

#include "gemm.hpp"
#include "kernels.hpp"
#include "squeeze/core/kv_policy.hpp"
#include "squeeze/core/layer_budget.hpp"
#include "squeeze/core/trace_writer.hpp"
#include "squeeze/profiler/cuda/cuda_engine.hpp"
#include "squeeze/profiler/cuda/cupti_capture.hpp"
#include "squeeze/profiler/model_loader.hpp"

namespace squeeze::profiler {
namespace {

using core::make_error;
using core::Status;
using Clock = std::chrono::steady_clock;

Status cuda_ok(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return {};
  return make_error(fmt::format("{}: {}", what, cudaGetErrorString(e)));
}

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Device-to-device copy of 1 GiB, bytes read + written per second (median of 10).
core::Result<double> measure_copy_bandwidth() {
  const size_t n = size_t(1) << 30;
  void *a = nullptr, *b = nullptr;
  SQZ_CHECK(cuda_ok(cudaMalloc(&a, n), "copy bandwidth buffer"));
  if (cudaError_t e = cudaMalloc(&b, n); e != cudaSuccess) {
    cudaFree(a);
    return make_error(fmt::format("copy bandwidth buffer: {}", cudaGetErrorString(e)));
  }
  cudaMemset(a, 1, n);
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  std::vector<float> t;
  for (int i = 0; i < 13; ++i) {
    cudaEventRecord(e0);
    cudaMemcpyAsync(b, a, n, cudaMemcpyDeviceToDevice);
    cudaEventRecord(e1);
    cudaEventSynchronize(e1);
    float ms = 0;
    cudaEventElapsedTime(&ms, e0, e1);
    if (i >= 3) t.push_back(ms);
  }
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  cudaFree(a);
  cudaFree(b);
  std::sort(t.begin(), t.end());
  return 2.0 * n / (t[t.size() / 2] * 1e-3);
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

struct RunSpec {
  std::string policy;
  int budget = 0;
  double p = 1.0;
  int batch = 1;
};

struct RunResult {
  core::RunRecord record;
  std::vector<double> step_ms;  // (1 + gen): prefill then decode steps
};

core::Result<RunResult> measure_run(CudaEngine& engine, const RunSpec& spec,
                                    const CudaCaptureOptions& opt, std::mt19937& rng) {
  SQZ_TRY(kind, core::parse_policy(spec.policy));
  CachePlan plan;
  plan.policy.kind = kind;
  if (kind != core::PolicyKind::Full) {
    plan.budget_tokens = spec.budget;
    plan.p = spec.p;
    if (spec.p < 1.0 && !opt.layer_similarity.empty()) {
      const auto sim = resample_profile(opt.layer_similarity, engine.config().n_layers);
      SQZ_TRY(lb, core::squeeze_budgets(sim, spec.budget, spec.p));
      // A layer never holds more than the whole sequence: squeeze_budgets can hand important
      // layers more than that (3 important layers of 32 get B + 29 (1 - p) B / 3 each), and the
      // engine would allocate the excess as never-used slots.
      plan.layer_budgets = lb.budgets;
      for (int& b : plan.layer_budgets) b = std::min(b, opt.prompt_len + opt.gen_tokens);
    }
  }
  const int vocab = engine.config().vocab;
  std::uniform_int_distribution<int> tok(3, vocab - 1);
  std::vector<SequenceId> ids;
  // Released on every exit, also after an out-of-memory error, so the next (smaller or other
  // policy's) run starts from an empty cache.
  struct Release {
    CudaEngine& e;
    std::vector<SequenceId>& ids;
    ~Release() { for (SequenceId id : ids) e.release_sequence(id); }
  } release{engine, ids};
  std::vector<std::vector<int>> prompts;
  for (int b = 0; b < spec.batch; ++b) {
    SQZ_TRY(id, engine.add_sequence(plan));
    ids.push_back(id);
    std::vector<int> p{1};
    for (int i = 1; i < opt.prompt_len; ++i) p.push_back(tok(rng));
    prompts.push_back(std::move(p));
  }
  SQZ_CHECK(engine.synchronize());
  engine.reset_peak_memory();
  engine.reset_step_counter();
  RunResult res;
  auto& r = res.record;
  r.label = fmt::format("{}-B{}-p{}-b{}", spec.policy, spec.budget, spec.p, spec.batch);
  r.policy = core::policy_name(kind);
  r.budget_unit = kind == core::PolicyKind::Full ? core::BudgetUnit::None : core::BudgetUnit::Tokens;
  r.budget_value = kind == core::PolicyKind::Full ? 0 : spec.budget;
  r.p = kind == core::PolicyKind::Full ? 0 : spec.p;
  r.batch = spec.batch;
  r.prompt_len = opt.prompt_len;
  r.gen_len = opt.gen_tokens;
  auto t0 = Clock::now();
  SQZ_TRY(outs, engine.prefill(ids, prompts, {}));
  SQZ_CHECK(engine.synchronize());
  r.prefill_ms = ms_since(t0);
  res.step_ms.push_back(r.prefill_ms);
  r.layer_budgets = outs[0].layer_budgets;
  r.kv_bytes = engine.memory().kv_bytes;
  std::vector<int> tokens;
  for (auto& o : outs) tokens.push_back(static_cast<int>(std::max_element(o.logits.begin(), o.logits.end()) - o.logits.begin()));
  double decode_ms = 0;
  for (int s = 0; s < opt.gen_tokens; ++s) {
    t0 = Clock::now();
    SQZ_TRY(next, engine.decode_greedy(ids, tokens));  // returns after the ids are on the host
    const double ms = ms_since(t0);
    decode_ms += ms;
    res.step_ms.push_back(ms);
    tokens = std::move(next);
  }
  const auto mem = engine.memory();
  r.peak_bytes = mem.peak_allocated_bytes;
  r.weights_bytes = mem.weights_bytes;
  r.decode_step_ms_mean = opt.gen_tokens > 0 ? decode_ms / opt.gen_tokens : 0;
  r.tokens_per_s = decode_ms > 0 ? spec.batch * opt.gen_tokens / (decode_ms * 1e-3) : 0;
  return res;
}

Status write_steps(core::TraceWriter& w, std::int64_t run_id, const std::vector<double>& ms) {
  std::vector<core::RunStep> steps;
  for (size_t i = 0; i < ms.size(); ++i) steps.push_back({run_id, static_cast<int>(i), ms[i]});
  return w.add_run_steps(steps);
}

template <class F>
double mean_us(F&& fn, int reps) {
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  for (int i = 0; i < 3; ++i) fn(i);
  cudaEventRecord(e0);
  for (int i = 0; i < reps; ++i) fn(i);
  cudaEventRecord(e1);
  cudaEventSynchronize(e1);
  float ms = 0;
  cudaEventElapsedTime(&ms, e0, e1);
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  return ms * 1e3 / reps;
}

Status calibrate_into(core::TraceWriter& w, const core::ModelConfig& m, const std::string& device,
                      std::FILE* log) {
  SQZ_TRY(gemm, cuda::LtGemm::create());
  std::vector<core::CalibrationPoint> pts;
  struct G { const char* op; int n, k; };
  const G gemms[] = {{core::trace_op::kQkv, m.q_dim() + 2 * m.kv_dim(), m.hidden},
                     {core::trace_op::kOProj, m.hidden, m.q_dim()},
                     {core::trace_op::kGateUp, 2 * m.intermediate, m.hidden},
                     {core::trace_op::kDown, m.hidden, m.intermediate},
                     {core::trace_op::kLmHead, m.vocab, m.hidden}};
  const int max_rows = 512;
  size_t max_w = 0, max_in = 0, max_out = 0;
  for (const auto& g : gemms) {
    max_w = std::max(max_w, size_t(g.n) * g.k);
    max_in = std::max(max_in, size_t(max_rows) * g.k);
    max_out = std::max(max_out, size_t(max_rows) * g.n);
  }
  cuda::bf16 *wbuf = nullptr, *xbuf = nullptr;
  float* ybuf = nullptr;
  SQZ_CHECK(cuda_ok(cudaMalloc(&wbuf, max_w * 2), "calibration weights"));
  SQZ_CHECK(cuda_ok(cudaMalloc(&xbuf, max_in * 2), "calibration inputs"));
  SQZ_CHECK(cuda_ok(cudaMalloc(&ybuf, max_out * 4), "calibration outputs"));
  cuda::ops::fill_uniform_bf16(wbuf, max_w, 7, 0.05f, nullptr);
  cuda::ops::fill_uniform_bf16(xbuf, max_in, 8, 1.f, nullptr);
  for (const auto& g : gemms)
    for (int rows : {1, 2, 4, 8, 16, 32, 64, 128, 256, 512}) {
      cudaError_t err = cudaSuccess;
      const double us = mean_us([&](int) {
        if (err == cudaSuccess) err = gemm.linear(xbuf, wbuf, ybuf, cuda::GemmOut::F32, rows, g.k, g.n, nullptr);
      }, 20);
      if (err != cudaSuccess) return make_error("calibration GEMM: " + gemm.last_error());
      core::CalibrationPoint p;
      p.op = g.op;
      p.rows = rows;
      p.batch = rows;
      p.n = g.n;
      p.k = g.k;
      p.duration_us = us;
      p.repetitions = 20;
      p.device = device;
      pts.push_back(p);
    }
  cudaFree(wbuf);
  cudaFree(xbuf);
  cudaFree(ybuf);
  // Decode attention over batch x KV length (one layer's cache, random contents).
  for (int batch : {1, 4, 8, 16, 32})
    for (int len : {128, 512, 1024, 2048, 4096, 8192, 16384}) {
      const size_t elems = size_t(batch) * m.n_kv_heads * len * m.head_dim;
      if (elems * 4 > (size_t(8) << 30)) continue;
      cuda::bf16 *k = nullptr, *v = nullptr, *q = nullptr, *out = nullptr;
      float* work = nullptr;
      int32_t* lens = nullptr;
      const int max_splits = 128;
      SQZ_CHECK(cuda_ok(cudaMalloc(&k, elems * 2), "calibration K"));
      SQZ_CHECK(cuda_ok(cudaMalloc(&v, elems * 2), "calibration V"));
      SQZ_CHECK(cuda_ok(cudaMalloc(&q, size_t(batch) * m.q_dim() * 2), "calibration q"));
      SQZ_CHECK(cuda_ok(cudaMalloc(&out, size_t(batch) * m.q_dim() * 2), "calibration out"));
      const size_t work_bytes = cuda::decode_attention_workspace_bytes(batch, m.n_heads, m.head_dim, max_splits);
      SQZ_CHECK(cuda_ok(cudaMalloc(&work, work_bytes), "workspace"));
      SQZ_CHECK(cuda_ok(cudaMemset(work, 0, work_bytes), "workspace zero"));
      SQZ_CHECK(cuda_ok(cudaMalloc(&lens, batch * 4), "lens"));
      cuda::ops::fill_uniform_bf16(k, elems, 1, 1.f, nullptr);
      cuda::ops::fill_uniform_bf16(v, elems, 2, 1.f, nullptr);
      cuda::ops::fill_uniform_bf16(q, size_t(batch) * m.q_dim(), 3, 1.f, nullptr);
      std::vector<int32_t> lh(batch, len);
      cudaMemcpy(lens, lh.data(), batch * 4, cudaMemcpyHostToDevice);
      cuda::DecodeAttentionArgs a{};
      a.q = q;
      a.k_cache = k;
      a.v_cache = v;
      a.lens = lens;
      a.out = out;
      a.batch = batch;
      a.n_heads = m.n_heads;
      a.kv_heads = m.n_kv_heads;
      a.head_dim = m.head_dim;
      a.capacity = len;
      a.max_len = len;
      a.max_splits = max_splits;
      a.scale = 1.f / std::sqrt(float(m.head_dim));
      cuda::bind_decode_attention_workspace(a, work, batch);
      cudaError_t err = cudaSuccess;
      const double us = mean_us([&](int) { if (err == cudaSuccess) err = cuda::ops::decode_attention(a, nullptr); }, 20);
      cudaFree(k); cudaFree(v); cudaFree(q); cudaFree(out); cudaFree(work); cudaFree(lens);
      SQZ_CHECK(cuda_ok(err, "calibration decode attention"));
      core::CalibrationPoint p;
      p.op = core::trace_op::kDecodeAttention;
      p.batch = batch;
      p.kv_len = len;
      p.n_heads = m.n_heads;
      p.n_kv_heads = m.n_kv_heads;
      p.head_dim = m.head_dim;
      p.duration_us = us;
      p.repetitions = 20;
      p.device = device;
      pts.push_back(p);
    }
  SQZ_CHECK(cuda_ok(cudaDeviceSynchronize(), "calibration"));
  if (log) std::fprintf(log, "calibration: %zu points\n", pts.size());
  return w.add_calibration(pts);
}

}  // namespace

core::Result<core::ModelConfig> random_model_shape(const std::string& name) {
  core::ModelConfig c;
  c.name = name;
  c.n_layers = 32;
  c.hidden = 4096;
  c.n_heads = 32;
  c.n_kv_heads = name == "llama-2-7b-gqa" ? 8 : 32;
  c.head_dim = 128;
  c.intermediate = 11008;
  c.vocab = 32000;
  c.max_seq = 4096;
  c.rope_style = core::RopeStyle::HalfSplit;
  c.tied_embeddings = false;
  if (name != "llama-2-7b" && name != "llama-2-7b-gqa")
    return make_error(fmt::format("unknown random model shape '{}' (llama-2-7b, llama-2-7b-gqa)", name), 2);
  return c;
}

std::vector<double> resample_profile(const std::vector<double>& profile, int n_layers) {
  const int n = static_cast<int>(profile.size());
  if (n == n_layers || n == 0 || n_layers <= 0) return profile;
  std::vector<double> out(static_cast<size_t>(n_layers));
  for (int j = 0; j < n_layers; ++j) {
    const double x = n_layers == 1 ? 0.0 : double(j) * (n - 1) / (n_layers - 1);
    const int i = std::min(static_cast<int>(x), n - 1);
    const double f = x - i;
    out[static_cast<size_t>(j)] = i + 1 < n ? profile[size_t(i)] * (1 - f) + profile[size_t(i + 1)] * f
                                            : profile[size_t(i)];
  }
  return out;
}

Status run_cuda_capture(const CudaCaptureOptions& opt, std::FILE* log) {
  ModelWeights weights;
  CudaEngineOptions eo;
  eo.seed = opt.seed;
  if (opt.model.rfind("random:", 0) == 0) {
    SQZ_TRY(cfg, random_model_shape(opt.model.substr(7)));
    weights.config = cfg;
    weights.source = opt.model;
    eo.random_weights = true;
  } else {
    SQZ_TRY(w, load_model(opt.model));
    weights = std::move(w);
  }
  const core::ModelConfig cfg = weights.config;
  const std::string source = weights.source;
  const ModelWeights random_shape = eo.random_weights ? weights : ModelWeights{};
  SQZ_TRY(engine, make_cuda_engine(std::move(weights), eo));
  cudaDeviceProp prop{};
  SQZ_CHECK(cuda_ok(cudaGetDeviceProperties(&prop, 0), "device properties"));
  int drv = 0, rt = 0;
  cudaDriverGetVersion(&drv);
  cudaRuntimeGetVersion(&rt);
  SQZ_TRY(bw, measure_copy_bandwidth());
  SQZ_TRY(w, core::TraceWriter::create(opt.output, true));
  core::TraceMeta meta;
  meta.tool = "squeeze-profile capture --device cuda";
  meta.tool_version = "0.1.0";
  meta.created_utc = utc_now();
  meta.device_kind = "cuda";
  meta.gpu_name = prop.name;
  meta.sm_count = prop.multiProcessorCount;
  meta.gpu_memory_bytes = static_cast<std::int64_t>(prop.totalGlobalMem);
  meta.driver = fmt::format("driver {}.{}, runtime {}.{}", drv / 1000, (drv % 1000) / 10, rt / 1000, (rt % 1000) / 10);
  meta.copy_bandwidth_bytes_per_s = bw;
  meta.model = cfg;
  meta.model_source = source;
  meta.notes = eo.random_weights ? "random bf16 weights generated on the device (timing only)" : "";
  if (!opt.layer_similarity.empty())
    meta.notes += fmt::format("{}squeeze (p < 1) layer budgets from the similarity profile of {} "
                              "({} layers, resampled by depth)", meta.notes.empty() ? "" : "; ",
                              opt.similarity_source.empty() ? "the command line" : opt.similarity_source,
                              opt.layer_similarity.size());
  SQZ_CHECK(w.write_meta(meta));
  if (log) std::fprintf(log, "%s, %d SMs, copy %.0f GB/s, model %s\n", prop.name, prop.multiProcessorCount, bw / 1e9, cfg.name.c_str());

  // Grouped by setting (policy, B, p), batches ascending inside a group.
  std::vector<RunSpec> specs;
  for (const auto& pol : opt.policies) {
    if (pol == "full") {
      for (int b : opt.batches) specs.push_back({pol, 0, 1.0, b});
      continue;
    }
    for (int budget : opt.budgets)
      for (double p : opt.ps)
        for (int b : opt.batches) specs.push_back({pol, budget, p, b});
  }
  std::mt19937 rng(opt.seed);
  // Warm-up: module load, cuBLASLt heuristics, workspace growth stay out of the measured runs.
  {
    CudaCaptureOptions warm = opt;
    warm.gen_tokens = 2;
    auto r = measure_run(*engine, specs.front(), warm, rng);
    if (!r.ok()) return r.error();
  }
  std::vector<double> plain_step_ms;
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& s = specs[i];
    // A new setting on random weights gets a fresh engine: the workspace the engine keeps from
    // the previous setting's largest batch would otherwise shrink this setting's largest batch
    // that fits. (Loaded models keep one engine: their weights are not kept on the host.)
    const bool new_setting = i > 0 && (s.policy != specs[i - 1].policy ||
                                       s.budget != specs[i - 1].budget || s.p != specs[i - 1].p);
    if (new_setting && eo.random_weights) {
      engine.reset();
      SQZ_TRY(fresh, make_cuda_engine(random_shape, eo));
      engine = std::move(fresh);
      CudaCaptureOptions warm = opt;
      warm.gen_tokens = 2;
      auto wr = measure_run(*engine, s, warm, rng);
      if (!wr.ok() && log) std::fprintf(log, "warm-up %s: %s\n", s.policy.c_str(), wr.error().message.c_str());
    }
    auto r = measure_run(*engine, s, opt, rng);
    core::RunRecord rec;
    if (!r.ok()) {
      rec.label = fmt::format("{}-B{}-p{}-b{}", s.policy, s.budget, s.p, s.batch);
      rec.policy = s.policy;
      rec.batch = s.batch;
      rec.prompt_len = opt.prompt_len;
      rec.gen_len = opt.gen_tokens;
      const bool oom = r.error().message.find("out of device memory") != std::string::npos;
      rec.status = oom ? "oom" : "failed: " + r.error().message;
      if (log) std::fprintf(log, "run %s: %s\n", rec.label.c_str(), r.error().message.c_str());
      SQZ_TRY(id, w.add_run(rec));
      (void)id;
      plain_step_ms.push_back(0);
      continue;
    }
    SQZ_TRY(id, w.add_run(r->record));
    SQZ_CHECK(write_steps(w, id, r->step_ms));
    plain_step_ms.push_back(r->record.decode_step_ms_mean);
    if (log) std::fprintf(log, "run %-28s prefill %8.2f ms  step %7.3f ms  %9.1f tok/s  kv %6.2f GiB  peak %6.2f GiB\n",
                          r->record.label.c_str(), r->record.prefill_ms, r->record.decode_step_ms_mean,
                          r->record.tokens_per_s, r->record.kv_bytes / 1073741824.0, r->record.peak_bytes / 1073741824.0);
  }
  // Kernel capture: the first kernel_runs configurations again, with CUPTI recording.
  if (opt.kernel_runs > 0) {
    SQZ_TRY(cap, CuptiCapture::start());
    engine->set_observer(cap.get());
    std::vector<core::CaptureStat> stats;
    for (int i = 0; i < std::min<int>(opt.kernel_runs, static_cast<int>(specs.size())); ++i) {
      if (plain_step_ms[static_cast<size_t>(i)] <= 0) continue;
      core::RunRecord placeholder;
      placeholder.label = "pending";
      placeholder.status = "running";
      SQZ_TRY(id, w.add_run(placeholder));
      cap->set_run(id);
      auto r = measure_run(*engine, specs[static_cast<size_t>(i)], opt, rng);
      if (!r.ok()) return r.error();
      r->record.id = id;
      r->record.label += "+cupti";
      SQZ_CHECK(w.update_run(r->record));
      SQZ_CHECK(write_steps(w, id, r->step_ms));
      SQZ_TRY(kernels, cap->collect());
      SQZ_CHECK(w.add_kernels(kernels));
      const double overhead = 100.0 * (r->record.decode_step_ms_mean / plain_step_ms[static_cast<size_t>(i)] - 1.0);
      stats.push_back({id, "cupti_overhead_pct_decode_step", overhead});
      stats.push_back({id, "cupti_kernel_records", static_cast<double>(kernels.size())});
      if (log) std::fprintf(log, "run %-28s with CUPTI: step %7.3f ms (%+.2f%% vs without), %zu kernel records\n",
                            r->record.label.c_str(), r->record.decode_step_ms_mean, overhead, kernels.size());
    }
    engine->set_observer(nullptr);
    stats.push_back({std::nullopt, "cupti_dropped_records", static_cast<double>(cap->dropped_records())});
    if (log) std::fprintf(log, "CUPTI dropped records: %lld\n", static_cast<long long>(cap->dropped_records()));
    cap->stop();
    SQZ_CHECK(w.add_capture_stats(stats));
  }
  if (opt.calibrate) {
    engine.reset();  // free weights and KV before the calibration buffers
    SQZ_CHECK(calibrate_into(w, cfg, prop.name, log));
  }
  return {};
}

Status run_cuda_calibrate(const core::ModelConfig& model, const std::string& output, std::FILE* log) {
  cudaDeviceProp prop{};
  SQZ_CHECK(cuda_ok(cudaGetDeviceProperties(&prop, 0), "device properties"));
  auto w = core::TraceWriter::open_for_append(output);
  if (!w.ok()) {
    auto created = core::TraceWriter::create(output, false);
    if (!created.ok()) return created.error();
    return calibrate_into(created.value(), model, prop.name, log);
  }
  return calibrate_into(w.value(), model, prop.name, log);
}

}  // namespace squeeze::profiler
