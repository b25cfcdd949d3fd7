// load_model refuses weights holding NaN or inf, naming the tensor.
#include <unistd.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <vector>

#include "squeeze/profiler/model_loader.hpp"

namespace {

// A llama2.c file of a 1-layer model whose weights are all 0.5 except one planted value.
std::filesystem::path write_llama2c(float planted, std::size_t planted_at) {
  const int dim = 8, hidden = 16, layers = 1, heads = 2, kv_heads = 1, vocab = 16, seq = 4;
  const int hs = dim / heads;
  const std::size_t n = vocab * dim + layers * dim + layers * dim * heads * hs +
                        2 * layers * dim * kv_heads * hs + layers * heads * hs * dim + layers * dim +
                        3 * layers * hidden * dim + dim + seq * hs;
  std::vector<float> w(n, 0.5f);
  w[planted_at] = planted;
  const auto path = std::filesystem::temp_directory_path() / ("squeeze_weights_check_" + std::to_string(::getpid()) + ".bin");
  std::ofstream out(path, std::ios::binary);
  const int header[7] = {dim, hidden, layers, heads, kv_heads, vocab, seq};
  out.write(reinterpret_cast<const char*>(header), sizeof header);
  out.write(reinterpret_cast<const char*>(w.data()), static_cast<std::streamsize>(n * sizeof(float)));
  return path;
}

TEST(WeightsCheck, FiniteModelLoads) {
  const auto path = write_llama2c(0.25f, 3);
  EXPECT_TRUE(squeeze::profiler::load_model(path.string()).ok());
  std::filesystem::remove(path);
}

TEST(WeightsCheck, NanInTheEmbeddingIsNamed) {
  const auto path = write_llama2c(std::numeric_limits<float>::quiet_NaN(), 5);
  const auto r = squeeze::profiler::load_model(path.string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("token_embedding"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("NaN"), std::string::npos) << r.error().message;
  std::filesystem::remove(path);
}

TEST(WeightsCheck, InfInALayerIsNamed) {
  // Past the embedding (16*8) and attn_norm (8): the first element of layer 0's wq.
  const auto path = write_llama2c(std::numeric_limits<float>::infinity(), 16 * 8 + 8);
  const auto r = squeeze::profiler::load_model(path.string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("layer 0 wq"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("inf"), std::string::npos) << r.error().message;
  std::filesystem::remove(path);
}

}  // namespace
