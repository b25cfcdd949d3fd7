// The synthetic trace: Llama-shaped model, paper-shaped similarities, roofline-priced runs,
// calibration grids and one run's kernels. See trace_synthetic.hpp for the model and
// traces/FORMAT.md for the exact command that made traces/synthetic-llama2-7b.sqz.
#include "squeeze/core/trace_synthetic.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "squeeze/core/layer_budget.hpp"
#include "squeeze/core/trace_writer.hpp"
#include "trace_synthetic_ops.hpp"

namespace squeeze::core {

using synthetic::Rng;

namespace {

constexpr int kPrompts = 8;
constexpr int kPromptLen = 1024;
constexpr int kGenLen = 128;
constexpr double kLaunchGapUs = 1.2;  // idle GPU time between two kernels of a step
constexpr int kKernelSteps = 2;       // kernels are recorded for decode steps 1..this
constexpr std::int64_t kWorkspaceBytes = 256LL << 20;
constexpr const char* kDevice = "synthetic-h100";

struct RunPlan {
  const char* policy;
  BudgetUnit unit;
  double value;  // fraction or tokens
  double p;      // 0 = uniform budgets
  int batch;
};

// Policies x budgets x batches the simulator's validation and the GUI's views can exercise.
constexpr RunPlan kRuns[] = {
    {"full", BudgetUnit::None, 0, 0, 1},          {"full", BudgetUnit::None, 0, 0, 16},
    {"window", BudgetUnit::Fraction, 0.2, 0, 16}, {"window", BudgetUnit::Fraction, 0.2, 0.35, 16},
    {"h2o", BudgetUnit::Fraction, 0.2, 0, 16},    {"h2o", BudgetUnit::Fraction, 0.2, 0.35, 16},
    {"h2o", BudgetUnit::Tokens, 256, 0.3, 64},    {"streaming", BudgetUnit::Tokens, 256, 0.3, 32},
};
constexpr std::size_t kKernelRunIndex = 5;  // h2o, 20 %, squeezed, batch 16

ModelConfig llama_shape(std::string name, int layers, int hidden, int heads, int kv_heads,
                        int intermediate, int vocab, int max_seq, double rope_theta) {
  ModelConfig m;
  m.name = std::move(name);
  m.n_layers = layers;
  m.hidden = hidden;
  m.n_heads = heads;
  m.n_kv_heads = kv_heads;
  m.head_dim = hidden / heads;
  m.intermediate = intermediate;
  m.vocab = vocab;
  m.max_seq = max_seq;
  m.rope_theta = rope_theta;
  m.rope_style = RopeStyle::HalfSplit;  // as Hugging Face checkpoints store them
  m.tied_embeddings = false;
  return m;
}

std::string now_utc() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                     std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

double noisy(double us, Rng& rng, const SyntheticRoofline& r) {
  return us * (1.0 + rng.symmetric(r.noise));
}

TraceMeta synthetic_meta(const ModelConfig& model, const SyntheticTraceOptions& options) {
  TraceMeta meta;
  meta.tool = "squeeze-sim synth";
  meta.tool_version = "0.1.0";
  meta.created_utc = now_utc();
  meta.host = "synthetic";
  meta.device_kind = "synthetic";
  meta.gpu_name = kDevice;
  meta.sm_count = 132;
  meta.gpu_memory_bytes = 85'520'809'984;  // what the driver reports for an H100 SXM 80GB
  meta.driver = "none (synthetic)";
  meta.copy_bandwidth_bytes_per_s =
      options.roofline.hbm_bytes_per_s * options.roofline.bandwidth_efficiency / 2;
  meta.model = model;
  meta.model_source = fmt::format("synthetic:{}", options.model);
  const auto& r = options.roofline;
  meta.notes = fmt::format(
      "SYNTHETIC trace: nothing here was measured. Similarities follow the shape reported by "
      "SqueezeAttention; durations come from a roofline model of an H100 SXM ({:g} B/s at {:g} "
      "efficiency, {:g} FLOP/s at {:g} efficiency, {:g} us fixed overhead per kernel) with "
      "+-{:g} uniform noise, seed {}.",
      r.hbm_bytes_per_s, r.bandwidth_efficiency, r.peak_flops_per_s, r.compute_efficiency,
      r.fixed_overhead_us, r.noise, options.seed);
  meta.extra["synthetic"] = "1";
  meta.extra["synthetic_seed"] = std::to_string(options.seed);
  return meta;
}

// Writes the prompts; returns the mean similarity per layer over all prompts.
Result<std::vector<double>> write_prompts(TraceWriter& writer, const ModelConfig& m, Rng& rng) {
  std::vector<double> mean(static_cast<std::size_t>(m.n_layers), 0.0);
  for (int p = 0; p < kPrompts; ++p) {
    const double prompt_offset = rng.symmetric(0.006);
    std::vector<double> sims;
    for (int l = 0; l < m.n_layers; ++l) {
      const double v =
          synthetic::base_similarity(l, m.n_layers) + prompt_offset + rng.symmetric(0.008);
      sims.push_back(std::clamp(v, 0.5, 0.995));
      mean[static_cast<std::size_t>(l)] += sims.back() / kPrompts;
    }
    PromptRecord prompt{0, "synthetic", fmt::format("synthetic-prompt-{}", p),
                        rng.uniform_int(400, 2000)};
    SQZ_TRY(id, writer.add_prompt_with_similarities(prompt, sims));
    (void)id;
  }
  return mean;
}

std::vector<CalibrationPoint> calibration_points(const ModelConfig& m, Rng& rng,
                                                 const SyntheticRoofline& r) {
  std::vector<CalibrationPoint> points;
  const int gemm_rows[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512};
  for (const auto& g : synthetic::model_gemms(m)) {
    for (int rows : gemm_rows) {
      CalibrationPoint c;
      c.op = g.op;
      c.rows = rows;
      c.n = g.n;
      c.k = g.k;
      c.duration_us = noisy(synthetic::gemm_us(rows, g.n, g.k, r), rng, r);
      points.push_back(c);
    }
  }
  for (int batch : {1, 2, 4, 8, 16, 32, 64, 128}) {
    for (int kv_len : {128, 256, 512, 1024, 2048, 4096}) {
      CalibrationPoint c;
      c.op = trace_op::kDecodeAttention;
      c.batch = batch;
      c.rows = batch;
      c.kv_len = kv_len;
      c.duration_us = noisy(synthetic::decode_attention_us(batch, kv_len, m, r), rng, r);
      points.push_back(c);
    }
  }
  for (int batch : {1, 2, 4}) {
    for (int seq : {128, 256, 512, 1024, 2048, 4096}) {
      CalibrationPoint c;
      c.op = trace_op::kPrefillAttention;
      c.batch = batch;
      c.rows = batch * seq;
      c.kv_len = seq;
      c.duration_us = noisy(synthetic::prefill_attention_us(batch, seq, m, r), rng, r);
      points.push_back(c);
    }
  }
  for (auto& c : points) {
    if (c.op == trace_op::kDecodeAttention || c.op == trace_op::kPrefillAttention) {
      c.n_heads = m.n_heads;
      c.n_kv_heads = m.n_kv_heads;
      c.head_dim = m.head_dim;
    }
    c.dtype = "bf16";
    c.repetitions = 20;
    c.device = kDevice;
  }
  return points;
}

Result<std::vector<int>> run_budgets(const RunPlan& plan, const std::vector<double>& similarity) {
  if (plan.unit == BudgetUnit::None) return std::vector<int>{};
  int uniform = static_cast<int>(plan.value);
  if (plan.unit == BudgetUnit::Fraction) {
    SQZ_TRY(b, budget_from_fraction(plan.value, kPromptLen));
    uniform = b;
  }
  if (plan.p <= 0) return std::vector<int>(similarity.size(), uniform);
  SQZ_TRY(squeezed, squeeze_budgets(similarity, uniform, plan.p));
  return squeezed.budgets;
}

// Prices every step of one run, fills its measurements, and (for the kernel run) its kernels.
struct PricedRun {
  RunRecord record;
  std::vector<RunStep> steps;
  std::vector<KernelRecord> kernels;
};

PricedRun price_run(const ModelConfig& m, RunRecord run, bool record_kernels, Rng& rng,
                    const SyntheticRoofline& r) {
  PricedRun out;
  const bool full = run.layer_budgets.empty();
  const bool h2o = run.policy == "h2o";
  std::int64_t clock_ns = 1'000'000'000'000;  // arbitrary GPU clock origin
  std::int64_t correlation = 1;
  double decode_ms_total = 0;
  for (int step = 0; step <= run.gen_len; ++step) {
    synthetic::StepShape shape;
    shape.batch = run.batch;
    shape.prompt_len = run.prompt_len;
    shape.prefill = step == 0;
    shape.h2o = h2o && step > 0;
    for (int l = 0; !shape.prefill && l < m.n_layers; ++l) {
      const int context = run.prompt_len + step;
      shape.kv_lens.push_back(
          full ? context : std::min(context, run.layer_budgets[static_cast<std::size_t>(l)]));
    }
    double step_us = 0;
    for (const auto& k : synthetic::step_kernels(m, shape, r)) {
      const double us = noisy(k.duration_us, rng, r);
      if (record_kernels && step >= 1 && step <= kKernelSteps) {
        KernelRecord rec;
        rec.step = step;
        rec.layer = k.layer;
        rec.op = k.op;
        rec.name = k.name;
        rec.start_ns = clock_ns;
        rec.duration_ns = std::llround(us * 1000.0);
        rec.grid_x = k.grid[0], rec.grid_y = k.grid[1], rec.grid_z = k.grid[2];
        rec.block_x = k.block[0], rec.block_y = k.block[1], rec.block_z = k.block[2];
        rec.stream = 7;
        rec.correlation_id = correlation++;
        out.kernels.push_back(rec);
        clock_ns += rec.duration_ns + std::llround(kLaunchGapUs * 1000.0);
      }
      step_us += us + kLaunchGapUs;
    }
    step_us *= 1.0 + rng.symmetric(0.01);    // host-side jitter of the whole step
    if (record_kernels) clock_ns += 20'000;  // host sync between steps
    out.steps.push_back(RunStep{0, step, step_us / 1000.0});
    if (step == 0) {
      run.prefill_ms = step_us / 1000.0;
    } else {
      decode_ms_total += step_us / 1000.0;
    }
  }
  run.decode_step_ms_mean = decode_ms_total / run.gen_len;
  run.tokens_per_s = run.batch / (run.decode_step_ms_mean / 1000.0);

  const std::int64_t kv_per_token_layer = 2LL * m.kv_dim() * dtype_bytes(m.kv_dtype);
  std::int64_t held_tokens = 0;  // per sequence, summed over layers
  for (int l = 0; l < m.n_layers; ++l) {
    held_tokens +=
        full ? run.prompt_len + run.gen_len : run.layer_budgets[static_cast<std::size_t>(l)];
  }
  run.weights_bytes = m.parameter_count() * dtype_bytes(m.weight_dtype);
  run.kv_bytes = held_tokens * run.batch * kv_per_token_layer;
  // Online mode: the prefill holds the whole prompt's cache in every layer before compressing.
  const std::int64_t prefill_kv =
      std::int64_t(m.n_layers) * run.prompt_len * run.batch * kv_per_token_layer;
  const std::int64_t prefill_act =
      std::int64_t(run.batch) * run.prompt_len * (4LL * m.hidden + 2LL * m.intermediate) * 2;
  run.peak_bytes =
      run.weights_bytes + std::max(prefill_kv + prefill_act, run.kv_bytes) + kWorkspaceBytes;
  out.record = std::move(run);
  return out;
}

Status write_runs(TraceWriter& writer, const ModelConfig& m, const std::vector<double>& similarity,
                  Rng& rng, const SyntheticRoofline& r) {
  for (std::size_t i = 0; i < std::size(kRuns); ++i) {
    const RunPlan& plan = kRuns[i];
    RunRecord run;
    run.policy = plan.policy;
    run.budget_unit = plan.unit;
    run.budget_value = plan.value;
    run.p = plan.p;
    SQZ_TRY(budgets, run_budgets(plan, similarity));
    run.layer_budgets = std::move(budgets);
    run.batch = plan.batch;
    run.prompt_len = kPromptLen;
    run.gen_len = kGenLen;
    run.mode = "online";
    run.label =
        plan.unit == BudgetUnit::None
            ? fmt::format("{}-b{}", plan.policy, plan.batch)
            : fmt::format("{}-{:g}{}-{}-b{}", plan.policy, plan.value,
                          plan.unit == BudgetUnit::Fraction ? "f" : "t",
                          plan.p > 0 ? fmt::format("squeeze{:g}", plan.p) : "uniform", plan.batch);
    PricedRun priced = price_run(m, std::move(run), i == kKernelRunIndex, rng, r);
    SQZ_TRY(id, writer.add_run(priced.record));
    for (auto& s : priced.steps) s.run_id = id;
    for (auto& k : priced.kernels) k.run_id = id;
    SQZ_CHECK(writer.add_run_steps(priced.steps));
    if (!priced.kernels.empty()) SQZ_CHECK(writer.add_kernels(priced.kernels));
  }
  const CaptureStat dropped{std::nullopt, "cupti_dropped_records", 0};
  return writer.add_capture_stats(std::span(&dropped, 1));
}

}  // namespace

double SyntheticRoofline::duration_us(double bytes, double flops) const {
  const double memory_s = bytes / (hbm_bytes_per_s * bandwidth_efficiency);
  const double compute_s = flops / (peak_flops_per_s * compute_efficiency);
  return fixed_overhead_us + std::max(memory_s, compute_s) * 1e6;
}

std::vector<std::string> synthetic_model_names() {
  return {"llama2-7b", "llama2-13b", "llama3-8b", "mistral-7b"};
}

Result<ModelConfig> synthetic_model(const std::string& name) {
  if (name == "llama2-7b")
    return llama_shape("llama2-7b", 32, 4096, 32, 32, 11008, 32000, 4096, 1e4);
  if (name == "llama2-13b")
    return llama_shape("llama2-13b", 40, 5120, 40, 40, 13824, 32000, 4096, 1e4);
  if (name == "llama3-8b")
    return llama_shape("llama3-8b", 32, 4096, 32, 8, 14336, 128256, 8192, 5e5);
  if (name == "mistral-7b") {
    ModelConfig m = llama_shape("mistral-7b", 32, 4096, 32, 8, 14336, 32000, 32768, 1e4);
    m.architecture = "mistral";
    m.sliding_window = 4096;
    return m;
  }
  std::string known;
  for (const auto& n : synthetic_model_names()) known += (known.empty() ? "" : ", ") + n;
  return make_error(fmt::format("unknown synthetic model '{}' (known: {})", name, known), 2);
}

Status write_synthetic_trace(const std::string& path, const SyntheticTraceOptions& options) {
  SQZ_TRY(model, synthetic_model(options.model));
  SQZ_CHECK(model.validate());
  const std::string tmp = path + ".tmp";
  auto remove_with_companions = [](const std::string& file) {
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(file + suffix, ignored);
    }
  };
  auto write_all = [&]() -> Status {
    Rng rng(options.seed);
    SQZ_TRY(writer, TraceWriter::create(tmp, /*overwrite=*/true));
    SQZ_CHECK(writer.write_meta(synthetic_meta(model, options)));
    SQZ_TRY(similarity, write_prompts(writer, model, rng));
    SQZ_CHECK(writer.add_calibration(calibration_points(model, rng, options.roofline)));
    return write_runs(writer, model, similarity, rng, options.roofline);
  };  // the writer closes on return, folding its WAL back into the file before the rename
  if (Status written = write_all(); !written.ok()) {
    remove_with_companions(tmp);
    return written;
  }
  // A stale -wal beside `path` would be replayed into the new file: clear it first.
  remove_with_companions(path);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    remove_with_companions(tmp);
    return make_error(fmt::format("cannot move {} to {}: {}", tmp, path, ec.message()));
  }
  return {};
}

}  // namespace squeeze::core
