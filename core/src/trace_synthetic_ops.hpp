#pragma once
// The pieces of the synthetic trace (trace_synthetic.hpp): a portable deterministic RNG, the
// similarity shape, and the kernels of one step priced by the stated roofline. Private to core.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "squeeze/core/model_config.hpp"
#include "squeeze/core/trace_synthetic.hpp"

namespace squeeze::core::synthetic {

// std::mt19937_64's sequence is fixed by the standard; std's distributions are not, so the
// uniform mapping is done here to keep traces identical across standard libraries.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double symmetric(double half_width) { return half_width * (2.0 * uniform() - 1.0); }
  int uniform_int(int lo, int hi) { return lo + static_cast<int>(uniform() * (hi - lo + 1)); }

 private:
  std::mt19937_64 engine_;
};

// Mean cosine similarity of layer `layer` of `n_layers`, before per-prompt noise: low for the
// first layers and two early "important" ones, rising through the first half, 0.955-0.975 in the
// second half (SqueezeAttention, Fig. 2).
[[nodiscard]] double base_similarity(int layer, int n_layers);

// One kernel of a step, priced without noise.
struct SyntheticKernel {
  std::string op;
  std::string name;
  int layer = -1;
  double duration_us = 0;
  int grid[3] = {1, 1, 1};
  int block[3] = {1, 1, 1};
};

// What a step looks like: prefill over `batch` x `prompt_len` tokens (step 0), or one decode step
// where layer l attends over kv_lens[l] cached tokens.
struct StepShape {
  int batch = 1;
  int prompt_len = 0;  // prefill only
  bool prefill = false;
  bool h2o = false;          // adds the H2O scoring/eviction kernel per layer
  std::vector<int> kv_lens;  // (n_layers), decode only
};

[[nodiscard]] std::vector<SyntheticKernel> step_kernels(const ModelConfig& model,
                                                        const StepShape& step,
                                                        const SyntheticRoofline& roofline);

// Roofline costs of the calibrated ops (microseconds, noise-free).
[[nodiscard]] double gemm_us(int rows, int n, int k, const SyntheticRoofline& r);
[[nodiscard]] double decode_attention_us(int batch, int kv_len, const ModelConfig& m,
                                         const SyntheticRoofline& r);
[[nodiscard]] double prefill_attention_us(int batch, int seq_len, const ModelConfig& m,
                                          const SyntheticRoofline& r);

// The model's GEMMs as (op, n, k).
struct GemmOp {
  const char* op;
  int n;
  int k;
};
[[nodiscard]] std::vector<GemmOp> model_gemms(const ModelConfig& m);

}  // namespace squeeze::core::synthetic
