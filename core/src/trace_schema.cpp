#include "trace_schema.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "squeeze/core/trace_types.hpp"
#include "trace_sqlite.hpp"

namespace squeeze::core::trace_schema {
namespace {

namespace fs = std::filesystem;

// Version 1. Changing a table means a new version (traces/FORMAT.md, "Versioning").
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE prompts (
  id          INTEGER PRIMARY KEY,
  dataset     TEXT NOT NULL,
  label       TEXT NOT NULL,
  token_count INTEGER NOT NULL
);
CREATE TABLE layer_similarity (
  prompt_id INTEGER NOT NULL REFERENCES prompts(id),
  layer     INTEGER NOT NULL,
  value     REAL NOT NULL,
  PRIMARY KEY (prompt_id, layer)
) WITHOUT ROWID;
CREATE TABLE runs (
  id                  INTEGER PRIMARY KEY,
  label               TEXT NOT NULL,
  policy              TEXT NOT NULL,
  budget_unit         TEXT NOT NULL,
  budget_value        REAL NOT NULL,
  p                   REAL NOT NULL,
  layer_budgets       TEXT NOT NULL,
  batch               INTEGER NOT NULL,
  prompt_len          INTEGER NOT NULL,
  gen_len             INTEGER NOT NULL,
  mode                TEXT NOT NULL,
  tokens_per_s        REAL NOT NULL,
  prefill_ms          REAL NOT NULL,
  decode_step_ms_mean REAL NOT NULL,
  peak_bytes          INTEGER NOT NULL,
  kv_bytes            INTEGER NOT NULL,
  weights_bytes       INTEGER NOT NULL,
  status              TEXT NOT NULL
);
CREATE TABLE run_steps (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  step   INTEGER NOT NULL,
  ms     REAL NOT NULL,
  PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
CREATE TABLE kernel_names (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE kernels (
  run_id         INTEGER NOT NULL REFERENCES runs(id),
  step           INTEGER NOT NULL,
  layer          INTEGER NOT NULL,
  op             TEXT NOT NULL,
  name_id        INTEGER NOT NULL REFERENCES kernel_names(id),
  start_ns       INTEGER NOT NULL,
  duration_ns    INTEGER NOT NULL,
  grid_x  INTEGER NOT NULL, grid_y  INTEGER NOT NULL, grid_z  INTEGER NOT NULL,
  block_x INTEGER NOT NULL, block_y INTEGER NOT NULL, block_z INTEGER NOT NULL,
  stream         INTEGER NOT NULL,
  correlation_id INTEGER NOT NULL
);
CREATE INDEX kernels_by_run_start ON kernels(run_id, start_ns);
CREATE TABLE calibration (
  op          TEXT NOT NULL,
  batch       INTEGER NOT NULL,
  rows        INTEGER NOT NULL,
  n           INTEGER NOT NULL,
  k           INTEGER NOT NULL,
  kv_len      INTEGER NOT NULL,
  n_heads     INTEGER NOT NULL,
  n_kv_heads  INTEGER NOT NULL,
  head_dim    INTEGER NOT NULL,
  dtype       TEXT NOT NULL,
  duration_us REAL NOT NULL,
  repetitions INTEGER NOT NULL,
  device      TEXT NOT NULL
);
CREATE TABLE capture_stats (
  run_id INTEGER REFERENCES runs(id),
  name   TEXT NOT NULL,
  value  REAL NOT NULL
);
)sql";

constexpr std::array kRequiredTables = {"meta",    "prompts",     "layer_similarity",
                                        "runs",    "run_steps",   "kernel_names",
                                        "kernels", "calibration", "capture_stats"};

constexpr std::size_t kSqliteHeaderBytes = 100;

Error not_a_trace(const std::string& path, const std::string& why) {
  return make_error(fmt::format("{} is not a squeeze trace ({})", path, why), 2);
}

std::uint32_t big_endian(const unsigned char* p, int bytes) {
  std::uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

Result<std::int64_t> pragma_int(sqlite3* db, const std::string& path, const char* pragma) {
  SQZ_TRY(stmt, sqlite::Statement::prepare(db, path, fmt::format("PRAGMA {}", pragma)));
  SQZ_TRY(has_row, stmt.step());
  if (!has_row) return make_error(fmt::format("{}: PRAGMA {} returned nothing", path, pragma), 2);
  return stmt.int64(0);
}

// SQLite reports a damaged file lazily, on the first read that hits it; say so in words.
Error unreadable(sqlite3* db, const std::string& path) {
  const int code = sqlite3_errcode(db);
  if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
    return make_error(fmt::format("{} is corrupt or truncated, not a readable squeeze trace ({})",
                                  path, sqlite3_errmsg(db)),
                      2);
  }
  return make_error(fmt::format("{}: cannot read: {}", path, sqlite3_errmsg(db)), 2);
}

}  // namespace

Status check_file(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) return make_error(fmt::format("{}: no such file", path), 2);
  if (fs::is_directory(status)) {
    return make_error(fmt::format("{} is a directory, not a squeeze trace", path), 2);
  }
  if (!fs::is_regular_file(status)) return not_a_trace(path, "not a regular file");
  const auto size = fs::file_size(path, ec);
  if (ec) return make_error(fmt::format("{}: cannot read its size: {}", path, ec.message()), 2);
  if (size == 0) return not_a_trace(path, "the file is empty");

  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(fmt::format("{}: cannot open for reading", path), 2);
  std::array<unsigned char, kSqliteHeaderBytes> header{};
  in.read(reinterpret_cast<char*>(header.data()), header.size());
  const auto got = static_cast<std::size_t>(in.gcount());
  static constexpr char kMagic[] = "SQLite format 3";  // followed by a NUL: 16 bytes
  if (got < sizeof kMagic || std::memcmp(header.data(), kMagic, sizeof kMagic) != 0) {
    return not_a_trace(path, "not an SQLite database");
  }
  if (got < kSqliteHeaderBytes) {
    return make_error(
        fmt::format("{} is truncated ({} bytes), not a readable squeeze trace", path, size), 2);
  }
  // The header's page count is only trustworthy when no write-ahead log still holds pages (a
  // capture killed mid-checkpoint is recovered from its -wal file, not judged by its size).
  const std::uint32_t raw_page_size = big_endian(&header[16], 2);
  const std::uint64_t page_size = raw_page_size == 1 ? 65536 : raw_page_size;
  const std::uint32_t change_counter = big_endian(&header[24], 4);
  const std::uint32_t page_count = big_endian(&header[28], 4);
  const std::uint32_t valid_for = big_endian(&header[92], 4);
  const bool wal_present = fs::exists(path + "-wal", ec) && fs::file_size(path + "-wal", ec) > 0;
  if (!wal_present && change_counter == valid_for && page_count > 0 &&
      page_size * page_count > size) {
    return make_error(fmt::format("{} is truncated: its header promises {} bytes, the file has {}",
                                  path, page_size * page_count, size),
                      2);
  }
  return {};
}

Result<int> validate(sqlite3* db, const std::string& path) {
  auto app_id = pragma_int(db, path, "application_id");
  if (!app_id.ok()) return unreadable(db, path);
  if (*app_id != kTraceApplicationId) {
    return not_a_trace(
        path, fmt::format("SQLite application_id is {:#x}, squeeze traces have {:#x}", *app_id,
                          kTraceApplicationId));
  }
  auto version = pragma_int(db, path, "user_version");
  if (!version.ok()) return unreadable(db, path);
  if (*version > kTraceFormatVersion) {
    return make_error(fmt::format("{} has format version {}; this squeeze reads up to {}", path,
                                  *version, kTraceFormatVersion),
                      2);
  }
  if (*version < 1) {
    return not_a_trace(path,
                       fmt::format("format version {} was never written by squeeze", *version));
  }

  // Damage inside the file only shows when its pages are read: check them all up front rather
  // than fail halfway through a view.
  auto check = sqlite::Statement::prepare(db, path, "PRAGMA quick_check");
  if (!check.ok()) return unreadable(db, path);
  auto row = check->step();
  if (!row.ok()) return unreadable(db, path);
  if (*row && check->text(0) != "ok") {
    return make_error(
        fmt::format("{} is corrupt, not a readable squeeze trace ({})", path, check->text(0)), 2);
  }

  SQZ_TRY(tables,
          sqlite::Statement::prepare(
              db, path, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?"));
  for (const char* table : kRequiredTables) {
    tables.bind(1, std::string_view(table));
    auto found = tables.step();
    if (!found.ok()) return unreadable(db, path);
    if (tables.int64(0) == 0) {
      return make_error(
          fmt::format("{} is a damaged squeeze trace: table '{}' is missing", path, table), 2);
    }
    tables.reset();
  }
  return static_cast<int>(*version);
}

Status create(sqlite3* db, const std::string& path) {
  SQZ_TRY(tx, sqlite::Transaction::begin(db, path));
  SQZ_CHECK(sqlite::exec(db, path, kSchemaV1));
  SQZ_CHECK(sqlite::exec(db, path,
                         fmt::format("PRAGMA application_id = {}", kTraceApplicationId).c_str()));
  SQZ_CHECK(
      sqlite::exec(db, path, fmt::format("PRAGMA user_version = {}", kTraceFormatVersion).c_str()));
  return tx.commit();
}

}  // namespace squeeze::core::trace_schema
