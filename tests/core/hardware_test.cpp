// The GPU table: lookup by name, alias and driver name; datasheet values; custom GPUs; errors.
#include <gtest/gtest.h>

#include "squeeze/core/hardware.hpp"

using squeeze::core::custom_gpu;
using squeeze::core::find_gpu;
using squeeze::core::known_gpu_names;
using squeeze::core::known_gpus;

namespace {

constexpr std::int64_t kGiB = 1024LL * 1024 * 1024;

TEST(Hardware, TableHasTheDesignGpusWithDatasheetPeaks) {
  EXPECT_EQ(known_gpu_names(), (std::vector<std::string>{"a100-40gb", "a100-80gb", "h100-sxm", "h200"}));
  const auto h100 = find_gpu("h100-sxm");
  ASSERT_TRUE(h100.ok());
  EXPECT_EQ(h100->memory_bytes, 80 * kGiB);
  EXPECT_DOUBLE_EQ(h100->memory_bandwidth, 3.35e12);
  EXPECT_DOUBLE_EQ(h100->dense_bf16_flops, 989e12);
  const auto h200 = find_gpu("h200");
  ASSERT_TRUE(h200.ok());
  EXPECT_EQ(h200->memory_bytes, 141'000'000'000LL);
  EXPECT_DOUBLE_EQ(h200->memory_bandwidth, 4.8e12);
  EXPECT_DOUBLE_EQ(h200->dense_bf16_flops, 989e12);
  EXPECT_EQ(find_gpu("a100-40gb")->memory_bytes, 40 * kGiB);
  EXPECT_EQ(find_gpu("a100-80gb")->memory_bytes, 80 * kGiB);
  EXPECT_GT(find_gpu("a100-80gb")->memory_bandwidth, find_gpu("a100-40gb")->memory_bandwidth);
  for (const auto& gpu : known_gpus()) {
    EXPECT_GT(gpu.memory_bytes, 0);
    EXPECT_GT(gpu.memory_bandwidth, 0);
    EXPECT_GT(gpu.dense_bf16_flops, 0);
    EXPECT_FALSE(gpu.description.empty());
  }
}

TEST(Hardware, LooksUpAliasesAndDriverNamesIgnoringCase) {
  const std::pair<const char*, const char*> cases[] = {
      {"H100", "h100-sxm"},          {"h100-sxm", "h100-sxm"},
      {"H100_SXM5", "h100-sxm"},     {"NVIDIA H100 80GB HBM3", "h100-sxm"},
      {"A100-40GB", "a100-40gb"},    {"a100_80gb", "a100-80gb"},
      {"NVIDIA A100-SXM4-40GB", "a100-40gb"}, {"nvidia a100-sxm4-80gb", "a100-80gb"},
      {"H200", "h200"},              {" NVIDIA H200 ", "h200"},
  };
  for (const auto& [query, canonical] : cases) {
    auto gpu = find_gpu(query);
    ASSERT_TRUE(gpu.ok()) << query << ": " << gpu.error().message;
    EXPECT_EQ(gpu->name, canonical) << query;
  }
}

TEST(Hardware, UnknownNameListsTheKnownOnes) {
  for (const char* bad : {"v100", "a100", "", "h100-pcie"}) {
    auto gpu = find_gpu(bad);
    ASSERT_FALSE(gpu.ok()) << bad;
    EXPECT_EQ(gpu.error().code, 2);
    for (const auto& name : known_gpu_names())
      EXPECT_NE(gpu.error().message.find(name), std::string::npos) << gpu.error().message;
  }
}

TEST(Hardware, CustomGpus) {
  auto l40s = find_gpu("custom:48:0.864:362");
  ASSERT_TRUE(l40s.ok()) << l40s.error().message;
  EXPECT_EQ(l40s->memory_bytes, 48 * kGiB);
  EXPECT_DOUBLE_EQ(l40s->memory_bandwidth, 0.864e12);
  EXPECT_DOUBLE_EQ(l40s->dense_bf16_flops, 362e12);
  auto direct = custom_gpu(24, 1.008, 165.2, "rtx4090");
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(direct->name, "rtx4090");
  EXPECT_EQ(direct->memory_bytes, 24 * kGiB);
  for (const char* bad : {"custom:48:x:362", "custom:0:1:1", "custom:48:1", "custom:48:1:1:1",
                          "custom:nan:1:1", "custom:-4:1:1"}) {
    auto gpu = find_gpu(bad);
    ASSERT_FALSE(gpu.ok()) << bad;
    EXPECT_EQ(gpu.error().code, 2);
    EXPECT_NE(gpu.error().message.find("custom"), std::string::npos);
  }
  EXPECT_FALSE(custom_gpu(80, 0, 100).ok());
  EXPECT_FALSE(custom_gpu(80, 1, -5).ok());
}

}  // namespace
