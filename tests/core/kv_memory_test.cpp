// KV and weight bytes: known model shapes, budgets checked against the policies' real occupancy.
#include <gtest/gtest.h>

#include <vector>

#include "squeeze/core/kv_memory.hpp"
#include "squeeze/core/kv_policy.hpp"

using namespace squeeze::core;

namespace {

ModelConfig llama2_7b() {
  ModelConfig c;
  c.name = "llama-2-7b-shape";
  c.n_layers = 32; c.hidden = 4096; c.n_heads = 32; c.n_kv_heads = 32; c.head_dim = 128;
  c.intermediate = 11008; c.vocab = 32000; c.max_seq = 4096; c.tied_embeddings = false;
  return c;
}

ModelConfig toy(int layers, int kv_heads, int head_dim) {
  ModelConfig c;
  c.n_layers = layers; c.n_heads = kv_heads * 2; c.n_kv_heads = kv_heads; c.head_dim = head_dim;
  c.hidden = c.n_heads * head_dim; c.intermediate = 4 * c.hidden; c.vocab = 100;
  return c;
}

TEST(KvMemory, BytesPerTokenOfKnownShapes) {
  // Llama-2-7B in bf16: the well-known 0.5 MiB of KV per token (2 * 32 * 128 * 2 B * 32 layers).
  const auto l2 = llama2_7b();
  EXPECT_EQ(kv_bytes_per_token_per_layer(l2), 16384);
  EXPECT_EQ(*kv_bytes_per_sequence(l2, {}, 1), 512 * 1024);
  // Llama-3-8B: GQA with 8 KV heads cuts it four-fold; f32 KV doubles it.
  auto l3 = l2;
  l3.n_kv_heads = 8;
  EXPECT_EQ(kv_bytes_per_token_per_layer(l3), 4096);
  l3.kv_dtype = DType::F32;
  EXPECT_EQ(kv_bytes_per_token_per_layer(l3), 8192);
}

TEST(KvMemory, WeightBytesOfLlama2_7B) {
  // Hugging Face reports 6,738,415,616 parameters for Llama-2-7b-hf.
  const auto c = llama2_7b();
  EXPECT_EQ(weight_bytes(c), 6738415616LL * 2);
  auto f32 = c;
  f32.weight_dtype = DType::F32;
  EXPECT_EQ(weight_bytes(f32), 6738415616LL * 4);
}

TEST(KvMemory, BudgetsCapEachLayerSeparately) {
  const auto c = toy(3, 2, 8);  // 2 * 2 * 8 * 2 B = 64 B per token per layer
  const std::vector<int> budgets = {4, 10, 2};
  // seq 6: min(4,6) + min(10,6) + min(2,6) = 12 token entries.
  EXPECT_EQ(*kv_tokens_per_sequence(c, {budgets}, 6), 12);
  EXPECT_EQ(*kv_bytes_per_sequence(c, {budgets}, 6), 12 * 64);
  EXPECT_EQ(*kv_bytes_per_sequence(c, {budgets}, 0), 0);
  EXPECT_EQ(*kv_bytes_per_sequence(c, {budgets}, 1000), 16 * 64);  // all layers at budget
  EXPECT_EQ(*kv_bytes_per_sequence(c, {}, 6), 18 * 64);            // full policy
  EXPECT_EQ(*kv_bytes_per_batch(c, {budgets}, 6, 5), 5 * 12 * 64);
  EXPECT_EQ(*kv_bytes_per_batch(c, {budgets}, 6, 0), 0);
  const std::vector<std::int64_t> lens = {1, 6, 1000};
  EXPECT_EQ(*kv_bytes_for_sequences(c, {budgets}, lens), (3 + 12 + 16) * 64);
}

TEST(KvMemory, MatchesWhatThePoliciesActuallyHold) {
  // Drive one LayerKvSelector per layer through prefill + decode and count the slots they hold;
  // the accounting must agree at every length, for every bounded policy.
  const auto c = toy(4, 2, 4);
  const std::vector<int> budgets = {3, 17, 8, 1};
  for (PolicyKind kind : {PolicyKind::SlidingWindow, PolicyKind::StreamingLLM, PolicyKind::H2O}) {
    std::vector<LayerKvSelector> layers;
    for (int b : budgets) layers.push_back(*LayerKvSelector::create({kind, 4, -1}, b, c.n_kv_heads));
    const int prompt = 5;
    for (auto& l : layers) l.prefill(prompt, {});
    for (int len = prompt; len < 40; ++len) {
      std::int64_t held = 0;
      for (const auto& l : layers) held += std::int64_t{l.size()} * l.n_kv_heads();
      // held counts (token, head) pairs; bytes per token per layer cover all heads.
      EXPECT_EQ(held / c.n_kv_heads * kv_bytes_per_token_per_layer(c),
                *kv_bytes_per_sequence(c, {budgets}, len)) << policy_name(kind) << " len " << len;
      for (auto& l : layers) l.admit(len);
    }
  }
}

TEST(KvMemory, RejectsBadInput) {
  const auto c = toy(3, 2, 8);
  const std::vector<int> two = {4, 4};
  auto wrong_count = kv_bytes_per_sequence(c, {two}, 5);
  ASSERT_FALSE(wrong_count.ok());
  EXPECT_NE(wrong_count.error().message.find("2 layer budgets given for a 3-layer"), std::string::npos);
  const std::vector<int> zero = {4, 0, 4};
  auto z = kv_bytes_per_sequence(c, {zero}, 5);
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.error().message.find("layer 1"), std::string::npos);
  EXPECT_FALSE(kv_bytes_per_sequence(c, {}, -1).ok());
  EXPECT_FALSE(kv_bytes_per_batch(c, {}, 5, -2).ok());
  const std::vector<std::int64_t> lens = {3, -1};
  EXPECT_FALSE(kv_bytes_for_sequences(c, {}, lens).ok());
  auto no_heads = c;
  no_heads.n_kv_heads = 0;
  EXPECT_FALSE(kv_bytes_per_sequence(no_heads, {}, 5).ok());
}

}  // namespace
