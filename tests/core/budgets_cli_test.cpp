// squeeze-sim budgets, run as a user would: JSON values and exit codes of the built binary.
#include <unistd.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace {

struct CommandRun {
  int exit_code = -1;
  std::string out, err;
};

CommandRun run_budgets(const std::string& args) {
  const std::string err_path = testing::TempDir() + "budgets_cli_stderr_" + std::to_string(::getpid()) + ".txt";
  const std::string cmd = std::string(SQUEEZE_BINARY_DIR) + "/sim/squeeze-sim budgets " + args +
                          " 2>" + err_path;
  CommandRun r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_path);
  std::stringstream ss;
  ss << err.rdbuf();
  r.err = ss.str();
  return r;
}

TEST(BudgetsCli, JsonHandComputedFiveLayers) {
  // Same case as LayerBudget.HandComputedFiveLayers, worked out by hand there.
  const CommandRun r = run_budgets("--similarity 0.2,0.5,0.45,0.9,0.91 --budget-tokens 10 --p 0.35 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["budgets"], nlohmann::json({15, 14, 15, 3, 3}));
  EXPECT_EQ(j["clusters"], nlohmann::json({0, 1, 1, 2, 2}));
  EXPECT_EQ(j["unimportant"], nlohmann::json({3, 4}));
  EXPECT_EQ(j["uniform_budget"], 10);
  EXPECT_EQ(j["total"], 50);
  ASSERT_EQ(j["centers"].size(), 3u);
  EXPECT_DOUBLE_EQ(j["centers"][0].get<double>(), 0.2);
  EXPECT_DOUBLE_EQ(j["centers"][1].get<double>(), 0.475);
  EXPECT_DOUBLE_EQ(j["centers"][2].get<double>(), 0.905);
}

TEST(BudgetsCli, JsonFromPromptFraction) {
  // B = round(0.21 * 2000) = 420; p = 0.381 -> floor(160.02) = 160 for the two unimportant layers;
  // the remaining 4 * 420 - 320 = 1360 tokens split 680 / 680.
  const CommandRun r = run_budgets(
      "--similarity 0.6,0.97,0.7,0.98 --budget-fraction 0.21 --prompt-len 2000 --p 0.381 "
      "--clusters 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["uniform_budget"], 420);
  EXPECT_EQ(j["budgets"], nlohmann::json({680, 160, 680, 160}));
  EXPECT_EQ(j["unimportant"], nlohmann::json({1, 3}));
  EXPECT_EQ(j["total"], 1680);
}

TEST(BudgetsCli, TableNamesGroupsAndTotals) {
  const CommandRun r = run_budgets("--similarity 0.2,0.5,0.45,0.9,0.91 --budget-tokens 10 --p 0.35");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("unimportant"), std::string::npos);
  EXPECT_NE(r.out.find("saving 7 tokens each"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("uniform 50 / squeeze 50"), std::string::npos) << r.out;
}

TEST(BudgetsCli, HelpExplainsPAndTheBudget) {
  const CommandRun r = run_budgets("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("floor(p*B)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--budget-fraction"), std::string::npos);
}

TEST(BudgetsCli, BadInputExitsTwoWithAMessage) {
  struct Case { const char* args; const char* needle; };
  const Case cases[] = {
      {"--similarity 0.2,abc --budget-tokens 10 --p 0.3", "value 1 ('abc') is not a number"},
      {"--similarity 0.2,nan --budget-tokens 10 --p 0.3", "not a finite number"},
      {"--similarity 0.2,0.9 --budget-tokens 10 --p 1.5", "p must be in (0, 1]"},
      {"--similarity 0.2,0.9 --budget-tokens 10 --p 0", "p must be in (0, 1]"},
      {"--similarity 0.2,0.9 --p 0.3", "no budget given"},
      {"--similarity 0.2,0.9 --budget-tokens 0 --p 0.3", "at least 1"},
      {"--similarity 0.2,0.9 --budget-tokens 2 --p 0.3", "p = 0.3 of a budget of 2 tokens"},
      {"--similarity 0.2,0.9 --budget-fraction 0.001 --prompt-len 100 --p 0.3", "rounds to 0"},
      {"--similarity 0.2,0.9 --budget-fraction 0.2 --p 0.3", "--prompt-len"},
      {"--similarity 0.2,0.9 --budget-tokens ten --p 0.3", "--budget-tokens"},
      {"--similarity 0.2,0.9 --budget-tokens 10 --p 0.3 --clusters 0", "--clusters"},
  };
  for (const auto& c : cases) {
    const CommandRun r = run_budgets(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << c.args << "\nstderr: " << r.err;
    EXPECT_TRUE(r.out.empty()) << c.args << "\nstdout: " << r.out;
  }
}

}  // namespace
