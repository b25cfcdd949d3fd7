#include <gtest/gtest.h>

#include "squeeze/core/model_config.hpp"

using squeeze::core::ModelConfig;

namespace {

ModelConfig stories260k() {
  ModelConfig c;
  c.name = "stories260K";
  c.n_layers = 5; c.hidden = 64; c.n_heads = 8; c.n_kv_heads = 4; c.head_dim = 8;
  c.intermediate = 172; c.vocab = 512; c.max_seq = 512;
  return c;
}

TEST(ModelConfig, Stories260KIsValidAndCountsItsParameters) {
  const auto c = stories260k();
  EXPECT_TRUE(c.validate().ok());
  EXPECT_EQ(c.kv_dim(), 32);
  EXPECT_EQ(c.group_size(), 2);
  // llama2.c's file is 7 int32 + fp32 weights + the legacy freq_cis block (seq_len * head_dim).
  // 1,056,540 B = 28 + 4 * (params + 512 * 8) → params = 260,032 (embedding tied).
  EXPECT_EQ(c.parameter_count(), (1056540 - 28) / 4 - 512 * 8);
}

TEST(ModelConfig, RejectsHeadsThatDoNotDivide) {
  auto c = stories260k();
  c.n_kv_heads = 3;
  const auto s = c.validate();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("multiple of n_kv_heads"), std::string::npos);
}

TEST(ModelConfig, RejectsOddHeadDimAndZeroLayers) {
  auto c = stories260k();
  c.head_dim = 7;
  EXPECT_FALSE(c.validate().ok());
  c = stories260k();
  c.n_layers = 0;
  EXPECT_FALSE(c.validate().ok());
}

}  // namespace
