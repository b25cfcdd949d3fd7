#pragma once
// Linear layers through cuBLASLt: Y (rows, out) = X (rows, in) · Wᵀ with W row-major (out, in),
// bf16 operands, fp32 accumulation, bf16 or fp32 output. Algorithms are chosen once per shape
// by cuBLASLt's heuristic and cached.

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "squeeze/core/result.hpp"

namespace squeeze::cuda {

enum class GemmOut { BF16, F32 };

class LtGemm {
 public:
  LtGemm() = default;
  LtGemm(const LtGemm&) = delete;
  LtGemm& operator=(const LtGemm&) = delete;
  LtGemm(LtGemm&& other) noexcept;
  LtGemm& operator=(LtGemm&& other) noexcept;
  ~LtGemm();

  [[nodiscard]] static core::Result<LtGemm> create(size_t workspace_bytes = 32u << 20);

  // y = x · wᵀ (beta = 0), or y += x · wᵀ when accumulate (fp32 output only).
  [[nodiscard]] cudaError_t linear(const __nv_bfloat16* x,  // (rows, in)
                                   const __nv_bfloat16* w,  // (out, in)
                                   void* y,                 // (rows, out) bf16 or fp32
                                   GemmOut out_type, int rows, int in, int out,
                                   cudaStream_t stream, bool accumulate = false);

  // Last cuBLAS status that was not success, for error messages.
  [[nodiscard]] std::string last_error() const { return last_error_; }

 private:
  struct Plan {
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
    cublasLtMatmulAlgo_t algo{};
  };
  cudaError_t plan_for(GemmOut out_type, int rows, int in, int out, Plan*& plan);
  void release();

  cublasLtHandle_t handle_ = nullptr;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
  std::map<std::tuple<int, int, int, int>, Plan> plans_;
  std::string last_error_;
};

}  // namespace squeeze::cuda
