// A capture killed with SIGKILL in the middle of writing leaves a valid trace that holds every
// transaction that had committed, whole, and nothing half-written.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "squeeze/core/trace_reader.hpp"
#include "squeeze/core/trace_writer.hpp"
#include "trace_test_util.hpp"

namespace squeeze::core {
namespace {

constexpr int kLayers = 4;
constexpr int kKernelsPerRun = 50;

std::vector<double> similarities_of(int i) {
  std::vector<double> v;
  for (int l = 0; l < kLayers; ++l) v.push_back(test::sample_similarity(i, l));
  return v;
}

// The child: writes iteration after iteration and reports each fully committed one on `report`.
[[noreturn]] void capture_forever(const std::string& path, int report) {
  auto writer = TraceWriter::create(path);
  if (!writer.ok() || !writer->write_meta(test::sample_meta()).ok()) _exit(10);
  for (int i = 0;; ++i) {
    auto prompt = writer->add_prompt_with_similarities(
        {0, "synthetic", fmt::format("p{}", i), 10 + i}, similarities_of(i));
    if (!prompt.ok()) _exit(11);
    auto run = writer->add_run(test::sample_run(i));
    if (!run.ok()) _exit(12);
    std::vector<KernelRecord> batch;
    for (int k = 0; k < kKernelsPerRun; ++k) batch.push_back(test::sample_kernel(*run, k));
    if (!writer->add_kernels(batch).ok()) _exit(13);
    if (write(report, &i, sizeof i) != sizeof i) _exit(14);
  }
}

TEST(TraceCrash, SigkillMidCaptureLeavesEveryCommittedRecordIntact) {
  test::ScratchDir dir;
  const std::string path = dir.file("killed.sqz");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    capture_forever(path, fds[1]);
  }
  close(fds[1]);
  // Let it commit a good number of iterations, then kill it wherever it happens to be.
  int last_reported = -1;
  while (last_reported < 25) {
    int i = 0;
    ASSERT_EQ(read(fds[0], &i, sizeof i), static_cast<ssize_t>(sizeof i)) << "writer died early";
    last_reported = i;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(7));
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child exited " << status;
  // Reports sent before the kill but not yet read are commits too.
  int i = 0;
  while (read(fds[0], &i, sizeof i) == static_cast<ssize_t>(sizeof i)) last_reported = i;
  close(fds[0]);

  // The killed writer never checkpointed: the reader must recover the commits from the WAL.
  EXPECT_TRUE(std::filesystem::exists(path + "-wal"));
  auto reader = TraceReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  ASSERT_TRUE(reader->meta().ok());
  EXPECT_TRUE(reader->meta()->model.has_value());

  auto prompts = reader->prompts();
  ASSERT_TRUE(prompts.ok());
  ASSERT_GE(static_cast<int>(prompts->size()), last_reported + 1);
  auto sims = reader->similarities();
  ASSERT_TRUE(sims.ok());
  ASSERT_EQ(sims->rows(), static_cast<int>(prompts->size()));  // no prompt without its values
  for (int p = 0; p < sims->rows(); ++p) {
    EXPECT_EQ((*prompts)[p].label, fmt::format("p{}", p));
    for (int l = 0; l < kLayers; ++l) EXPECT_EQ(sims->value(p, l), test::sample_similarity(p, l));
  }

  auto runs = reader->runs();
  ASSERT_TRUE(runs.ok());
  ASSERT_GE(static_cast<int>(runs->size()), last_reported + 1);
  for (std::size_t r = 0; r < runs->size(); ++r) {
    test::expect_same_run((*runs)[r], test::sample_run(static_cast<int>(r)));
    const auto count = reader->kernel_count((*runs)[r].id);
    ASSERT_TRUE(count.ok());
    // A kernel batch is all or nothing; every reported iteration has its batch.
    if (static_cast<int>(r) <= last_reported) {
      EXPECT_EQ(*count, kKernelsPerRun) << "run " << r;
    } else {
      EXPECT_TRUE(*count == 0 || *count == kKernelsPerRun) << "run " << r << ": " << *count;
    }
  }

  // The killed capture can be resumed.
  auto append = TraceWriter::open_for_append(path);
  ASSERT_TRUE(append.ok()) << append.error().message;
  EXPECT_TRUE(append->add_run(test::sample_run(999)).ok());
}

}  // namespace
}  // namespace squeeze::core
