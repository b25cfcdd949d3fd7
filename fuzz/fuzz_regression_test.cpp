// Replays the seed corpus and every saved crasher through the fuzz target bodies. Under the asan
// preset this is where a regression of a fixed parser bug shows up in CI.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

int squeeze_fuzz_llama2c(const std::uint8_t*, std::size_t);
int squeeze_fuzz_llama2c_tokenizer(const std::uint8_t*, std::size_t);
int squeeze_fuzz_gguf(const std::uint8_t*, std::size_t);
int squeeze_fuzz_safetensors(const std::uint8_t*, std::size_t);
int squeeze_fuzz_config_json(const std::uint8_t*, std::size_t);
int squeeze_fuzz_tokenizer_json(const std::uint8_t*, std::size_t);
int squeeze_fuzz_trace(const std::uint8_t*, std::size_t);

namespace {

namespace fs = std::filesystem;
using FuzzBody = int (*)(const std::uint8_t*, std::size_t);

std::vector<std::uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every file under fuzz/corpus/<target> and fuzz/regressions/<target>; returns how many ran.
int replay(const std::string& target, FuzzBody body) {
  int replayed = 0;
  for (const char* kind : {"corpus", "regressions"}) {
    const fs::path dir = fs::path(SQUEEZE_SOURCE_DIR) / "fuzz" / kind / target;
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      auto bytes = read_bytes(entry.path());
      SCOPED_TRACE(entry.path().string());
      EXPECT_EQ(body(bytes.data(), bytes.size()), 0);
      // Truncations of a valid seed are the commonest real-world corruption: try a few.
      for (std::size_t cut : {bytes.size() / 2, bytes.size() * 9 / 10, std::size_t{7}}) {
        if (cut < bytes.size()) {
          EXPECT_EQ(body(bytes.data(), cut), 0);
        }
      }
      ++replayed;
    }
  }
  return replayed;
}

struct Target {
  const char* name;
  FuzzBody body;
};

class FuzzRegression : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzRegression, SeedsAndCrashersRunCleanly) {
  const Target t = GetParam();
  const int n = replay(t.name, t.body);
  EXPECT_GT(n, 0) << "no seed corpus for fuzz target " << t.name;
  // Empty input: every parser must refuse it without crashing.
  EXPECT_EQ(t.body(nullptr, 0), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Targets, FuzzRegression,
    ::testing::Values(Target{"llama2c", squeeze_fuzz_llama2c},
                      Target{"llama2c_tokenizer", squeeze_fuzz_llama2c_tokenizer},
                      Target{"gguf", squeeze_fuzz_gguf},
                      Target{"safetensors", squeeze_fuzz_safetensors},
                      Target{"config_json", squeeze_fuzz_config_json},
                      Target{"tokenizer_json", squeeze_fuzz_tokenizer_json},
                      Target{"trace", squeeze_fuzz_trace}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
