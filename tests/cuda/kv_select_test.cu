// Device slot choice vs core::LayerKvSelector, slot for slot: window, StreamingLLM, H2O and full,
// three sequences with different prompt lengths (one shorter than its budget) and different
// budgets (12, 16, 20) in one arena, 60 decode steps.
// H2O probabilities are multiples of 1/8 so that score ties happen and the oldest-position rule
// is exercised.
#include <memory>

#include "cuda_test_util.hpp"
#include "kernels/kv_select.cuh"
#include "squeeze/core/kv_policy.hpp"

namespace squeeze::cuda::test {
namespace {

using core::LayerKvSelector;
using core::PolicyKind;

KvPolicy device_policy(PolicyKind k) {
  switch (k) {
    case PolicyKind::Full: return KvPolicy::Full;
    case PolicyKind::SlidingWindow: return KvPolicy::Window;
    case PolicyKind::StreamingLLM: return KvPolicy::Streaming;
    case PolicyKind::H2O: return KvPolicy::H2O;
  }
  return KvPolicy::Full;
}

class CudaKvSelect : public ::testing::TestWithParam<PolicyKind> {};

TEST_P(CudaKvSelect, MatchesReferenceSelectorSlotForSlot) {
  SQZ_REQUIRE_GPU();
  const PolicyKind kind = GetParam();
  std::mt19937 rng(300 + static_cast<int>(kind));
  const int kv_heads = 4, steps = 60;
  const std::vector<int> prompt = {5, 40, 23};
  const std::vector<int> budgets = {12, 16, 20};  // per sequence; the arena holds the largest
  const int batch = static_cast<int>(prompt.size());
  const int capacity = kind == PolicyKind::Full ? 40 + steps : 20;
  core::PolicySpec spec{kind, 4, 6};
  std::uniform_int_distribution<int> eighth(0, 8);

  std::vector<std::unique_ptr<LayerKvSelector>> sel;
  std::vector<int32_t> lens(batch), ring(batch);
  std::vector<int32_t> positions(size_t(batch) * kv_heads * capacity, -1);
  std::vector<double> scores(positions.size(), 0.0);
  for (int b = 0; b < batch; ++b) {
    auto created = LayerKvSelector::create(spec, budgets[b], kv_heads);
    ASSERT_TRUE(created.ok()) << created.error().message;
    sel.push_back(std::make_unique<LayerKvSelector>(std::move(created).value()));
    std::vector<std::vector<double>> cols(kv_heads, std::vector<double>(prompt[b]));
    for (auto& row : cols)
      for (auto& x : row) x = eighth(rng) / 8.0;
    sel[b]->prefill(prompt[b], cols);
    lens[b] = sel[b]->size();
    for (int h = 0; h < kv_heads; ++h) {
      auto p = sel[b]->slot_positions(h);
      auto s = sel[b]->slot_scores(h);
      for (size_t i = 0; i < p.size(); ++i) {
        positions[(size_t(b) * kv_heads + h) * capacity + i] = p[i];
        scores[(size_t(b) * kv_heads + h) * capacity + i] = s[i];
      }
    }
  }
  std::vector<int32_t> budget_of(batch), ring_start_of(batch), protect_of(batch);
  for (int b = 0; b < batch; ++b) {
    const auto& applied = sel[b]->spec();
    ring[b] = ring_start_of[b] = kind == PolicyKind::StreamingLLM ? applied.sink_tokens : 0;
    budget_of[b] = kind == PolicyKind::Full ? capacity : budgets[b];
    protect_of[b] = kind == PolicyKind::H2O ? std::max(applied.recent_tokens - 1, 0) : 0;
  }

  DeviceBuffer<int32_t> d_lens(lens), d_ring(ring), d_pos(positions), d_new(batch);
  DeviceBuffer<double> d_scores(scores);
  DeviceBuffer<int32_t> d_slots(size_t(batch) * kv_heads), d_err(std::vector<int32_t>{0});
  KvAdmitArgs a{};
  a.state = {d_lens.get(), d_ring.get(), d_pos.get(), d_scores.get(), capacity};
  a.new_pos = d_new.get();
  a.slots = d_slots.get();
  a.error = d_err.get();
  a.batch = batch;
  a.kv_heads = kv_heads;
  a.policy = device_policy(kind);
  DeviceBuffer<int32_t> d_budget(budget_of), d_ring_start(ring_start_of), d_protect(protect_of);
  a.budget = d_budget.get();
  a.ring_start = d_ring_start.get();
  a.protect = d_protect.get();

  for (int step = 0; step < steps; ++step) {
    std::vector<int32_t> new_pos(batch);
    for (int b = 0; b < batch; ++b) new_pos[b] = prompt[b] + step;
    d_new.upload(new_pos);
    d_slots.poison();
    SQZ_CUDA_OK(launch_kv_admit(a, 0));
    const auto got = d_slots.download();
    ASSERT_EQ(d_err.download()[0], 0) << "device flagged a broken invariant at step " << step;
    auto dev_scores = d_scores.download();
    for (int b = 0; b < batch; ++b) {
      const auto want = sel[b]->admit(new_pos[b]);
      for (int h = 0; h < kv_heads; ++h)
        ASSERT_EQ(got[b * kv_heads + h], want[h])
            << "step " << step << " sequence " << b << " head " << h;
      // The new query's probabilities (H2O), the same values on both sides.
      for (int h = 0; h < kv_heads; ++h) {
        std::vector<double> probs(sel[b]->size());
        for (auto& p : probs) p = eighth(rng) / 8.0;
        sel[b]->accumulate(h, probs);
        if (kind == PolicyKind::H2O)
          for (size_t i = 0; i < probs.size(); ++i)
            dev_scores[(size_t(b) * kv_heads + h) * capacity + i] += probs[i];
      }
    }
    d_scores.upload(dev_scores);
    const auto dev_lens = d_lens.download();
    const auto dev_pos = d_pos.download();
    for (int b = 0; b < batch; ++b) {
      ASSERT_EQ(dev_lens[b], sel[b]->size()) << "step " << step << " sequence " << b;
      for (int h = 0; h < kv_heads; ++h) {
        auto p = sel[b]->slot_positions(h);
        for (size_t i = 0; i < p.size(); ++i)
          ASSERT_EQ(dev_pos[(size_t(b) * kv_heads + h) * capacity + i], p[i]);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, CudaKvSelect,
                         ::testing::Values(PolicyKind::Full, PolicyKind::SlidingWindow,
                                           PolicyKind::StreamingLLM, PolicyKind::H2O),
                         [](const auto& info) { return std::string(core::policy_name(info.param)); });

TEST(CudaKvGather, CopiesKeptPositionsAndSkipsEmptySlots) {
  SQZ_REQUIRE_GPU();
  std::mt19937 rng(310);
  const int batch = 2, kv_heads = 3, src_cap = 50, dst_cap = 12, hd = 16;
  auto k = random_bf16_values(size_t(batch) * kv_heads * src_cap * hd, rng);
  auto v = random_bf16_values(k.size(), rng);
  std::vector<int32_t> src_pos(size_t(batch) * kv_heads * dst_cap);
  for (size_t i = 0; i < src_pos.size(); ++i)
    src_pos[i] = (i % dst_cap) == dst_cap - 1 ? -1 : int32_t((i * 7) % src_cap);
  DeviceBuffer<__nv_bfloat16> d_k(to_bf16(k)), d_v(to_bf16(v));
  DeviceBuffer<__nv_bfloat16> d_kd(size_t(batch) * kv_heads * dst_cap * hd), d_vd(d_kd.size());
  DeviceBuffer<int32_t> d_src(src_pos);
  SQZ_CUDA_OK(launch_kv_gather(d_k.get(), d_v.get(), d_src.get(), d_kd.get(), d_vd.get(), batch,
                               kv_heads, src_cap, dst_cap, hd, 0));
  const auto kd = to_float(d_kd.download()), vd = to_float(d_vd.download());
  for (int bh = 0; bh < batch * kv_heads; ++bh)
    for (int s = 0; s < dst_cap; ++s) {
      const int p = src_pos[size_t(bh) * dst_cap + s];
      for (int d = 0; d < hd; ++d) {
        const size_t di = (size_t(bh) * dst_cap + s) * hd + d;
        if (p < 0) {
          EXPECT_TRUE(std::isnan(kd[di]) && std::isnan(vd[di]));
        } else {
          EXPECT_EQ(kd[di], k[(size_t(bh) * src_cap + p) * hd + d]);
          EXPECT_EQ(vd[di], v[(size_t(bh) * src_cap + p) * hd + d]);
        }
      }
    }
}

}  // namespace
}  // namespace squeeze::cuda::test
