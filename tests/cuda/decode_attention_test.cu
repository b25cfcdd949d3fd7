// Split-KV decode attention against an fp64 softmax reference: GQA ratios 1..8, head dims
// 8..128, three sequences of different lengths (1, a non-tile length, a length that splits),
// plus the H2O probability outputs accumulated per KV head. Each shape runs with the workspace
// allowing one split (no merge) and 64 (the last CTA of each split sequence merges), on the
// scalar kernel and, where built (head_dim 64/128), the tensor-core one in CTAs of 4 and 8 warps
// and as stream-K (CTAs taking the end of one sequence's keys and the start of the next), and
// the TMA-ring kernel on its split grid and its tail grid (some pairs whole, some cut in pieces;
// also with more pairs than SMs, the case it is for); and the launcher's own choice at pair counts
// around the SM count, where that choice changes.
#include <algorithm>
#include <initializer_list>
#include <limits>
#include <random>
#include <set>

#include "cuda_test_util.hpp"
#include "kernels/decode_attention.cuh"
#include "kernels/kv_select.cuh"

namespace squeeze::cuda::test {
namespace {

struct DecodeCase {
  int head_dim, n_heads, kv_heads;
};

struct DecodeShape {
  int batch, n_heads, kv_heads, head_dim, capacity;
};

struct DecodeInputs {
  std::vector<float> q, k, v;  // bf16 values
};

// Random Q and K/V; slots past each sequence's length hold NaN, as never-written cache may: a
// kernel that lets them into a sum (even times a zero probability) fails.
DecodeInputs random_decode_inputs(const DecodeShape& sh, const std::vector<int32_t>& lens,
                                  std::mt19937& rng) {
  const int hd = sh.head_dim;
  DecodeInputs in;
  in.q = random_bf16_values(size_t(sh.batch) * sh.n_heads * hd, rng, -4.f, 4.f);
  in.k = random_bf16_values(size_t(sh.batch) * sh.kv_heads * sh.capacity * hd, rng);
  in.v = random_bf16_values(in.k.size(), rng);
  for (int b = 0; b < sh.batch; ++b)
    for (int h = 0; h < sh.kv_heads; ++h)
      for (int t = lens[b]; t < sh.capacity; ++t)
        for (int d = 0; d < hd; ++d) {
          const size_t i = ((size_t(b) * sh.kv_heads + h) * sh.capacity + t) * hd + d;
          in.k[i] = in.v[i] = std::numeric_limits<float>::quiet_NaN();
        }
  return in;
}

// fp64 softmax attention of every query head over its sequence's keys; where h2o_scores is
// given, each key's probability is added to its KV head's score (the H2O accumulation).
std::vector<double> reference_decode(const DecodeShape& sh, const DecodeInputs& in,
                                     const std::vector<int32_t>& lens, float scale,
                                     std::vector<double>* h2o_scores) {
  const int hd = sh.head_dim, group = sh.n_heads / sh.kv_heads;
  std::vector<double> out(in.q.size());
  for (int b = 0; b < sh.batch; ++b)
    for (int h = 0; h < sh.n_heads; ++h) {
      const float* qh = &in.q[(size_t(b) * sh.n_heads + h) * hd];
      const size_t base = (size_t(b) * sh.kv_heads + h / group) * sh.capacity;
      std::vector<double> s(lens[b]);
      double mx = -1e300, z = 0;
      for (int j = 0; j < lens[b]; ++j) {
        double d = 0;
        for (int i = 0; i < hd; ++i) d += double(qh[i]) * in.k[(base + j) * hd + i];
        mx = std::max(mx, s[j] = d * scale);
      }
      for (auto& x : s) z += (x = std::exp(x - mx));
      for (int j = 0; j < lens[b]; ++j) {
        const double p = s[j] / z;
        if (h2o_scores != nullptr) (*h2o_scores)[base + j] += p;
        for (int i = 0; i < hd; ++i)
          out[(size_t(b) * sh.n_heads + h) * hd + i] += p * in.v[(base + j) * hd + i];
      }
    }
  return out;
}

DecodeAttentionArgs decode_args(const DecodeShape& sh, const __nv_bfloat16* q,
                                const __nv_bfloat16* k, const __nv_bfloat16* v, const int32_t* lens,
                                __nv_bfloat16* out, int max_len, int max_splits, float scale) {
  DecodeAttentionArgs a{};
  a.q = q;
  a.k_cache = k;
  a.v_cache = v;
  a.lens = lens;
  a.out = out;
  a.batch = sh.batch;
  a.n_heads = sh.n_heads;
  a.kv_heads = sh.kv_heads;
  a.head_dim = sh.head_dim;
  a.capacity = sh.capacity;
  a.max_len = max_len;
  a.max_splits = max_splits;
  a.scale = scale;
  return a;
}

class CudaDecodeAttention
    : public ::testing::TestWithParam<std::tuple<DecodeCase, int, DecodeKernel>> {};

TEST_P(CudaDecodeAttention, MatchesReferenceAndH2oProbabilities) {
  SQZ_REQUIRE_GPU();
  const auto [c, max_splits, kernel] = GetParam();
  std::mt19937 rng(static_cast<unsigned>(100 + c.head_dim + c.n_heads * 3 + c.kv_heads));
  const int hd = c.head_dim, capacity = 3100, batch = 3;
  const DecodeShape sh{batch, c.n_heads, c.kv_heads, hd, capacity};
  const std::vector<int32_t> lens = {1, 777, 3001};
  const int max_len = 3001;
  const float scale = 1.f / std::sqrt(float(hd));
  const DecodeInputs in = random_decode_inputs(sh, lens, rng);
  const auto& q = in.q;
  std::uniform_real_distribution<double> sd(0.0, 5.0);
  std::vector<double> scores0(size_t(batch) * c.kv_heads * capacity);
  for (auto& s : scores0) s = sd(rng);

  DeviceBuffer<__nv_bfloat16> d_q(to_bf16(q)), d_k(to_bf16(in.k)), d_v(to_bf16(in.v));
  DeviceBuffer<__nv_bfloat16> d_out(q.size());
  DeviceBuffer<int32_t> d_lens(lens);
  DeviceBuffer<float> d_logits(size_t(batch) * c.n_heads * capacity);
  DeviceBuffer<float> d_max(size_t(batch) * c.n_heads), d_sum(size_t(batch) * c.n_heads);
  DeviceBuffer<float> d_work(decode_attention_workspace_bytes(batch, c.n_heads, hd, max_splits) /
                             sizeof(float));
  DeviceBuffer<double> d_scores(scores0);
  DecodeAttentionArgs a = decode_args(sh, d_q.get(), d_k.get(), d_v.get(), d_lens.get(),
                                      d_out.get(), max_len, max_splits, scale);
  a.logits = d_logits.get();
  a.row_max = d_max.get();
  a.row_sum = d_sum.get();
  SQZ_CUDA_OK(cudaMemset(d_work.get(), 0,
                         decode_attention_workspace_bytes(batch, c.n_heads, hd, max_splits)));
  bind_decode_attention_workspace(a, d_work.get(), batch);
  a.kernel = kernel;
  // Twice: the split counters the first launch leaves behind must serve the second (same
  // output); only the second feeds H2O.
  SQZ_CUDA_OK(launch_decode_attention(a, 0));
  SQZ_CUDA_OK(cudaDeviceSynchronize());
  const auto first_out = d_out.download();
  SQZ_CUDA_OK(cudaMemset(d_out.get(), 0, d_out.size() * sizeof(__nv_bfloat16)));
  SQZ_CUDA_OK(launch_decode_attention(a, 0));
  SQZ_CUDA_OK(launch_h2o_accumulate(d_logits.get(), d_max.get(), d_sum.get(), d_lens.get(),
                                    d_scores.get(), batch, c.n_heads, c.kv_heads, capacity, max_len,
                                    0));
  SQZ_CUDA_OK(cudaDeviceSynchronize());

  std::vector<double> ref_scores = scores0;
  const std::vector<double> ref_out = reference_decode(sh, in, lens, scale, &ref_scores);
  // Output: fp32 scores/softmax then one bf16 rounding (2^-9 relative) of values |o| <= 1.
  const auto second_out = d_out.download();
  EXPECT_TRUE(all_close(to_float(second_out), ref_out, 2e-3, 1e-2, "attention out"));
  EXPECT_EQ(to_float(first_out), to_float(second_out)) << "a relaunch changed the output";
  // The same workspace serves fewer sequences than it was sized for (the engine keeps it when
  // the batch shrinks), then the full batch again: the outputs must not change.
  a.batch = 2;
  a.max_len = lens[1];
  bind_decode_attention_workspace(a, d_work.get(), batch);  // as the engine binds every launch
  a.logits = nullptr;
  a.row_max = a.row_sum = nullptr;
  SQZ_CUDA_OK(cudaMemset(d_out.get(), 0, d_out.size() * sizeof(__nv_bfloat16)));
  SQZ_CUDA_OK(launch_decode_attention(a, 0));
  SQZ_CUDA_OK(cudaDeviceSynchronize());
  // (Its own split plan: compared with the reference at the same tolerance, not bit for bit.)
  auto small_out = to_float(d_out.download());
  small_out.resize(size_t(2) * c.n_heads * hd);
  const std::vector<double> small_ref(ref_out.begin(), ref_out.begin() + small_out.size());
  EXPECT_TRUE(all_close(small_out, small_ref, 2e-3, 1e-2, "attention out, smaller batch"));
  a.batch = batch;
  a.max_len = max_len;
  bind_decode_attention_workspace(a, d_work.get(), batch);
  SQZ_CUDA_OK(cudaMemset(d_out.get(), 0, d_out.size() * sizeof(__nv_bfloat16)));
  SQZ_CUDA_OK(launch_decode_attention(a, 0));
  SQZ_CUDA_OK(cudaDeviceSynchronize());
  EXPECT_EQ(to_float(first_out), to_float(d_out.download()))
      << "the full batch after a smaller one changed the output";
  // H2O: probabilities in fp32 (exp2f of fp32 logits, ~1e-6 relative), summed in fp64. Slots
  // past each sequence's length keep their old scores.
  auto got_scores = d_scores.download();
  std::vector<float> got_f(got_scores.begin(), got_scores.end());
  EXPECT_TRUE(all_close(got_f, ref_scores, 1e-5, 1e-4, "h2o scores"));
}

// The stream-K plan's contract, on the host (no GPU): every key of every pair is taken by exactly
// one CTA, and no pair is cut into more pieces than the workspace holds (more would write
// partials past a row's max_splits slots). Pieces are enumerated the way
// decode_attention_mma_stream_kernel does.
TEST(CudaDecodeStreamPlan, PiecesCoverEveryKeyOnceWithinTheWorkspace) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 400; ++trial) {
    DecodeAttentionArgs a{};
    a.batch = std::uniform_int_distribution<int>(1, 40)(rng);
    a.kv_heads = std::uniform_int_distribution<int>(1, 32)(rng);
    a.max_len = std::uniform_int_distribution<int>(1, 40000)(rng);
    a.max_splits = std::uniform_int_distribution<int>(2, 300)(rng);
    const int64_t pairs = int64_t{a.batch} * a.kv_heads;
    const int64_t slots = std::uniform_int_distribution<int>(1, trial % 3 ? 264 : 1056)(rng);
    const int min_share = trial % 2 ? 128 : 16;
    const bool hybrid = trial % 4 < 2;
    const DecodeStreamPlan p = decode_stream_plan(a, pairs, slots, min_share, hybrid);
    SCOPED_TRACE(::testing::Message()
                 << "batch " << a.batch << " kv_heads " << a.kv_heads << " max_len " << a.max_len
                 << " max_splits " << a.max_splits << " slots " << slots << " hybrid " << hybrid);
    ASSERT_GE(p.stride, a.max_len);
    ASSERT_EQ(p.share % 16, 0);
    ASSERT_GE(p.share, min_share);
    ASSERT_EQ(p.whole, hybrid ? pairs / slots : 0);  // as many whole pairs per worker as fit
    if (p.whole > 0) ASSERT_EQ(p.workers, slots);
    // The line's keys spread evenly, unless a floor (one step, the workspace) raised the share.
    const int64_t even = ((pairs - int64_t{p.whole} * slots) * p.stride + slots - 1) / slots;
    const bool floored = p.share >= even + 16;
    if (!floored) ASSERT_LE(p.workers, slots);
    std::vector<int> covered(static_cast<size_t>(pairs), 0), pieces(static_cast<size_t>(pairs), 0);
    std::vector<std::set<int>> split_ids(static_cast<size_t>(pairs));
    int64_t most_keys = 0, fewest_keys = std::numeric_limits<int64_t>::max();
    for (int64_t w = 0; w < p.workers; ++w) {
      int64_t keys = 0;
      bool last_whole = false;
      decode_stream_pieces(p, pairs, a.kv_heads, w, [&](const DecodeStreamPiece& pc) {
        const auto [b, kvh, start, stop, split, splits] = pc;
        const int64_t q = int64_t{b} * a.kv_heads + kvh;
        ASSERT_LT(q, pairs);
        ASSERT_LT(start, stop);
        ASSERT_LE(stop, p.stride);
        ASSERT_GE(split, 0);
        ASSERT_LT(split, splits);
        ASSERT_LE(splits, a.max_splits);
        ASSERT_TRUE(split_ids[q].insert(split).second) << "split reused";
        if (splits > 1) ASSERT_TRUE(decode_stream_cuts_pairs(p, pairs));
        covered[q] += stop - start;
        ++pieces[q];
        keys += stop - start;
        last_whole = splits == 1;
      });
      // Every worker's last piece is a whole pair when whole pairs are dealt: no merge at the end.
      if (p.whole > 0) EXPECT_TRUE(last_whole) << "worker " << w;
      most_keys = std::max(most_keys, keys);
      fewest_keys = std::min(fewest_keys, keys);
    }
    for (int64_t q = 0; q < pairs; ++q) {
      ASSERT_EQ(covered[q], p.stride) << "pair " << q;
      // The pieces of a cut pair are numbered 0..splits-1, each once.
      ASSERT_EQ(static_cast<int>(split_ids[q].size()), pieces[q]) << "pair " << q;
      ASSERT_EQ(*split_ids[q].rbegin(), pieces[q] - 1) << "pair " << q;
    }
    // Balanced: no worker more than one share over another (a floored share leaves the last
    // workers with less or nothing).
    if (!floored) EXPECT_LE(most_keys - fewest_keys, p.share) << "unbalanced";
  }
}

std::string kernel_suffix(DecodeKernel k) {
  switch (k) {
    case DecodeKernel::kScalar:
      return "_scalar";
    case DecodeKernel::kTensorCore4Warps:
      return "_mma4";
    case DecodeKernel::kTensorCore8Warps:
      return "_mma8";
    case DecodeKernel::kTensorCoreStreamK:
      return "_mmask";
    case DecodeKernel::kTensorCoreWarpStreamK:
      return "_mmawsk";
    case DecodeKernel::kTensorCoreTma4Warps:
      return "_tma4";
    case DecodeKernel::kTensorCoreTma8Warps:
      return "_tma8";
    case DecodeKernel::kTensorCoreTmaTail:
      return "_tmatail";
    default:
      return "_auto";
  }
}

// The tail plan's contract, on the host: every key of every pair is taken by exactly one CTA,
// whole pairs by one CTA, cut pairs by pieces numbered 0..splits-1 within the workspace.
TEST(CudaDecodeTailPlan, PiecesCoverEveryKeyOnceWithinTheWorkspace) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 400; ++trial) {
    DecodeAttentionArgs a{};
    unsigned counter = 0;
    a.split_done = &counter;  // only its presence matters to the plan
    a.kv_heads = std::uniform_int_distribution<int>(1, 32)(rng);
    a.batch = std::uniform_int_distribution<int>(1, 40)(rng);
    a.max_len = std::uniform_int_distribution<int>(1, trial % 2 ? 2048 : 40000)(rng);
    a.max_splits = std::uniform_int_distribution<int>(1, 8)(rng);
    const int64_t pairs = int64_t{a.batch} * a.kv_heads;
    const int64_t cut = std::uniform_int_distribution<int64_t>(0, pairs + 1)(rng);
    const int parts = std::uniform_int_distribution<int>(1, 6)(rng);
    const DecodeTailPlan p = decode_tail_plan(a, pairs, cut, parts);
    SCOPED_TRACE(::testing::Message()
                 << "pairs " << pairs << " max_len " << a.max_len << " max_splits " << a.max_splits
                 << " cut " << cut << " parts " << parts);
    if (cut < 1 || cut > pairs || std::min(parts, a.max_splits) < 2) {
      ASSERT_EQ(p.ctas, 0);
      continue;
    }
    ASSERT_EQ(p.whole, pairs - cut);
    ASSERT_LE(p.parts, a.max_splits);
    ASSERT_EQ(p.piece % 16, 0);
    ASSERT_EQ(p.ctas, p.whole + cut * p.parts);
    std::vector<std::vector<std::pair<int, int>>> ranges(static_cast<size_t>(pairs));
    std::vector<std::set<int>> split_ids(static_cast<size_t>(pairs));
    for (int64_t c = 0; c < p.ctas; ++c) {
      const DecodeStreamPiece t = decode_tail_piece(p, a.kv_heads, static_cast<int>(c));
      const int64_t q = int64_t{t.b} * a.kv_heads + t.kvh;
      ASSERT_LT(t.b, a.batch);
      ASSERT_LT(q, pairs);
      ASSERT_EQ(t.splits, q < p.whole ? 1 : p.parts);
      ASSERT_TRUE(split_ids[q].insert(t.split).second) << "split reused";
      ranges[q].emplace_back(t.start, t.stop);
    }
    for (int64_t q = 0; q < pairs; ++q) {
      auto& r = ranges[q];
      std::sort(r.begin(), r.end());
      ASSERT_EQ(r.front().first, 0) << "pair " << q;
      for (size_t i = 1; i < r.size(); ++i) ASSERT_EQ(r[i].first, r[i - 1].second) << "pair " << q;
      ASSERT_GE(r.back().second, a.max_len) << "pair " << q;
      ASSERT_EQ(*split_ids[q].rbegin(), static_cast<int>(split_ids[q].size()) - 1);
    }
  }
}

// Each kernel choice in turn on one shape with random lengths in 1..capacity (the first
// sequence full, the last one key long, so that some pieces of a cut pair are empty), against
// the fp64 reference. A kernel listed twice reruns with the merge counters the first run left.
void expect_kernels_match_reference(const DecodeShape& sh, int max_splits, uint32_t seed,
                                    std::initializer_list<DecodeKernel> kernels) {
  std::mt19937 rng(seed);
  std::vector<int32_t> lens(sh.batch);
  for (auto& l : lens) l = std::uniform_int_distribution<int>(1, sh.capacity)(rng);
  lens[0] = sh.capacity;
  if (sh.batch > 1) lens[sh.batch - 1] = 1;
  const float scale = 1.f / std::sqrt(float(sh.head_dim));
  const DecodeInputs in = random_decode_inputs(sh, lens, rng);
  const std::vector<double> ref_out = reference_decode(sh, in, lens, scale, nullptr);

  DeviceBuffer<__nv_bfloat16> d_q(to_bf16(in.q)), d_k(to_bf16(in.k)), d_v(to_bf16(in.v));
  DeviceBuffer<__nv_bfloat16> d_out(in.q.size());
  DeviceBuffer<int32_t> d_lens(lens);
  const size_t work_bytes =
      decode_attention_workspace_bytes(sh.batch, sh.n_heads, sh.head_dim, max_splits);
  DeviceBuffer<float> d_work(work_bytes / sizeof(float));
  SQZ_CUDA_OK(cudaMemset(d_work.get(), 0, work_bytes));
  DecodeAttentionArgs a = decode_args(sh, d_q.get(), d_k.get(), d_v.get(), d_lens.get(),
                                      d_out.get(), sh.capacity, max_splits, scale);
  bind_decode_attention_workspace(a, d_work.get(), sh.batch);
  for (DecodeKernel kernel : kernels) {
    SCOPED_TRACE(kernel_suffix(kernel));
    a.kernel = kernel;
    SQZ_CUDA_OK(cudaMemset(d_out.get(), 0, d_out.size() * sizeof(__nv_bfloat16)));
    SQZ_CUDA_OK(launch_decode_attention(a, 0));
    SQZ_CUDA_OK(cudaDeviceSynchronize());
    EXPECT_TRUE(all_close(to_float(d_out.download()), ref_out, 2e-3, 1e-2, "attention out"));
  }
}

// More (sequence, KV head) pairs than SMs, the case the tail grid is for (136 pairs on 132 SMs,
// a few SMs holding two): the launcher's choice and the forced tail grid against an fp64
// reference, with lengths from 1 to 1024.
TEST(CudaDecodeTailGrid, MorePairsThanSmsMatchReference) {
  SQZ_REQUIRE_GPU();
  const int kv_heads = 8;
  expect_kernels_match_reference(
      {cached_sm_count() / kv_heads + 1, 32, kv_heads, 128, 1024}, 16, 2026,
      {DecodeKernel::kAuto, DecodeKernel::kTensorCoreTmaTail, DecodeKernel::kTensorCoreTmaTail});
}

// The launcher's choice where it depends on the pair count against the SM count: unsplit 8-warp
// CTAs from a quarter of the SMs up to one wave (groups of 8, short sequences); MHA on tensor
// cores for one wave, the scalar kernel for one partial wave, and stream-K past one wave
// (over CTAs or warps, by GPU) for a ragged second wave.
struct RoutingCase {
  int kv_heads, pairs_per_8_sms, capacity;  // pairs = SMs x pairs_per_8_sms / 8, at least 1
};

class CudaDecodeAutoRouting : public ::testing::TestWithParam<RoutingCase> {};

TEST_P(CudaDecodeAutoRouting, MatchesReference) {
  SQZ_REQUIRE_GPU();
  const RoutingCase c = GetParam();
  const int pairs = std::max(1, cached_sm_count() * c.pairs_per_8_sms / 8);
  const int batch = std::max(1, pairs / c.kv_heads);
  expect_kernels_match_reference({batch, 32, c.kv_heads, 128, c.capacity}, 64, 7 + batch,
                                 {DecodeKernel::kAuto, DecodeKernel::kAuto});
}

INSTANTIATE_TEST_SUITE_P(PairCounts, CudaDecodeAutoRouting,
                         ::testing::Values(RoutingCase{4, 3, 512}, RoutingCase{4, 5, 1024},
                                           RoutingCase{4, 7, 300}, RoutingCase{4, 5, 2048},
                                           RoutingCase{32, 8, 512}, RoutingCase{32, 20, 1024},
                                           RoutingCase{32, 33, 1024}),
                         [](const auto& info) {
                           const RoutingCase c = info.param;
                           return "kv" + std::to_string(c.kv_heads) + "_pairs" +
                                  std::to_string(c.pairs_per_8_sms) + "of8sms_len" +
                                  std::to_string(c.capacity);
                         });

std::vector<std::tuple<DecodeCase, int, DecodeKernel>> decode_cases() {
  const DecodeCase shapes[] = {{128, 32, 32},  // MHA
                               {128, 32, 8},   // GQA 4
                               {64, 16, 2},    // GQA 8
                               {128, 12, 4},   // GQA 3: masked heads
                               {128, 16, 8},   // GQA 2
                               {8, 8, 4}};     // stories260K-like
  std::vector<std::tuple<DecodeCase, int, DecodeKernel>> cases;
  for (const auto& c : shapes)
    for (int splits : {1, 64}) {
      cases.emplace_back(c, splits, DecodeKernel::kScalar);
      if (c.head_dim == 64 || c.head_dim == 128)
        for (DecodeKernel k :
             {DecodeKernel::kTensorCore4Warps, DecodeKernel::kTensorCore8Warps,
              DecodeKernel::kTensorCoreStreamK, DecodeKernel::kTensorCoreWarpStreamK,
              DecodeKernel::kTensorCoreTma4Warps, DecodeKernel::kTensorCoreTma8Warps,
              DecodeKernel::kTensorCoreTmaTail})
          cases.emplace_back(c, splits, k);
    }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Shapes, CudaDecodeAttention, ::testing::ValuesIn(decode_cases()),
                         [](const auto& info) {
                           // (std::get: a structured binding's comma would split the macro's
                           // arguments)
                           const DecodeCase c = std::get<0>(info.param);
                           return "hd" + std::to_string(c.head_dim) + "_q" +
                                  std::to_string(c.n_heads) + "_kv" + std::to_string(c.kv_heads) +
                                  "_splits" + std::to_string(std::get<1>(info.param)) +
                                  kernel_suffix(std::get<2>(info.param));
                         });

}  // namespace
}  // namespace squeeze::cuda::test
