#pragma once
// Plain records of a squeeze trace (.sqz, DESIGN.md §4, traces/FORMAT.md). One struct per table,
// free of SQLite so the profiler, simulator and GUI can pass them around as values.
//
// Units are in the field names or comments: *_ns nanoseconds, *_us microseconds, *_ms
// milliseconds, *_bytes bytes. Step numbering, shared by run_steps and kernels: step 0 is the
// prefill, step k >= 1 is the k-th decode step (one token per sequence of the batch).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "squeeze/core/model_config.hpp"

namespace squeeze::core {

// PRAGMA user_version of the files this build writes, and the newest it can read.
inline constexpr int kTraceFormatVersion = 1;
// PRAGMA application_id of every squeeze trace: ASCII "SQZT". Foreign SQLite files lack it.
inline constexpr std::int32_t kTraceApplicationId = 0x53515A54;

// Canonical op names for kernels.op and calibration.op. Engines may add others; the simulator
// only prices the ones it knows.
namespace trace_op {
inline constexpr const char* kEmbed = "embed";
inline constexpr const char* kRmsNorm = "rmsnorm";
inline constexpr const char* kQkv = "qkv";                 // GEMM hidden -> q_dim + 2 kv_dim
inline constexpr const char* kRope = "rope";               // RoPE + KV cache append
inline constexpr const char* kPrefillAttention = "prefill_attention";
inline constexpr const char* kDecodeAttention = "decode_attention";
inline constexpr const char* kOProj = "o_proj";            // GEMM q_dim -> hidden
inline constexpr const char* kGateUp = "gate_up";          // GEMM hidden -> 2 intermediate
inline constexpr const char* kSwiglu = "swiglu";
inline constexpr const char* kDown = "down";               // GEMM intermediate -> hidden
inline constexpr const char* kLmHead = "lm_head";          // GEMM hidden -> vocab
inline constexpr const char* kSimilarity = "similarity";   // cosine(x_l, y_l), fused residual add
inline constexpr const char* kH2oEvict = "h2o_evict";
inline constexpr const char* kSample = "sample";
inline constexpr const char* kMemcpy = "memcpy";
inline constexpr const char* kOther = "other";
}  // namespace trace_op

// Table meta: one value per key. Known keys are fields; anything else lands in `extra` and is
// written back unchanged, so newer writers' keys survive a round trip through older code.
struct TraceMeta {
  std::string tool;          // "squeeze-profile", "squeeze-sim synth"
  std::string tool_version;  // e.g. "0.1.0"
  std::string created_utc;   // ISO 8601, "2026-11-23T04:40:00Z"
  std::string host;
  std::string device_kind;   // "cpu", "cuda" or "synthetic"
  std::string gpu_name;      // "NVIDIA H100 80GB HBM3"; empty on cpu
  int sm_count = 0;
  std::int64_t gpu_memory_bytes = 0;
  std::string driver;        // driver / CUDA runtime versions as text
  double copy_bandwidth_bytes_per_s = 0;  // measured device-to-device copy bandwidth; 0 unknown
  std::optional<ModelConfig> model;       // stored as JSON (model_config_to_json)
  std::string model_source;               // path or hub id the weights came from
  std::string notes;                      // free text; synthetic traces say "synthetic"
  std::map<std::string, std::string> extra;
};

// Table prompts. Derived numbers only: never the text of a third-party data set.
struct PromptRecord {
  std::int64_t id = 0;  // assigned by TraceWriter::add_prompt
  std::string dataset;  // "wikitext-2", "synthetic", ...
  std::string label;    // e.g. "sample-017"
  int token_count = 0;
};

// Table layer_similarity, read back as a matrix: rows are the prompts that have similarities (in
// prompt id order), columns
// are layers. value(r, l) = mean over prompt positions of cos(x_l, y_l) (DESIGN.md §2). A missing
// (prompt, layer) pair reads as NaN.
struct SimilarityMatrix {
  std::vector<std::int64_t> prompt_ids;  // (rows)
  int n_layers = 0;
  std::vector<double> values;            // (rows, n_layers), row-major
  [[nodiscard]] int rows() const { return static_cast<int>(prompt_ids.size()); }
  [[nodiscard]] double value(int row, int layer) const {
    return values[static_cast<std::size_t>(row) * static_cast<std::size_t>(n_layers) +
                  static_cast<std::size_t>(layer)];
  }
};

// How a run's uniform budget B was given (DESIGN.md §2).
enum class BudgetUnit { None, Fraction, Tokens };  // None: full cache
[[nodiscard]] const char* budget_unit_name(BudgetUnit unit);  // "none", "fraction", "tokens"
[[nodiscard]] Result<BudgetUnit> parse_budget_unit(const std::string& name);

// Table runs: one measured generation run.
struct RunRecord {
  std::int64_t id = 0;       // assigned by TraceWriter::add_run
  std::string label;         // "h2o-0.2-squeeze-b8"
  std::string policy;        // policy_name(): "full", "window", "streaming", "h2o"
  BudgetUnit budget_unit = BudgetUnit::None;
  double budget_value = 0;   // fraction of prompt_len, or tokens per layer (uniform B)
  double p = 0;              // SqueezeAttention fraction for the unimportant cluster; 0 = uniform
  std::vector<int> layer_budgets;  // (n_layers) tokens kept per sequence; empty = full cache
  int batch = 1;
  int prompt_len = 0;        // tokens per sequence
  int gen_len = 0;           // generated tokens per sequence
  std::string mode = "online";  // "online" or "calibrated"
  // Measurements; 0 where not measured.
  double tokens_per_s = 0;   // generated tokens of the whole batch per second of decode
  double prefill_ms = 0;
  double decode_step_ms_mean = 0;
  std::int64_t peak_bytes = 0;     // peak device memory during the run
  std::int64_t kv_bytes = 0;       // KV cache bytes allocated (all layers, whole batch)
  std::int64_t weights_bytes = 0;
  std::string status = "ok";       // "ok", "running" (not finished), "oom", or "failed: why"
};

// Table run_steps: wall time of each step of a run (step 0 = prefill).
struct RunStep {
  std::int64_t run_id = 0;
  int step = 0;
  double ms = 0;
};

// Table kernels: one CUPTI kernel (or memcpy) record.
struct KernelRecord {
  std::int64_t run_id = 0;
  int step = 0;              // -1 when outside any step (warm-up, setup)
  int layer = -1;            // decoder layer, -1 for none (embedding, lm_head, sampling)
  std::string op;            // trace_op::*
  std::string name;          // demangled kernel name
  std::int64_t start_ns = 0; // GPU timestamp; only differences are meaningful
  std::int64_t duration_ns = 0;
  int grid_x = 0, grid_y = 0, grid_z = 0;
  int block_x = 0, block_y = 0, block_z = 0;
  int stream = 0;
  std::int64_t correlation_id = 0;
};

// Table calibration: one measured (op, shape) -> duration point the cost model is fitted on.
// GEMM ops (qkv, o_proj, gate_up, down, lm_head): rows = M (batch x tokens), n = output features,
// k = input features. decode_attention: batch sequences, each with kv_len cached tokens,
// n_heads / n_kv_heads / head_dim of the model. Unused shape fields are 0.
struct CalibrationPoint {
  std::string op;
  int batch = 0;
  int rows = 0;
  int n = 0;
  int k = 0;
  int kv_len = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  std::string dtype = "bf16";
  double duration_us = 0;    // mean over repetitions
  int repetitions = 0;
  std::string device;        // gpu name, "cpu" or "synthetic-h100"
};

// Table capture_stats: counters about the capture itself (e.g. "cupti_dropped_records").
struct CaptureStat {
  std::optional<std::int64_t> run_id;  // none = whole capture
  std::string name;
  double value = 0;
};

// Row counts, for `squeeze-sim info` and quick checks.
struct TraceCounts {
  std::int64_t prompts = 0;
  std::int64_t similarities = 0;
  std::int64_t runs = 0;
  std::int64_t run_steps = 0;
  std::int64_t kernels = 0;
  std::int64_t calibration = 0;
  std::int64_t capture_stats = 0;
};

}  // namespace squeeze::core
