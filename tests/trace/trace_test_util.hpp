#pragma once
// Shared helpers of the trace tests: a scratch directory per test, records with every field set
// to something distinctive (so a column mix-up shows), and field-by-field comparisons.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "squeeze/core/trace_types.hpp"

namespace squeeze::core::test {

// A fresh directory under the system temp dir, removed when the test ends.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            (std::string("squeeze-trace-") + info->test_suite_name() + "-" + info->name() + "-" +
             std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline ModelConfig sample_model() {
  ModelConfig m;
  m.name = "test-model";
  m.architecture = "qwen2";
  m.n_layers = 4;
  m.hidden = 64;
  m.n_heads = 8;
  m.n_kv_heads = 2;
  m.head_dim = 8;
  m.intermediate = 176;
  m.vocab = 1000;
  m.max_seq = 2048;
  m.rope_theta = 1e6;
  m.rope_scaling.type = "llama3";
  m.rope_scaling.factor = 8;
  m.rope_style = RopeStyle::HalfSplit;
  m.rms_eps = 1e-6;
  m.tied_embeddings = false;
  m.attention_bias = true;
  m.sliding_window = 512;
  m.weight_dtype = DType::F16;
  m.kv_dtype = DType::F32;
  return m;
}

inline TraceMeta sample_meta() {
  TraceMeta meta;
  meta.tool = "squeeze-profile";
  meta.tool_version = "0.1.0";
  meta.created_utc = "2026-11-23T04:00:00Z";
  meta.host = "node-17";
  meta.device_kind = "cuda";
  meta.gpu_name = "NVIDIA H100 80GB HBM3";
  meta.sm_count = 132;
  meta.gpu_memory_bytes = 85'520'809'984;
  meta.driver = "driver 580.65, runtime 13.0";
  meta.copy_bandwidth_bytes_per_s = 1.2345678901234e12;
  meta.model = sample_model();
  meta.model_source = "/models/test";
  meta.notes = "unit test";
  meta.extra["future_key"] = "kept as is";
  return meta;
}

// Record i of a family: fields derived from i so any two records differ in every field.
inline RunRecord sample_run(int i) {
  RunRecord r;
  r.label = "run-" + std::to_string(i);
  r.policy = i % 2 ? "h2o" : "window";
  r.budget_unit = i % 3 == 0 ? BudgetUnit::Tokens : BudgetUnit::Fraction;
  r.budget_value = 0.1 + i;
  r.p = 0.3 + 0.01 * i;
  r.layer_budgets = {100 + i, 50 + i, 25 + i, 12 + i};
  r.batch = 1 + i;
  r.prompt_len = 1000 + i;
  r.gen_len = 100 + i;
  r.mode = i % 2 ? "calibrated" : "online";
  r.tokens_per_s = 1234.5 + i;
  r.prefill_ms = 45.25 + i;
  r.decode_step_ms_mean = 7.125 + i;
  r.peak_bytes = 70'000'000'000LL + i;
  r.kv_bytes = 5'000'000'000LL + i;
  r.weights_bytes = 13'000'000'000LL + i;
  r.status = "ok";
  return r;
}

inline KernelRecord sample_kernel(std::int64_t run_id, int i) {
  KernelRecord k;
  k.run_id = run_id;
  k.step = i / 10;
  k.layer = i % 10 - 1;
  k.op = i % 2 ? "qkv" : "decode_attention";
  k.name = "kernel_" + std::to_string(i % 7);
  k.start_ns = 1'700'000'000'000'000'000LL + 1000LL * i;  // real CUPTI clocks are this large
  k.duration_ns = 500 + i;
  k.grid_x = 1 + i, k.grid_y = 2 + i, k.grid_z = 3 + i;
  k.block_x = 128, k.block_y = 1 + i % 4, k.block_z = 1;
  k.stream = 7 + i % 2;
  k.correlation_id = 10'000 + i;
  return k;
}

inline CalibrationPoint sample_calibration(int i) {
  CalibrationPoint c;
  c.op = i % 2 ? "gate_up" : "decode_attention";
  c.batch = 1 + i;
  c.rows = 2 + i;
  c.n = 3 + i;
  c.k = 4 + i;
  c.kv_len = 5 + i;
  c.n_heads = 6 + i;
  c.n_kv_heads = 7 + i;
  c.head_dim = 8 + i;
  c.dtype = i % 2 ? "bf16" : "f16";
  c.duration_us = 12.5 + i;
  c.repetitions = 20 + i;
  c.device = "NVIDIA H100 80GB HBM3";
  return c;
}

inline void expect_same_model(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.architecture, b.architecture);
  EXPECT_EQ(a.n_layers, b.n_layers);
  EXPECT_EQ(a.hidden, b.hidden);
  EXPECT_EQ(a.n_heads, b.n_heads);
  EXPECT_EQ(a.n_kv_heads, b.n_kv_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_EQ(a.intermediate, b.intermediate);
  EXPECT_EQ(a.vocab, b.vocab);
  EXPECT_EQ(a.max_seq, b.max_seq);
  EXPECT_EQ(a.rope_theta, b.rope_theta);
  EXPECT_EQ(a.rope_scaling.type, b.rope_scaling.type);
  EXPECT_EQ(a.rope_scaling.factor, b.rope_scaling.factor);
  EXPECT_EQ(a.rope_scaling.low_freq_factor, b.rope_scaling.low_freq_factor);
  EXPECT_EQ(a.rope_scaling.high_freq_factor, b.rope_scaling.high_freq_factor);
  EXPECT_EQ(a.rope_scaling.original_max_position, b.rope_scaling.original_max_position);
  EXPECT_EQ(a.rope_style, b.rope_style);
  EXPECT_EQ(a.rms_eps, b.rms_eps);
  EXPECT_EQ(a.tied_embeddings, b.tied_embeddings);
  EXPECT_EQ(a.attention_bias, b.attention_bias);
  EXPECT_EQ(a.sliding_window, b.sliding_window);
  EXPECT_EQ(a.weight_dtype, b.weight_dtype);
  EXPECT_EQ(a.kv_dtype, b.kv_dtype);
}

inline void expect_same_run(const RunRecord& a, const RunRecord& b) {
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.policy, b.policy);
  EXPECT_EQ(a.budget_unit, b.budget_unit);
  EXPECT_EQ(a.budget_value, b.budget_value);
  EXPECT_EQ(a.p, b.p);
  EXPECT_EQ(a.layer_budgets, b.layer_budgets);
  EXPECT_EQ(a.batch, b.batch);
  EXPECT_EQ(a.prompt_len, b.prompt_len);
  EXPECT_EQ(a.gen_len, b.gen_len);
  EXPECT_EQ(a.mode, b.mode);
  EXPECT_EQ(a.tokens_per_s, b.tokens_per_s);
  EXPECT_EQ(a.prefill_ms, b.prefill_ms);
  EXPECT_EQ(a.decode_step_ms_mean, b.decode_step_ms_mean);
  EXPECT_EQ(a.peak_bytes, b.peak_bytes);
  EXPECT_EQ(a.kv_bytes, b.kv_bytes);
  EXPECT_EQ(a.weights_bytes, b.weights_bytes);
  EXPECT_EQ(a.status, b.status);
}

inline void expect_same_kernel(const KernelRecord& a, const KernelRecord& b) {
  EXPECT_EQ(a.run_id, b.run_id);
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.layer, b.layer);
  EXPECT_EQ(a.op, b.op);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.start_ns, b.start_ns);
  EXPECT_EQ(a.duration_ns, b.duration_ns);
  EXPECT_EQ(a.grid_x, b.grid_x);
  EXPECT_EQ(a.grid_y, b.grid_y);
  EXPECT_EQ(a.grid_z, b.grid_z);
  EXPECT_EQ(a.block_x, b.block_x);
  EXPECT_EQ(a.block_y, b.block_y);
  EXPECT_EQ(a.block_z, b.block_z);
  EXPECT_EQ(a.stream, b.stream);
  EXPECT_EQ(a.correlation_id, b.correlation_id);
}

inline void expect_same_calibration(const CalibrationPoint& a, const CalibrationPoint& b) {
  EXPECT_EQ(a.op, b.op);
  EXPECT_EQ(a.batch, b.batch);
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.n, b.n);
  EXPECT_EQ(a.k, b.k);
  EXPECT_EQ(a.kv_len, b.kv_len);
  EXPECT_EQ(a.n_heads, b.n_heads);
  EXPECT_EQ(a.n_kv_heads, b.n_kv_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_EQ(a.dtype, b.dtype);
  EXPECT_EQ(a.duration_us, b.duration_us);
  EXPECT_EQ(a.repetitions, b.repetitions);
  EXPECT_EQ(a.device, b.device);
}

// Similarity of prompt `prompt` (0-based order) at layer `layer`: distinct, exactly representable
// only as doubles (so a float column would show).
inline double sample_similarity(int prompt, int layer) {
  return 0.9 + 0.001 * prompt + 0.0001 * layer + 1e-12 * (prompt + 1);
}

}  // namespace squeeze::core::test
