#pragma once
// Everything the simulator reads from a trace, as plain values, plus the two ways a model can be
// given: the trace's own config or a Hugging Face config.json of a model never run here.

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "squeeze/core/model_config.hpp"
#include "squeeze/core/result.hpp"
#include "squeeze/core/trace_types.hpp"

namespace squeeze::sim {

struct SimInput {
  std::string trace_path;
  core::ModelConfig model;                       // the profiled model
  std::string gpu_name;                          // meta gpu_name, or the calibration's device
  bool synthetic = false;
  std::vector<core::CalibrationPoint> calibration;
  std::vector<core::RunRecord> runs;             // measured runs with status "ok"
  // Every run the capture attempted that reached the engine (status "ok" or "oom"), in capture
  // (id) order: the engine's grow-only workspace depends on them (engine_history.hpp).
  std::vector<core::RunRecord> attempted_runs;
  std::set<std::int64_t> kernel_rerun_ids;       // runs repeated with CUPTI kernel recording
  std::int64_t gpu_memory_bytes = 0;             // meta gpu_memory_bytes; 0 unknown
  std::vector<double> layer_similarity;          // (profiled layers) mean over prompts
  int similarity_prompts = 0;
};

// Errors name the trace and what is missing (no model config, no calibration points).
[[nodiscard]] core::Result<SimInput> load_sim_input(const std::string& trace_path);

// Per-layer mean over prompts, NaN (missing) entries skipped.
[[nodiscard]] std::vector<double> mean_similarity(const core::SimilarityMatrix& m);

// A similarity profile of another depth: target layer j sits at relative depth j / (L' - 1) and
// takes the linear interpolation of the source profile there. Same length: unchanged.
[[nodiscard]] std::vector<double> resample_by_depth(std::span<const double> profile, int n_layers);

// Reads the fields a planner needs from a Hugging Face config.json (hidden_size,
// num_hidden_layers, num_attention_heads, num_key_value_heads, intermediate_size, vocab_size,
// head_dim, tie_word_embeddings, torch_dtype). Errors (code 2) name the file and the field.
[[nodiscard]] core::Result<core::ModelConfig> load_hf_config(const std::string& path);

}  // namespace squeeze::sim
