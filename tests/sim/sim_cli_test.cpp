// squeeze-sim predict / sweep / validate / headline as a user runs them: JSON keys, CSV shape,
// exit codes, and messages for bad input.
#include <unistd.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "squeeze/core/trace_synthetic.hpp"

namespace {

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

const std::string kBinary = std::string(SQUEEZE_BINARY_DIR) + "/sim/squeeze-sim";

CliResult run(const std::string& args) {
  const auto err_path = std::filesystem::temp_directory_path() / ("squeeze_sim_cli_test_" + std::to_string(::getpid()) + ".err");
  const std::string command = kBinary + " " + args + " 2>" + err_path.string();
  CliResult r;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buffer{};
  std::size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_path);
  std::stringstream ss;
  ss << err.rdbuf();
  r.err = ss.str();
  return r;
}

class SimCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("squeeze_sim_cli_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    trace_ = (dir_ / "synthetic.sqz").string();
    core_status_ok_ = squeeze::core::write_synthetic_trace(trace_, {}).ok();
    std::ofstream(dir_ / "config.json") << R"({"model_type": "llama", "hidden_size": 8192,
      "num_hidden_layers": 80, "num_attention_heads": 64, "num_key_value_heads": 8,
      "intermediate_size": 28672, "vocab_size": 32000, "tie_word_embeddings": false})";
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  void SetUp() override { ASSERT_TRUE(core_status_ok_) << "could not write the synthetic trace"; }

  static std::filesystem::path dir_;
  static std::string trace_;
  static bool core_status_ok_;
};
std::filesystem::path SimCli::dir_;
std::string SimCli::trace_;
bool SimCli::core_status_ok_ = false;

TEST_F(SimCli, PredictJsonHasThreeAllocationsPerBatch) {
  const CliResult r = run("predict " + trace_ + " --hardware h100-sxm --policy h2o --budget 0.2 --p 0.35 "
                    "--batch 1,16 --prompt-len 1024 --gen-len 128 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["predictions"].size(), 6u);
  for (const char* key : {"allocation", "batch", "max_batch", "step_ms", "tokens_per_s", "ttft_ms", "tpot_ms",
                          "memory", "layer_budgets", "fits"})
    EXPECT_TRUE(j["predictions"][0].contains(key)) << key;
  EXPECT_EQ(j["predictions"][0]["allocation"], "full");
  EXPECT_EQ(j["predictions"][1]["allocation"], "uniform");
  EXPECT_EQ(j["predictions"][2]["allocation"], "squeeze");
  EXPECT_EQ(j["predictions"][2]["layer_budgets"].size(), 32u);
  EXPECT_TRUE(j["synthetic_trace"].get<bool>());
  // Budgets make decode faster than the full cache at the same batch.
  EXPECT_GT(j["predictions"][4]["tokens_per_s"].get<double>(), j["predictions"][3]["tokens_per_s"].get<double>());
}

TEST_F(SimCli, PredictPlansAModelNeverRunHereAndSaysTheProfileWasResampled) {
  const CliResult r = run("predict " + trace_ + " --model " + (dir_ / "config.json").string() +
                    " --hardware h200 --tp 2 --batch max --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model"]["layers"], 80);
  EXPECT_NE(j["similarity_source"].get<std::string>().find("resampled"), std::string::npos);
  EXPECT_GT(j["predictions"][2]["max_batch"].get<int>(), 0);
}

TEST_F(SimCli, AModelThatDoesNotFitGetsMaxBatchZeroAndAMessage) {
  const CliResult r = run("predict " + trace_ + " --model " + (dir_ / "config.json").string() +
                    " --hardware a100-40gb --batch max");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("does not fit"), std::string::npos) << r.out;
  const CliResult j = run("predict " + trace_ + " --model " + (dir_ / "config.json").string() +
                    " --hardware a100-40gb --batch max --json");
  EXPECT_EQ(nlohmann::json::parse(j.out)["predictions"][0]["max_batch"], 0);
}

TEST_F(SimCli, BadInputExitsTwoWithAClearMessage) {
  CliResult r = run("predict " + trace_ + " --hardware tpu-v5");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("h100-sxm"), std::string::npos) << r.err;  // lists the known names
  r = run("predict " + trace_ + " --batch 0");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("batch"), std::string::npos);
  r = run("predict " + trace_ + " --budget 0");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("budget"), std::string::npos);
  r = run("predict " + trace_ + " --p 1.5");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("p must be in (0, 1]"), std::string::npos) << r.err;
  r = run("predict " + trace_ + " --policy lru");
  EXPECT_EQ(r.code, 2);
  r = run("predict " + (dir_ / "missing.sqz").string());
  EXPECT_EQ(r.code, 2);
  r = run("sweep " + trace_ + " --hardware h100-sxm,nope");
  EXPECT_EQ(r.code, 2);
  r = run("sweep " + trace_ + " --p 0.3,2");
  EXPECT_EQ(r.code, 2);
  r = run("headline " + trace_ + " --mode sometimes");
  EXPECT_EQ(r.code, 2);
}

TEST_F(SimCli, SweepCsvHasOneRowPerConfiguration) {
  const CliResult r = run("sweep " + trace_ + " --hardware h100-sxm,h200 --policy full,window --budget 0.1,0.2 "
                    "--p 0.3 --batch 1,8 --prompt-len 512 --gen-len 64 --csv");
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int count = -1;  // header
  while (std::getline(lines, line)) ++count;
  // per GPU and batch: full 1 + window 2 budgets x (uniform + 1 p) = 5; x 2 GPUs x 2 batches.
  EXPECT_EQ(count, 20);
  EXPECT_EQ(r.out.rfind("hardware,allocation,policy,budget", 0), 0u);
}

TEST_F(SimCli, ValidateJsonReportsMapeAsFractions) {
  const CliResult r = run("validate " + trace_ + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.contains("throughput_mape") && j.contains("memory_mape") && j.contains("runs"));
  EXPECT_GE(j["throughput_mape"].get<double>(), 0.0);
  EXPECT_LT(j["throughput_mape"].get<double>(), 0.05);  // a fraction, not a percentage
  EXPECT_LT(j["memory_mape"].get<double>(), 0.05);
  ASSERT_FALSE(j["runs"].empty());
  for (const char* key : {"measured_tokens_per_s", "predicted_tokens_per_s", "measured_peak_bytes",
                          "predicted_peak_bytes", "throughput_error", "memory_error"})
    EXPECT_TRUE(j["runs"][0].contains(key)) << key;
}

TEST_F(SimCli, HeadlineComparesAtEachGpusMaxBatch) {
  const CliResult r = run("headline " + trace_ + " --hardware a100-80gb,h100-sxm --budget 0.2 --uniform-budget 0.4 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["entries"].size(), 4u);  // 2 GPUs x (online, calibrated)
  for (const auto& e : j["entries"]) {
    EXPECT_GT(e["kv_saved_vs_full"].get<double>(), 0.5);
    EXPECT_GT(e["kv_saved_vs_uniform"].get<double>(), 0.0);
    EXPECT_GE(e["squeeze"]["max_batch"].get<int>(), e["uniform"]["max_batch"].get<int>());
    EXPECT_GT(e["speedup_vs_full"].get<double>(), 1.0);
  }
}

}  // namespace

namespace {

// Costs from one trace, the similarity profile from another: the squeeze budgets must follow the
// second trace's profile (resampled to the target's depth), not the calibration trace's.
TEST_F(SimCli, SimilarityFromAnotherTraceSetsTheSqueezeBudgets) {
  const std::string profile_trace = (dir_ / "profile.sqz").string();
  squeeze::core::SyntheticTraceOptions options;
  options.seed = 7;
  options.model = "llama2-13b";  // 40 layers: resampled to the 32-layer target
  ASSERT_TRUE(squeeze::core::write_synthetic_trace(profile_trace, options).ok());
  const std::string common = " --hardware h100-sxm --policy h2o --budget 0.2 --p 0.35 --batch 1 "
                             "--prompt-len 1024 --gen-len 128 --json";
  const CliResult own = run("predict " + trace_ + common);
  const CliResult other = run("predict " + trace_ + " --similarity-from " + profile_trace + common);
  ASSERT_EQ(own.code, 0) << own.err;
  ASSERT_EQ(other.code, 0) << other.err;
  const auto a = nlohmann::json::parse(own.out);
  const auto b = nlohmann::json::parse(other.out);
  EXPECT_NE(b["similarity_source"].get<std::string>().find(profile_trace), std::string::npos);
  EXPECT_NE(b["similarity_source"].get<std::string>().find("from 40 layers to 32"), std::string::npos);
  // Same calibration, so the full-cache rows agree exactly; only the squeeze budgets may move.
  EXPECT_EQ(a["predictions"][0]["step_ms"], b["predictions"][0]["step_ms"]);
  EXPECT_EQ(b["predictions"][2]["layer_budgets"].size(), 32u);

  const CliResult missing = run("predict " + trace_ + " --similarity-from " + (dir_ / "nope.sqz").string() + common);
  EXPECT_EQ(missing.code, 2);
}

}  // namespace
