// Seeded random byte mutations of every fixture format: a loader may accept or reject the result
// but must never crash, hang or read out of bounds (run under ASan to check the latter).

#include <gtest/gtest.h>

#include <random>

#include "squeeze/profiler/model_loader.hpp"
#include "squeeze/profiler/tokenizer.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace t = squeeze::test;

// Overwrites 1-4 random bytes among the first `region` bytes, `rounds` times, calling `load` on
// each mutant. Returns how many mutants were rejected (so the test can check it saw some).
template <class Load>
int mutate_and_load(const std::vector<std::uint8_t>& original, std::size_t region, int rounds,
                    const fs::path& path, Load load) {
  std::mt19937 rng(12345);
  int rejected = 0;
  region = std::min(region, original.size());
  for (int r = 0; r < rounds; ++r) {
    auto bytes = original;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % region;
      // Mix of random bytes and "interesting" values that hit size fields.
      static constexpr std::uint8_t kInteresting[] = {0x00, 0xff, 0x7f, 0x80, 0x01, 0x20};
      bytes[at] = rng() % 2 ? static_cast<std::uint8_t>(rng()) : kInteresting[rng() % 6];
    }
    t::write_bytes(path, bytes);
    rejected += load(path.string()) ? 0 : 1;
  }
  return rejected;
}

TEST(MutationFuzz, Gguf) {
  t::ScratchDir scratch;
  const auto bytes = t::read_bytes(t::fixtures_dir() / "tiny_llama.gguf");
  const int rejected = mutate_and_load(bytes, 9000, 300, scratch / "m.gguf", [](const std::string& p) {
    const bool model_ok = squeeze::profiler::load_model(p).ok();
    const bool tok_ok = squeeze::profiler::load_gguf_tokenizer(p).ok();
    return model_ok && tok_ok;
  });
  EXPECT_GT(rejected, 0);
}

TEST(MutationFuzz, Safetensors) {
  t::ScratchDir scratch;
  fs::copy(t::fixtures_dir() / "hf_qwen2_f16", scratch / "m", fs::copy_options::recursive);
  const auto bytes = t::read_bytes(scratch / "m" / "model.safetensors");
  const int rejected = mutate_and_load(bytes, 2700, 300, scratch / "m" / "model.safetensors", [&](const std::string&) {
    return squeeze::profiler::load_model((scratch / "m").string()).ok();
  });
  EXPECT_GT(rejected, 0);
}

TEST(MutationFuzz, Llama2cTokenizer) {
  const auto tok = t::stories_dir() / "tok512.bin";
  if (!fs::exists(tok)) GTEST_SKIP() << "no " << tok;
  t::ScratchDir scratch;
  const auto bytes = t::read_bytes(tok);
  const int rejected = mutate_and_load(bytes, bytes.size(), 300, scratch / "tok.bin", [](const std::string& p) {
    auto t = squeeze::profiler::load_llama2c_tokenizer(p);
    if (t.ok()) (void)(*t)->encode("Once upon a time 😀", true);  // a corrupted vocabulary still encodes
    return t.ok();
  });
  EXPECT_GT(rejected, 0);
}

TEST(MutationFuzz, TokenizerJson) {
  t::ScratchDir scratch;
  const auto bytes = t::read_bytes(t::fixtures_dir() / "hf_llama" / "tokenizer.json");
  mutate_and_load(bytes, bytes.size(), 150, scratch / "tokenizer.json", [](const std::string& p) {
    auto t = squeeze::profiler::load_hf_tokenizer_json(p);
    if (t.ok()) (void)(*t)->encode("Hello <|im_start|> world 123", true);
    return t.ok();
  });
}

}  // namespace
