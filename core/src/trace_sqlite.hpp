#pragma once
// Thin RAII over the SQLite C API for the trace store. Private to core/src: sqlite3.h never
// reaches a public header. Every error names the trace file, since that is what a user can act on.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "squeeze/core/result.hpp"

namespace squeeze::core::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

// "<path>: <what>: <sqlite's message>"
[[nodiscard]] Error db_error(sqlite3* db, const std::string& path, std::string_view what);

// Runs SQL without results (DDL, PRAGMA settings, BEGIN/COMMIT).
[[nodiscard]] Status exec(sqlite3* db, const std::string& path, const char* sql);

class Statement {
 public:
  [[nodiscard]] static Result<Statement> prepare(sqlite3* db, const std::string& path,
                                                 std::string_view sql);
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;

  // Parameters are 1-based, as in SQLite.
  void bind(int index, std::int64_t value);
  void bind(int index, int value) { bind(index, static_cast<std::int64_t>(value)); }
  void bind(int index, double value);
  void bind(int index, std::string_view value);
  void bind_null(int index);

  // true: a row is ready; false: done. Errors name the file.
  [[nodiscard]] Result<bool> step();
  // Runs to completion, expecting no rows (INSERT/UPDATE/DELETE).
  [[nodiscard]] Status run();
  void reset();  // also clears bindings

  // Columns are 0-based. NULL reads as 0 / 0.0 / "".
  [[nodiscard]] std::int64_t int64(int column) const;
  [[nodiscard]] int int32(int column) const { return static_cast<int>(int64(column)); }
  [[nodiscard]] double real(int column) const;
  [[nodiscard]] std::string text(int column) const;
  [[nodiscard]] bool is_null(int column) const;

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  Statement(sqlite3* db, const std::string& path, sqlite3_stmt* stmt)
      : db_(db), path_(&path), stmt_(stmt) {}
  sqlite3* db_;
  const std::string* path_;  // owned by the reader/writer that owns this statement
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed uncommitted (an error path).
class Transaction {
 public:
  [[nodiscard]] static Result<Transaction> begin(sqlite3* db, const std::string& path);
  Transaction(Transaction&& other) noexcept : db_(other.db_), path_(other.path_) {
    other.db_ = nullptr;
  }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  [[nodiscard]] Status commit();

 private:
  Transaction(sqlite3* db, const std::string& path) : db_(db), path_(&path) {}
  sqlite3* db_;
  const std::string* path_;
};

}  // namespace squeeze::core::sqlite
