#pragma once
// CUPTI kernel capture, the one module that talks to CUPTI (DESIGN.md §3). Activity API with
// CONCURRENT_KERNEL and MEMCPY records; every op the CUDA engine launches is bracketed by an
// external correlation id (pushed in OpObserver::begin, popped in end), so each kernel record —
// cuBLASLt's included — is attributed to (run, step, layer, op). Records arrive in CUPTI's
// buffer-completed callback; dropped records are counted and reported, never hidden.
// One capture may be active per process (CUPTI's callbacks are process-wide).

#include <cstdint>
#include <memory>
#include <vector>

#include "squeeze/core/result.hpp"
#include "squeeze/core/trace_types.hpp"
#include "squeeze/profiler/cuda/cuda_engine.hpp"

namespace squeeze::profiler {

class CuptiCapture : public OpObserver {
 public:
  // Enables the activity kinds and registers the buffer callbacks.
  [[nodiscard]] static core::Result<std::unique_ptr<CuptiCapture>> start();
  ~CuptiCapture() override;

  void set_run(std::int64_t run_id) { run_id_ = run_id; }
  void begin(int step, int layer, const char* op) override;
  void end() override;

  // Flushes CUPTI's buffers and returns every record completed since the last call, attributed
  // through the external correlation ids (records outside any op: step -1, op "other").
  [[nodiscard]] core::Result<std::vector<core::KernelRecord>> collect();
  [[nodiscard]] std::int64_t dropped_records() const;
  // Stops recording (activity kinds disabled); called by the destructor too.
  void stop();

 private:
  CuptiCapture() = default;
  struct Tag {
    std::int64_t run_id;
    int step, layer;
    const char* op;
  };
  std::int64_t run_id_ = 0;
  std::vector<Tag> tags_;  // external id - 1 -> tag
  bool active_ = false;
};

}  // namespace squeeze::profiler
