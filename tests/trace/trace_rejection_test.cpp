// Anything that is not a readable squeeze trace of a known version is refused by TraceReader::open
// and TraceWriter::open_for_append with exit code 2 and a message that names the file.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "squeeze/core/trace_reader.hpp"
#include "squeeze/core/trace_writer.hpp"
#include "trace_test_util.hpp"

namespace squeeze::core {
namespace {

namespace fs = std::filesystem;
using test::ScratchDir;

// A valid trace big enough (a few hundred KB) that its middle is b-tree pages of real rows.
void write_valid_trace(const std::string& path) {
  auto writer = TraceWriter::create(path);
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  ASSERT_TRUE(writer->write_meta(test::sample_meta()).ok());
  const std::vector<double> sims = {0.7, 0.9, 0.95};
  ASSERT_TRUE(writer->add_prompt_with_similarities({0, "d", "p", 5}, sims).ok());
  auto run = writer->add_run(test::sample_run(0));
  ASSERT_TRUE(run.ok());
  std::vector<KernelRecord> batch;
  for (int i = 0; i < 3000; ++i) batch.push_back(test::sample_kernel(*run, i));
  ASSERT_TRUE(writer->add_kernels(batch).ok());
}

// Runs SQL on a file with the raw SQLite API (how a foreign tool would make or damage one).
void raw_sql(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  const std::string text = message != nullptr ? message : "";
  sqlite3_free(message);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << text;
}

void overwrite(const std::string& path, std::uintmax_t offset, std::size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good());
  f.seekp(static_cast<std::streamoff>(offset));
  for (std::size_t i = 0; i < count; ++i) f.put(static_cast<char>(rng() & 0xff));
  ASSERT_TRUE(f.good());
}

// Both entry points refuse the file with a message that names it and contains `expected`.
void expect_refused(const std::string& path, const std::string& expected) {
  auto reader = TraceReader::open(path);
  ASSERT_FALSE(reader.ok()) << path << " was accepted by the reader";
  EXPECT_NE(reader.error().message.find(path), std::string::npos) << reader.error().message;
  EXPECT_NE(reader.error().message.find(expected), std::string::npos) << reader.error().message;
  EXPECT_EQ(reader.error().code, 2) << reader.error().message;
  auto writer = TraceWriter::open_for_append(path);
  ASSERT_FALSE(writer.ok()) << path << " was accepted for appending";
  EXPECT_NE(writer.error().message.find(path), std::string::npos) << writer.error().message;
}

TEST(TraceRejection, ValidTraceIsAccepted) {
  ScratchDir dir;
  const std::string path = dir.file("good.sqz");
  write_valid_trace(path);
  auto reader = TraceReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(*reader->kernel_count(), 3000);
}

TEST(TraceRejection, MissingFile) {
  ScratchDir dir;
  expect_refused(dir.file("nothing-here.sqz"), "no such file");
}

TEST(TraceRejection, Directory) {
  ScratchDir dir;
  fs::create_directory(dir.file("a-directory.sqz"));
  expect_refused(dir.file("a-directory.sqz"), "is a directory");
}

TEST(TraceRejection, EmptyFile) {
  ScratchDir dir;
  std::ofstream(dir.file("empty.sqz")).close();
  expect_refused(dir.file("empty.sqz"), "empty");
}

TEST(TraceRejection, TextFile) {
  ScratchDir dir;
  std::ofstream(dir.file("notes.sqz")) << "hello, this is not a database\n";
  expect_refused(dir.file("notes.sqz"), "is not a squeeze trace");
}

TEST(TraceRejection, TruncatedToHalf) {
  ScratchDir dir;
  const std::string path = dir.file("half.sqz");
  write_valid_trace(path);
  fs::resize_file(path, fs::file_size(path) / 2);
  expect_refused(path, "truncated");
}

TEST(TraceRejection, TruncatedInsideTheHeader) {
  ScratchDir dir;
  const std::string path = dir.file("stub.sqz");
  write_valid_trace(path);
  fs::resize_file(path, 60);
  expect_refused(path, "truncated");
}

TEST(TraceRejection, RandomBytesOverPagesInTheMiddle) {
  ScratchDir dir;
  for (unsigned seed : {1u, 2u, 3u}) {
    const std::string path = dir.file("corrupt-" + std::to_string(seed) + ".sqz");
    write_valid_trace(path);
    const auto size = fs::file_size(path);
    const std::uintmax_t page = 4096;
    overwrite(path, (size / 2 / page) * page, 2 * page, seed);
    expect_refused(path, "corrupt");
  }
}

TEST(TraceRejection, RandomBytesOverTheHeader) {
  ScratchDir dir;
  const std::string path = dir.file("header.sqz");
  write_valid_trace(path);
  overwrite(path, 0, 100, 7);
  expect_refused(path, "is not a squeeze trace");
}

TEST(TraceRejection, ForeignSqliteDatabase) {
  ScratchDir dir;
  const std::string path = dir.file("foreign.db");
  raw_sql(path, "CREATE TABLE people(name TEXT); INSERT INTO people VALUES ('ada');");
  expect_refused(path, "is not a squeeze trace");
}

TEST(TraceRejection, ForeignSqliteDatabaseWithAnotherApplicationId) {
  ScratchDir dir;
  const std::string path = dir.file("other-app.db");
  raw_sql(path, "PRAGMA application_id = 1234; PRAGMA user_version = 1; CREATE TABLE meta(k);");
  expect_refused(path, "is not a squeeze trace");
}

TEST(TraceRejection, NewerFormatVersionNamesBothVersions) {
  ScratchDir dir;
  const std::string path = dir.file("future.sqz");
  write_valid_trace(path);
  raw_sql(path, "PRAGMA user_version = 3");
  expect_refused(path, "has format version 3; this squeeze reads up to 1");
}

TEST(TraceRejection, VersionZeroWithOurApplicationId) {
  ScratchDir dir;
  const std::string path = dir.file("zero.sqz");
  write_valid_trace(path);
  raw_sql(path, "PRAGMA user_version = 0");
  expect_refused(path, "is not a squeeze trace");
}

TEST(TraceRejection, MissingTable) {
  ScratchDir dir;
  const std::string path = dir.file("no-calibration.sqz");
  write_valid_trace(path);
  raw_sql(path, "DROP TABLE calibration");
  expect_refused(path, "table 'calibration' is missing");
}

TEST(TraceRejection, CorruptRowContentIsAnErrorNotACrash) {
  ScratchDir dir;
  const std::string path = dir.file("bad-row.sqz");
  write_valid_trace(path);
  raw_sql(path,
          "UPDATE runs SET layer_budgets = 'not json'; "
          "UPDATE meta SET value = 'lots' WHERE key = 'sm_count'");
  auto reader = TraceReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto runs = reader->runs();
  ASSERT_FALSE(runs.ok());
  EXPECT_NE(runs.error().message.find(path), std::string::npos);
  EXPECT_NE(runs.error().message.find("layer_budgets"), std::string::npos);
  auto meta = reader->meta();
  ASSERT_FALSE(meta.ok());
  EXPECT_NE(meta.error().message.find("sm_count"), std::string::npos);
}

TEST(TraceRejection, AbsurdLayerIndexIsAnErrorNotAHugeMatrix) {
  ScratchDir dir;
  const std::string path = dir.file("bad-layer.sqz");
  write_valid_trace(path);
  raw_sql(path, "UPDATE layer_similarity SET layer = 1000000000 WHERE layer = 2");
  auto reader = TraceReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto sims = reader->similarities();
  ASSERT_FALSE(sims.ok());
  EXPECT_NE(sims.error().message.find(path), std::string::npos);
  EXPECT_NE(sims.error().message.find("layer 1000000000"), std::string::npos);
}

}  // namespace
}  // namespace squeeze::core
