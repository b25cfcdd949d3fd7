#pragma once
// Result<T>: a value or an Error, for library code that must never exit() or throw across its
// API. A small stand-in for std::expected (C++23), which this C++20 project cannot use yet.

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace squeeze::core {

// What went wrong, in words a user can act on ("model.bin: tensor wq: expected 4096 bytes, file
// ends at 1200"). `code` is the process exit status a command-line front end should use.
struct Error {
  std::string message;
  int code = 1;
};

[[nodiscard]] inline Error make_error(std::string message, int code = 1) {
  return Error{std::move(message), code};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : storage_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  [[nodiscard]] bool ok() const { return storage_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(storage_); }
  const T& value() const& { assert(ok()); return std::get<0>(storage_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(storage_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(storage_); }

 private:
  std::variant<T, Error> storage_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT
  [[nodiscard]] bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { assert(failed_); return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace squeeze::core

// Propagate an error from an expression returning Result<...>: SQZ_TRY(x, parse(file));
#define SQZ_CONCAT_INNER(a, b) a##b
#define SQZ_CONCAT(a, b) SQZ_CONCAT_INNER(a, b)
#define SQZ_TRY(var, expr)                                   \
  auto SQZ_CONCAT(sqz_try_, __LINE__) = (expr);              \
  if (!SQZ_CONCAT(sqz_try_, __LINE__).ok())                  \
    return SQZ_CONCAT(sqz_try_, __LINE__).error();           \
  auto var = std::move(SQZ_CONCAT(sqz_try_, __LINE__)).value()
#define SQZ_CHECK(expr)                                      \
  do {                                                       \
    auto sqz_status_ = (expr);                               \
    if (!sqz_status_.ok()) return sqz_status_.error();       \
  } while (0)
