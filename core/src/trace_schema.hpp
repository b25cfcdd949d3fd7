#pragma once
// The trace schema (format version kTraceFormatVersion) and the checks that decide whether a file
// is a squeeze trace this build can read. Shared by TraceWriter and TraceReader so both refuse
// the same files with the same words.

#include <sqlite3.h>

#include <string>

#include "squeeze/core/result.hpp"

namespace squeeze::core::trace_schema {

// Before SQLite touches the file: missing, directory, empty, too short, not an SQLite file.
// Errors carry code 2 (bad input).
[[nodiscard]] Status check_file(const std::string& path);

// On an open connection: application_id, user_version, required tables, page-level integrity.
// Returns the file's format version.
[[nodiscard]] Result<int> validate(sqlite3* db, const std::string& path);

// Creates every table of the current version and stamps application_id and user_version, in one
// transaction, on an empty database.
[[nodiscard]] Status create(sqlite3* db, const std::string& path);

}  // namespace squeeze::core::trace_schema
