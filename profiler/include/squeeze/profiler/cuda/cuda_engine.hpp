#pragma once
// The CUDA backend of profiler::Engine (DESIGN.md §3): bf16 weights and KV cache, fp32
// accumulation, cuBLASLt GEMMs and the kernels in profiler/cuda/kernels/. CUDA-free header, so
// the command-line front end can name it without the toolkit's headers.
//
// Batching: the sequences prefilled together by one prefill() call form a batch group; their KV
// cache lives in one arena per layer, (batch, kv_heads, capacity_l, head_dim) bf16 for K and for
// V, with capacity_l = the largest budget any of them has in layer l (policy full: the longest
// prompt plus `decode_reserve`, grown by doubling). Every arena is its own cudaMalloc, so memory
// really follows the layer budgets. decode() takes exactly one group's sequences, in any order.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "squeeze/core/result.hpp"
#include "squeeze/profiler/engine.hpp"
#include "squeeze/profiler/model_weights.hpp"

namespace squeeze::profiler {

struct CudaEngineOptions {
  int device = 0;
  // Weights: from ModelWeights (fp32, converted to bf16 on upload), or, when random_weights is
  // set, generated on the device for `weights.config` alone (timing runs of 7B-class shapes
  // without a checkpoint). Random weights give meaningless tokens but real kernel times.
  bool random_weights = false;
  std::uint64_t seed = 1;
  int decode_reserve = 256;   // full policy: decode slots allocated beyond the longest prompt
  int max_prefill_tokens = 0; // activation workspace; 0: grow to the largest prefill seen
};

// Device memory as the engine sees it.
struct CudaMemoryStats {
  std::int64_t weights_bytes = 0;
  std::int64_t kv_bytes = 0;          // KV arenas (K, V, positions, scores) allocated now
  std::int64_t workspace_bytes = 0;   // activations, attention workspace, cuBLASLt
  std::int64_t allocated_bytes = 0;   // everything the engine holds now
  std::int64_t peak_allocated_bytes = 0;
  std::int64_t device_free_bytes = 0;   // cudaMemGetInfo
  std::int64_t device_total_bytes = 0;
};

// Around every op the engine calls begin(step, layer, op) and end() on the host thread that
// launches it, so a profiler can tag the kernels in between (CUPTI external correlation ids).
// step: 0 prefill, k >= 1 the k-th decode call since reset_step_counter(); layer -1 for none.
class OpObserver {
 public:
  virtual ~OpObserver() = default;
  virtual void begin(int step, int layer, const char* op) = 0;
  virtual void end() = 0;
};

class CudaEngine : public Engine {
 public:
  // Extras for timing runs, beyond the Engine interface.
  // Greedy decode with the argmax on the device: returns one token per sequence and copies only
  // those ids back (decode() copies the whole (batch, vocab) logits).
  [[nodiscard]] virtual core::Result<std::vector<int>> decode_greedy(
      std::span<const SequenceId> ids, std::span<const int> tokens) = 0;
  // Blocks until the device has finished the work queued so far.
  [[nodiscard]] virtual core::Status synchronize() = 0;
  [[nodiscard]] virtual CudaMemoryStats memory() const = 0;
  virtual void reset_peak_memory() = 0;
  virtual void set_observer(OpObserver* observer) = 0;  // null: none
  virtual void reset_step_counter() = 0;  // next prefill is step 0
};

// Errors: no CUDA device, a model the kernels do not cover (head_dim not a power of two in
// 8..256, more than 8 query heads per KV head), out of device memory (names what did not fit,
// the bytes asked for and the bytes free).
[[nodiscard]] core::Result<std::unique_ptr<CudaEngine>> make_cuda_engine(
    ModelWeights weights, const CudaEngineOptions& options = {});

}  // namespace squeeze::profiler
