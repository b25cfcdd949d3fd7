#include "trace_synthetic_ops.hpp"

#include <algorithm>
#include <cmath>

#include "squeeze/core/trace_types.hpp"

namespace squeeze::core::synthetic {
namespace {

constexpr double kBf16Bytes = 2.0;

int ceil_div(std::int64_t a, std::int64_t b) { return static_cast<int>((a + b - 1) / b); }

// Bandwidth-bound elementwise kernel touching `bytes`.
double elementwise_us(double bytes, const SyntheticRoofline& r) { return r.duration_us(bytes, 0); }

// cuBLAS-looking names, so the timeline resembles a real capture (and says what it is).
std::string gemm_kernel_name(int rows) {
  return rows <= 64 ? "synthetic_sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize64x64x64_splitk"
                    : "synthetic_sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64";
}

SyntheticKernel gemm_kernel(const char* op, int layer, int rows, int n, int k,
                            const SyntheticRoofline& r) {
  const int tile = rows <= 64 ? 64 : 128;
  return SyntheticKernel{op,
                         gemm_kernel_name(rows),
                         layer,
                         gemm_us(rows, n, k, r),
                         {ceil_div(n, tile), ceil_div(rows, tile), 1},
                         {384, 1, 1}};
}

}  // namespace

double base_similarity(int layer, int n_layers) {
  const double x = n_layers > 1 ? static_cast<double>(layer) / (n_layers - 1) : 0.0;
  if (layer == 0) return 0.62;
  if (layer == 1) return 0.74;
  if (layer == 2) return 0.83;
  if (layer == n_layers - 1) return 0.93;
  // Two early layers that matter more than their neighbours (the paper's "a few others").
  if (layer == static_cast<int>(std::lround(0.15 * n_layers))) return 0.80;
  if (layer == static_cast<int>(std::lround(0.28 * n_layers))) return 0.84;
  if (x < 0.5) return 0.86 + 0.08 * (x / 0.5);
  return 0.955 + 0.02 * ((x - 0.5) / 0.5);
}

double gemm_us(int rows, int n, int k, const SyntheticRoofline& r) {
  const double m = rows;
  const double bytes = kBf16Bytes * (double(n) * k + m * k + m * n);
  const double flops = 2.0 * m * n * k;
  return r.duration_us(bytes, flops);
}

double decode_attention_us(int batch, int kv_len, const ModelConfig& m,
                           const SyntheticRoofline& r) {
  const double b = batch;
  const double kv_bytes = b * kv_len * 2.0 * m.n_kv_heads * m.head_dim * kBf16Bytes;  // K and V
  const double qo_bytes = b * 2.0 * m.n_heads * m.head_dim * kBf16Bytes;
  const double flops = 4.0 * b * m.n_heads * double(kv_len) * m.head_dim;  // QK^T and PV
  return r.duration_us(kv_bytes + qo_bytes, flops);
}

double prefill_attention_us(int batch, int seq_len, const ModelConfig& m,
                            const SyntheticRoofline& r) {
  const double b = batch;
  const double s = seq_len;
  const double bytes = b * s * (2.0 * m.q_dim() + 2.0 * m.kv_dim()) * kBf16Bytes;
  const double flops = 2.0 * b * m.n_heads * s * s * m.head_dim;  // causal: half of 4 b h s^2 d
  return r.duration_us(bytes, flops);
}

std::vector<GemmOp> model_gemms(const ModelConfig& m) {
  return {{trace_op::kQkv, m.q_dim() + 2 * m.kv_dim(), m.hidden},
          {trace_op::kOProj, m.hidden, m.q_dim()},
          {trace_op::kGateUp, 2 * m.intermediate, m.hidden},
          {trace_op::kDown, m.hidden, m.intermediate},
          {trace_op::kLmHead, m.vocab, m.hidden}};
}

std::vector<SyntheticKernel> step_kernels(const ModelConfig& m, const StepShape& step,
                                          const SyntheticRoofline& r) {
  const int tokens = step.prefill ? step.batch * step.prompt_len : step.batch;
  const double act_bytes = double(tokens) * m.hidden * kBf16Bytes;
  const int threads = 256;
  std::vector<SyntheticKernel> out;
  out.push_back({trace_op::kEmbed,
                 "synthetic_squeeze::embedding_kernel<bf16>",
                 -1,
                 elementwise_us(2 * act_bytes, r),
                 {tokens, 1, 1},
                 {threads, 1, 1}});
  const auto gemms = model_gemms(m);
  for (int layer = 0; layer < m.n_layers; ++layer) {
    out.push_back({trace_op::kRmsNorm,
                   "synthetic_squeeze::rmsnorm_kernel<bf16>",
                   layer,
                   elementwise_us(2 * act_bytes, r),
                   {tokens, 1, 1},
                   {threads, 1, 1}});
    out.push_back(gemm_kernel(trace_op::kQkv, layer, tokens, gemms[0].n, gemms[0].k, r));
    out.push_back(
        {trace_op::kRope,
         "synthetic_squeeze::rope_append_kv_kernel<bf16>",
         layer,
         elementwise_us(double(tokens) * (m.q_dim() + 2 * m.kv_dim()) * 2 * kBf16Bytes, r),
         {tokens, m.n_heads + m.n_kv_heads, 1},
         {m.head_dim / 2, 1, 1}});
    if (step.prefill) {
      out.push_back({trace_op::kPrefillAttention,
                     "synthetic_squeeze::prefill_attention_kernel<128>",
                     layer,
                     prefill_attention_us(step.batch, step.prompt_len, m, r),
                     {ceil_div(step.prompt_len, 64), m.n_heads, step.batch},
                     {128, 1, 1}});
    } else {
      const int kv_len = step.kv_lens[static_cast<std::size_t>(layer)];
      out.push_back({trace_op::kDecodeAttention,
                     "synthetic_squeeze::decode_attention_split_kv<128>",
                     layer,
                     decode_attention_us(step.batch, kv_len, m, r),
                     {m.n_kv_heads, step.batch, std::max(1, ceil_div(kv_len, 512))},
                     {128, 1, 1}});
      if (step.h2o) {
        out.push_back({trace_op::kH2oEvict,
                       "synthetic_squeeze::h2o_score_evict_kernel",
                       layer,
                       elementwise_us(double(step.batch) * m.n_kv_heads * kv_len * 8.0, r),
                       {m.n_kv_heads, step.batch, 1},
                       {threads, 1, 1}});
      }
    }
    out.push_back(gemm_kernel(trace_op::kOProj, layer, tokens, gemms[1].n, gemms[1].k, r));
    out.push_back({trace_op::kSimilarity,
                   "synthetic_squeeze::residual_add_cosine_kernel<bf16>",
                   layer,
                   elementwise_us(3 * act_bytes, r),
                   {tokens, 1, 1},
                   {threads, 1, 1}});
    out.push_back({trace_op::kRmsNorm,
                   "synthetic_squeeze::rmsnorm_kernel<bf16>",
                   layer,
                   elementwise_us(2 * act_bytes, r),
                   {tokens, 1, 1},
                   {threads, 1, 1}});
    out.push_back(gemm_kernel(trace_op::kGateUp, layer, tokens, gemms[2].n, gemms[2].k, r));
    out.push_back({trace_op::kSwiglu,
                   "synthetic_squeeze::swiglu_kernel<bf16>",
                   layer,
                   elementwise_us(double(tokens) * m.intermediate * 3 * kBf16Bytes, r),
                   {ceil_div(std::int64_t(tokens) * m.intermediate, threads), 1, 1},
                   {threads, 1, 1}});
    out.push_back(gemm_kernel(trace_op::kDown, layer, tokens, gemms[3].n, gemms[3].k, r));
  }
  out.push_back({trace_op::kRmsNorm,
                 "synthetic_squeeze::rmsnorm_kernel<bf16>",
                 -1,
                 elementwise_us(2 * act_bytes, r),
                 {tokens, 1, 1},
                 {threads, 1, 1}});
  // Only the last position of each sequence reaches the LM head.
  out.push_back(gemm_kernel(trace_op::kLmHead, -1, step.batch, gemms[4].n, gemms[4].k, r));
  out.push_back({trace_op::kSample,
                 "synthetic_squeeze::greedy_sample_kernel",
                 -1,
                 elementwise_us(double(step.batch) * m.vocab * 4.0, r),
                 {step.batch, 1, 1},
                 {1024, 1, 1}});
  return out;
}

}  // namespace squeeze::core::synthetic
