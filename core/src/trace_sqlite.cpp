#include "trace_sqlite.hpp"

#include <fmt/format.h>

namespace squeeze::core::sqlite {

Error db_error(sqlite3* db, const std::string& path, std::string_view what) {
  const char* message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  return make_error(fmt::format("{}: {}: {}", path, what, message));
}

Status exec(sqlite3* db, const std::string& path, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return make_error(fmt::format("{}: {}", path, text));
  }
  return {};
}

Result<Statement> Statement::prepare(sqlite3* db, const std::string& path, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return db_error(db, path, fmt::format("cannot prepare '{}'", sql));
  }
  return Statement(db, path, stmt);
}

void Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_.get(), index, value);
}
void Statement::bind(int index, double value) { sqlite3_bind_double(stmt_.get(), index, value); }
void Statement::bind(int index, std::string_view value) {
  sqlite3_bind_text(stmt_.get(), index, value.data(), static_cast<int>(value.size()),
                    SQLITE_TRANSIENT);
}
void Statement::bind_null(int index) { sqlite3_bind_null(stmt_.get(), index); }

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_error(db_, *path_, "query failed");
}

Status Statement::run() {
  SQZ_TRY(has_row, step());
  (void)has_row;
  reset();
  return {};
}

void Statement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

std::int64_t Statement::int64(int column) const {
  return sqlite3_column_int64(stmt_.get(), column);
}
double Statement::real(int column) const { return sqlite3_column_double(stmt_.get(), column); }
std::string Statement::text(int column) const {
  const auto* bytes = sqlite3_column_text(stmt_.get(), column);
  if (bytes == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(bytes),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column)));
}
bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

Result<Transaction> Transaction::begin(sqlite3* db, const std::string& path) {
  SQZ_CHECK(exec(db, path, "BEGIN IMMEDIATE"));
  return Transaction(db, path);
}

Transaction::~Transaction() {
  if (db_ != nullptr) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Status Transaction::commit() {
  SQZ_CHECK(exec(db_, *path_, "COMMIT"));
  db_ = nullptr;
  return {};
}

}  // namespace squeeze::core::sqlite
