#pragma once
// Per-op durations fitted from a trace's calibration table (DESIGN.md §5).
//
// Every op is priced as   duration = ideal(shape, gpu) x slowdown(shape point)
// where ideal() is the roofline bound (bytes / bandwidth vs FLOPs / peak) and slowdown = measured
// / ideal on the profiled GPU, interpolated in log-log over the calibration grid. Inside the grid,
// on the profiled GPU and for the profiled shape, the measured durations are interpolated
// directly (exact at grid points). Shapes and GPUs never profiled reuse the measured slowdown:
// a 70B GEMM on an H200 costs its own roofline times the slowdown the 7B GEMM showed at that
// row count on the H100.

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "squeeze/core/result.hpp"
#include "squeeze/core/trace_types.hpp"
#include "squeeze/sim/gpu_spec.hpp"
#include "squeeze/sim/interpolation.hpp"
#include "squeeze/sim/op_shapes.hpp"

namespace squeeze::sim {

// Roofline bounds of the priced ops, in microseconds.
[[nodiscard]] double gemm_ideal_us(int rows, GemmShape shape, int elem_bytes, const GpuSpec& gpu);
[[nodiscard]] double decode_attention_ideal_us(int batch, int kv_len, const AttentionShape& shape,
                                               const GpuSpec& gpu);
[[nodiscard]] double prefill_attention_ideal_us(int batch, int seq_len, const AttentionShape& shape,
                                                const GpuSpec& gpu);

// One GEMM op measured at one (n, k) over several row counts.
struct GemmTable {
  std::string op;
  GemmShape shape;
  LogLogCurve duration_us;  // by rows
  LogLogCurve slowdown;     // measured / ideal, by rows
};

// Attention measured over a (batch, kv_len) grid for one head configuration.
struct AttentionTable {
  AttentionShape shape;
  std::vector<int> batches;                // ascending
  std::vector<LogLogCurve> duration_us;    // (batches) by kv_len
  std::vector<LogLogCurve> slowdown;       // (batches) by kv_len
  [[nodiscard]] bool empty() const { return batches.empty(); }
};

class CostModel {
 public:
  // Fits the tables of `points` (durations measured on `profiled_gpu`). Ops the table lacks fall
  // back to the roofline at a borrowed or default slowdown; notes() says which.
  [[nodiscard]] static core::Result<CostModel> fit(std::span<const core::CalibrationPoint> points,
                                                   const GpuSpec& profiled_gpu);

  [[nodiscard]] double gemm_us(std::string_view op, int rows, GemmShape shape, int elem_bytes,
                               const GpuSpec& gpu) const;
  [[nodiscard]] double decode_attention_us(int batch, int kv_len, const AttentionShape& shape,
                                           const GpuSpec& gpu) const;
  // A batch whose sequences hold different lengths (one kv_len per sequence): each sequence pays
  // its share of a uniform batch at its own length, (1 / B) sum_i f(B, kv_i). Exact when f is
  // linear in kv; never the cost at the mean length, which is wrong where f bends.
  [[nodiscard]] double decode_attention_mixed_us(std::span<const int> kv_lens, const AttentionShape& shape,
                                                 const GpuSpec& gpu) const;
  [[nodiscard]] double prefill_attention_us(int batch, int seq_len, const AttentionShape& shape,
                                            const GpuSpec& gpu) const;
  // Bandwidth-bound kernels (norms, RoPE, SwiGLU, sampling, H2O scoring): bytes moved at the
  // bandwidth efficiency measured on decode attention.
  [[nodiscard]] double memory_bound_us(double bytes, const GpuSpec& gpu) const;
  // Ring all-reduce of `bytes` over tp GPUs: 2 (tp-1)/tp x bytes / link bandwidth + latency.
  [[nodiscard]] double allreduce_us(double bytes, int tp, const GpuSpec& gpu) const;

  // Idle time the GPU spends between two kernels of a step (launch gaps, host sync), fitted on
  // measured runs by the calibrator; 0 until then.
  [[nodiscard]] double launch_gap_us() const { return launch_gap_us_; }
  void set_launch_gap_us(double gap) { launch_gap_us_ = gap; }

  [[nodiscard]] const GpuSpec& profiled_gpu() const { return profiled_gpu_; }
  [[nodiscard]] const std::vector<std::string>& notes() const { return notes_; }
  [[nodiscard]] std::size_t gemm_table_count() const { return gemm_tables_.size(); }
  [[nodiscard]] bool has_decode_attention_table() const { return !decode_attention_.empty(); }

 private:
  [[nodiscard]] const GemmTable* nearest_gemm_table(std::string_view op, GemmShape shape) const;
  [[nodiscard]] double attention_us(const AttentionTable& table, double default_slowdown, int batch,
                                    int kv_len, const AttentionShape& shape, const GpuSpec& gpu,
                                    bool prefill) const;

  GpuSpec profiled_gpu_;
  std::vector<GemmTable> gemm_tables_;
  AttentionTable decode_attention_;
  AttentionTable prefill_attention_;
  double gemm_default_slowdown_ = 1.0 / 0.7;     // no GEMM calibrated at all
  double compute_slowdown_ = 1.0 / 0.6;          // large-rows GEMM: prefill attention fallback
  double bandwidth_slowdown_ = 1.0 / 0.7;        // decode attention at its largest point
  double launch_gap_us_ = 0.0;
  std::vector<std::string> notes_;
};

}  // namespace squeeze::sim
