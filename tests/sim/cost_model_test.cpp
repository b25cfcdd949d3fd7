#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "squeeze/sim/cost_model.hpp"

namespace squeeze::sim {
namespace {

constexpr GemmShape kQkv{12288, 4096};
const AttentionShape kAttention{32, 32, 128, 2};

double gemm_truth(int rows) { return 10.0 * std::sqrt(double(rows)); }          // power law
double attention_truth(int batch, int kv) { return 2.0 + 0.01 * batch * kv; }   // affine in kv

std::vector<core::CalibrationPoint> hand_made_table() {
  std::vector<core::CalibrationPoint> points;
  for (int rows : {1, 16, 256}) {
    core::CalibrationPoint p;
    p.op = "qkv";
    p.rows = rows;
    p.n = kQkv.n;
    p.k = kQkv.k;
    p.duration_us = gemm_truth(rows);
    points.push_back(p);
  }
  for (int batch : {1, 4})
    for (int kv : {128, 256, 512}) {
      core::CalibrationPoint p;
      p.op = "decode_attention";
      p.batch = batch;
      p.kv_len = kv;
      p.n_heads = kAttention.n_heads;
      p.n_kv_heads = kAttention.n_kv_heads;
      p.head_dim = kAttention.head_dim;
      p.duration_us = attention_truth(batch, kv);
      points.push_back(p);
    }
  return points;
}

class CostModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h100 = *find_gpu("h100-sxm");
    h200 = *find_gpu("h200");
    auto fitted = CostModel::fit(hand_made_table(), h100);
    ASSERT_TRUE(fitted.ok()) << fitted.error().message;
    model = *fitted;
  }
  GpuSpec h100, h200;
  CostModel model;
};

TEST_F(CostModelTest, GemmInsideTheGridReturnsTheMeasuredCurve) {
  EXPECT_NEAR(model.gemm_us("qkv", 1, kQkv, 2, h100), gemm_truth(1), 1e-9);
  EXPECT_NEAR(model.gemm_us("qkv", 4, kQkv, 2, h100), gemm_truth(4), 1e-9);     // between points
  EXPECT_NEAR(model.gemm_us("qkv", 100, kQkv, 2, h100), gemm_truth(100), 1e-9);
}

TEST_F(CostModelTest, AnotherGpuScalesByItsRooflineAtTheMeasuredSlowdown) {
  const double slowdown = gemm_truth(16) / gemm_ideal_us(16, kQkv, 2, h100);
  EXPECT_NEAR(model.gemm_us("qkv", 16, kQkv, 2, h200), gemm_ideal_us(16, kQkv, 2, h200) * slowdown, 1e-9);
  // H200 has more bandwidth and the same FLOPs: a small-batch GEMM gets faster.
  EXPECT_LT(model.gemm_us("qkv", 16, kQkv, 2, h200), model.gemm_us("qkv", 16, kQkv, 2, h100));
}

TEST_F(CostModelTest, AnotherShapeScalesByItsRooflineAtTheMeasuredSlowdown) {
  const GemmShape big{10240, 8192};
  const double slowdown = gemm_truth(16) / gemm_ideal_us(16, kQkv, 2, h100);
  EXPECT_NEAR(model.gemm_us("qkv", 16, big, 2, h100), gemm_ideal_us(16, big, 2, h100) * slowdown, 1e-9);
  // An op never calibrated borrows the nearest calibrated GEMM's slowdown.
  EXPECT_NEAR(model.gemm_us("down", 16, big, 2, h100), gemm_ideal_us(16, big, 2, h100) * slowdown, 1e-9);
}

TEST_F(CostModelTest, DecodeAttentionGridPointsAndBatchInterpolation) {
  EXPECT_NEAR(model.decode_attention_us(1, 256, kAttention, h100), attention_truth(1, 256), 1e-9);
  EXPECT_NEAR(model.decode_attention_us(4, 512, kAttention, h100), attention_truth(4, 512), 1e-9);
  // Batch 2 sits halfway between 1 and 4 in log space: the geometric mean of the two.
  EXPECT_NEAR(model.decode_attention_us(2, 256, kAttention, h100),
              std::sqrt(attention_truth(1, 256) * attention_truth(4, 256)), 1e-9);
}

TEST_F(CostModelTest, ShortCachesExtendTheFirstSegmentAsALine) {
  // The data is affine in kv, so the straight-line extension is exact below the grid.
  EXPECT_NEAR(model.decode_attention_us(1, 64, kAttention, h100), attention_truth(1, 64), 1e-9);
  EXPECT_NEAR(model.decode_attention_us(4, 16, kAttention, h100), attention_truth(4, 16), 1e-9);
}

TEST_F(CostModelTest, LongCachesFollowTheRooflineAtTheLastSlowdown) {
  const double slowdown = attention_truth(1, 512) / decode_attention_ideal_us(1, 512, kAttention, h100);
  EXPECT_NEAR(model.decode_attention_us(1, 4096, kAttention, h100),
              decode_attention_ideal_us(1, 4096, kAttention, h100) * slowdown, 1e-9);
}

TEST_F(CostModelTest, AttentionNeverGetsCheaperWithMoreCache) {
  for (int batch : {1, 3, 8}) {
    double previous = 0;
    for (int kv = 1; kv <= 3000; kv += 7) {
      const double t = model.decode_attention_us(batch, kv, kAttention, h100);
      EXPECT_GE(t, previous - 1e-12) << "batch " << batch << " kv " << kv;
      previous = t;
    }
  }
}

TEST_F(CostModelTest, MissingTablesAreNamedInNotes) {
  bool prefill_note = false;
  for (const auto& note : model.notes()) prefill_note |= note.find("prefill_attention") != std::string::npos;
  EXPECT_TRUE(prefill_note);
  EXPECT_GT(model.prefill_attention_us(1, 1024, kAttention, h100), 0.0);
}

TEST(CostModel, AllReduceFollowsTheRingFormula) {
  const GpuSpec gpu = *find_gpu("h100-sxm");
  auto model = CostModel::fit({}, gpu);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->allreduce_us(1e6, 1, gpu), 0.0);
  EXPECT_NEAR(model->allreduce_us(1e6, 4, gpu),
              gpu.link_latency_us + 2.0 * 3.0 / 4.0 * 1e6 / gpu.link_bytes_per_s * 1e6, 1e-9);
}

TEST(GpuTable, UnknownNamesListTheKnownOnes) {
  auto gpu = find_gpu("tpu-v5");
  ASSERT_FALSE(gpu.ok());
  EXPECT_EQ(gpu.error().code, 2);
  for (const auto& name : known_gpu_names()) EXPECT_NE(gpu.error().message.find(name), std::string::npos);
  EXPECT_EQ(find_gpu("NVIDIA H100 80GB HBM3")->name, "h100-sxm");
  EXPECT_EQ(find_gpu("synthetic-h100")->name, "h100-sxm");
}

}  // namespace
}  // namespace squeeze::sim

namespace squeeze::sim {
namespace {

TEST_F(CostModelTest, MixedLengthBatchesPayPerSequence) {
  // Equal lengths: the uniform-batch cost.
  const std::vector<int> same{256, 256, 256, 256};
  EXPECT_NEAR(model.decode_attention_mixed_us(same, kAttention, h100), attention_truth(4, 256), 1e-9);
  // Affine data: two sequences at 128 and two at 512 cost (f(4,128) + f(4,512)) / 2.
  const std::vector<int> mixed{128, 512, 128, 512};
  EXPECT_NEAR(model.decode_attention_mixed_us(mixed, kAttention, h100),
              (attention_truth(4, 128) + attention_truth(4, 512)) / 2.0, 1e-9);
}

}  // namespace
}  // namespace squeeze::sim
