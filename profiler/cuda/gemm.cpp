#include "gemm.hpp"

#include <fmt/format.h>

#include <utility>

namespace squeeze::cuda {

namespace {
// cublasGetStatusString lives in libcublas, which nothing else here needs.
std::string lt_status_name(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "cublas status " + std::to_string(static_cast<int>(s));
  }
}
}  // namespace

LtGemm::LtGemm(LtGemm&& other) noexcept { *this = std::move(other); }

LtGemm& LtGemm::operator=(LtGemm&& other) noexcept {
  if (this != &other) {
    release();
    handle_ = std::exchange(other.handle_, nullptr);
    workspace_ = std::exchange(other.workspace_, nullptr);
    workspace_bytes_ = std::exchange(other.workspace_bytes_, 0);
    plans_ = std::move(other.plans_);
    other.plans_.clear();
  }
  return *this;
}

LtGemm::~LtGemm() { release(); }

void LtGemm::release() {
  for (auto& [key, p] : plans_) {
    cublasLtMatmulDescDestroy(p.op);
    cublasLtMatrixLayoutDestroy(p.a);
    cublasLtMatrixLayoutDestroy(p.b);
    cublasLtMatrixLayoutDestroy(p.c);
  }
  plans_.clear();
  if (workspace_ != nullptr) cudaFree(workspace_);
  if (handle_ != nullptr) cublasLtDestroy(handle_);
  workspace_ = nullptr;
  handle_ = nullptr;
}

core::Result<LtGemm> LtGemm::create(size_t workspace_bytes) {
  LtGemm g;
  if (cublasStatus_t s = cublasLtCreate(&g.handle_); s != CUBLAS_STATUS_SUCCESS)
    return core::make_error(fmt::format("cublasLtCreate failed: {}", lt_status_name(s)));
  if (cudaError_t e = cudaMalloc(&g.workspace_, workspace_bytes); e != cudaSuccess)
    return core::make_error(fmt::format("cuBLASLt workspace: cudaMalloc of {} bytes failed: {}",
                                        workspace_bytes, cudaGetErrorString(e)));
  g.workspace_bytes_ = workspace_bytes;
  return core::Result<LtGemm>(std::move(g));
}

// Row-major Y(rows, out) = X(rows, in) W^T is column-major Y^T(out, rows) = W^T... in cuBLAS
// terms: A = W seen column-major (in, out) transposed, B = X seen column-major (in, rows).
cudaError_t LtGemm::plan_for(GemmOut out_type, int rows, int in, int out, Plan*& plan) {
  const auto key = std::make_tuple(static_cast<int>(out_type), rows, in, out);
  if (auto it = plans_.find(key); it != plans_.end()) {
    plan = &it->second;
    return cudaSuccess;
  }
  Plan p;
  const cudaDataType_t ctype = out_type == GemmOut::F32 ? CUDA_R_32F : CUDA_R_16BF;
  auto fail = [&](cublasStatus_t s, const char* what) {
    last_error_ = fmt::format("cuBLASLt {} ({}x{}x{}): {}", what, rows, in, out, lt_status_name(s));
    if (p.op) cublasLtMatmulDescDestroy(p.op);
    if (p.a) cublasLtMatrixLayoutDestroy(p.a);
    if (p.b) cublasLtMatrixLayoutDestroy(p.b);
    if (p.c) cublasLtMatrixLayoutDestroy(p.c);
    return cudaErrorUnknown;
  };
  cublasStatus_t s = cublasLtMatmulDescCreate(&p.op, CUBLAS_COMPUTE_32F, CUDA_R_32F);
  if (s != CUBLAS_STATUS_SUCCESS) return fail(s, "desc");
  const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta));
  cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb));
  if ((s = cublasLtMatrixLayoutCreate(&p.a, CUDA_R_16BF, in, out, in)) != CUBLAS_STATUS_SUCCESS)
    return fail(s, "layout A");
  if ((s = cublasLtMatrixLayoutCreate(&p.b, CUDA_R_16BF, in, rows, in)) != CUBLAS_STATUS_SUCCESS)
    return fail(s, "layout B");
  if ((s = cublasLtMatrixLayoutCreate(&p.c, ctype, out, rows, out)) != CUBLAS_STATUS_SUCCESS)
    return fail(s, "layout C");
  cublasLtMatmulPreference_t pref = nullptr;
  cublasLtMatmulPreferenceCreate(&pref);
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                       &workspace_bytes_, sizeof(workspace_bytes_));
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  s = cublasLtMatmulAlgoGetHeuristic(handle_, p.op, p.a, p.b, p.c, p.c, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  if (s != CUBLAS_STATUS_SUCCESS || found == 0)
    return fail(s != CUBLAS_STATUS_SUCCESS ? s : CUBLAS_STATUS_NOT_SUPPORTED, "heuristic");
  p.algo = result.algo;
  plan = &plans_.emplace(key, p).first->second;
  return cudaSuccess;
}

cudaError_t LtGemm::linear(const __nv_bfloat16* x, const __nv_bfloat16* w, void* y,
                           GemmOut out_type, int rows, int in, int out, cudaStream_t stream,
                           bool accumulate) {
  if (rows <= 0) return cudaSuccess;
  if (accumulate && out_type != GemmOut::F32) return cudaErrorInvalidValue;
  Plan* p = nullptr;
  if (cudaError_t e = plan_for(out_type, rows, in, out, p); e != cudaSuccess) return e;
  const float alpha = 1.f, beta = accumulate ? 1.f : 0.f;
  const cublasStatus_t s = cublasLtMatmul(handle_, p->op, &alpha, w, p->a, x, p->b, &beta, y, p->c,
                                          y, p->c, &p->algo, workspace_, workspace_bytes_, stream);
  if (s != CUBLAS_STATUS_SUCCESS) {
    last_error_ = fmt::format("cublasLtMatmul ({}x{}x{}): {}", rows, in, out, lt_status_name(s));
    return cudaErrorUnknown;
  }
  return cudaSuccess;
}

}  // namespace squeeze::cuda
