#pragma once
// Capture driver of the CUDA backend: measured runs (policy x budget x p x batch -> tokens/s,
// per-step ms, prefill ms, peak and KV bytes), CUPTI kernel records of selected runs, device meta
// (GPU, SMs, memory, driver, measured copy bandwidth), and calibration sweeps (GEMMs over rows,
// decode attention over batch x KV length) for the simulator's cost model. CUDA-free header.

#include <cstdio>
#include <string>
#include <vector>

#include "squeeze/core/model_config.hpp"
#include "squeeze/core/result.hpp"

namespace squeeze::profiler {

struct CudaCaptureOptions {
  // A model file/directory for load_model(), or "random:<shape>" with shape llama-2-7b
  // (32 KV heads) or llama-2-7b-gqa (8 KV heads): random bf16 weights generated on the device.
  std::string model = "random:llama-2-7b";
  std::string output;                          // .sqz trace, overwritten
  std::vector<std::string> policies = {"full"};
  std::vector<int> budgets = {0};              // uniform budget B in tokens (ignored by full)
  std::vector<double> ps = {1.0};              // SqueezeAttention p (1 = uniform budgets)
  std::vector<int> batches = {1};
  int prompt_len = 512;
  int gen_tokens = 32;
  int kernel_runs = 1;       // the first N runs are repeated with CUPTI on, kernels recorded
  bool calibrate = false;    // also write the calibration table
  unsigned seed = 1;
  // Per-layer mean similarity of a real model (e.g. from a CPU capture's trace), any depth:
  // resampled to the model's layers by relative depth, and with p < 1 turned into explicit layer
  // budgets through core::squeeze_budgets. Random weights have no meaningful similarities of
  // their own, so squeeze timings need this. Empty: the engine's online similarities.
  std::vector<double> layer_similarity;
  std::string similarity_source;  // where layer_similarity came from, recorded in the trace notes
};

// Linear interpolation of a profile at relative depth j / (n_layers - 1) (same length: unchanged).
[[nodiscard]] std::vector<double> resample_profile(const std::vector<double>& profile, int n_layers);

// Writes the trace; progress lines go to `log`.
[[nodiscard]] core::Status run_cuda_capture(const CudaCaptureOptions& options, std::FILE* log);

// Calibration only: GEMM (rows 1..512) and decode-attention (batch x KV length) timings for the
// model's shapes, appended to an existing trace (or a new one).
[[nodiscard]] core::Status run_cuda_calibrate(const core::ModelConfig& model,
                                              const std::string& output, std::FILE* log);

// Named random-weight shapes ("llama-2-7b", "llama-2-7b-gqa").
[[nodiscard]] core::Result<core::ModelConfig> random_model_shape(const std::string& name);

}  // namespace squeeze::profiler
