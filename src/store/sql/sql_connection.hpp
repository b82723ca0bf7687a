// The SQL the two backends share. The stores in store/sql/ are written once, in the SQL that both
// SQLite 3.40 and PostgreSQL 15 accept (`?1` parameters, ON CONFLICT, RETURNING, TRUE/FALSE), against
// this small connection interface; store/sqlite and store/postgres implement it over their drivers.
// Where the dialects differ (JSON in the user filters), the code asks Connection::dialect().
// PostgreSQL takes a parameter's type from its first use: a parameter that may be NULL is compared
// first and tested for NULL after, `(id < ?2 OR ?2 IS NULL)`, never the other way round.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/clock.hpp"

namespace tessera::store::sql {

enum class Dialect { sqlite, postgres };

// One numbered migration of a backend, compiled in: CMake turns migrations/<backend>/*.sql into
// <backend>_migrations.inc, a list of these in file-name order.
struct Migration {
  const char* name;
  const char* sql;
};

// One backend's prepared statement: parameters are 1-based, columns 0-based. step() executes it on
// its first call. Failures throw StoreFailure.
class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual void bind_text(int index, std::string_view text) = 0;
  virtual void bind_int(int index, int64_t value) = 0;
  virtual void bind_double(int index, double value) = 0;
  virtual void bind_bool(int index, bool value) = 0;
  virtual void bind_blob(int index, std::string_view bytes) = 0;
  virtual void bind_null(int index) = 0;
  virtual bool step() = 0;
  // Executes; a UNIQUE violation is returned (a message naming the index or columns), not thrown,
  // and leaves the transaction usable.
  virtual std::optional<std::string> run_unique() = 0;
  virtual bool is_null(int col) const = 0;
  virtual std::string text(int col) const = 0;
  virtual int64_t integer(int col) const = 0;
  virtual bool boolean(int col) const = 0;
  virtual std::string blob(int col) const = 0;
  // A column as a JSON scalar: null, int64, double or string.
  virtual boost::json::value value(int col) const = 0;
  // Forgets bindings and results, ready for the next use.
  virtual void reset() = 0;
};

// One execution of a statement: typed binding and reading; resets the cursor when it goes out of scope.
class Statement {
 public:
  explicit Statement(Cursor& cursor) : cursor_(&cursor) {}
  explicit Statement(std::unique_ptr<Cursor> owned) : owned_(std::move(owned)), cursor_(owned_.get()) {}
  Statement(Statement&& other) noexcept : owned_(std::move(other.owned_)), cursor_(std::exchange(other.cursor_, nullptr)) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement() {
    if (cursor_) cursor_->reset();
  }

  Statement& bind(int index, std::string_view text) {
    cursor_->bind_text(index, text);
    return *this;
  }
  Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::optional<std::string>& text) {
    return text ? bind(index, std::string_view(*text)) : bind_null(index);
  }
  Statement& bind(int index, int64_t value) {
    cursor_->bind_int(index, value);
    return *this;
  }
  Statement& bind(int index, double value) {
    cursor_->bind_double(index, value);
    return *this;
  }
  Statement& bind(int index, bool value) {
    cursor_->bind_bool(index, value);
    return *this;
  }
  Statement& bind(int index, Timestamp t) { return bind(index, to_micros(t)); }
  Statement& bind(int index, const std::optional<Timestamp>& t) { return t ? bind(index, *t) : bind_null(index); }
  Statement& bind_blob(int index, std::string_view bytes) {
    cursor_->bind_blob(index, bytes);
    return *this;
  }
  Statement& bind_null(int index) {
    cursor_->bind_null(index);
    return *this;
  }

  // True while a row is available.
  bool step() { return cursor_->step(); }
  // Runs a statement whose rows (if any) are not needed.
  void run() {
    while (step()) {
    }
  }
  std::optional<std::string> run_unique() { return cursor_->run_unique(); }

  bool is_null(int col) const { return cursor_->is_null(col); }
  std::string text(int col) const { return cursor_->text(col); }
  std::optional<std::string> optional_text(int col) const {
    if (is_null(col)) return std::nullopt;
    return text(col);
  }
  int64_t integer(int col) const { return cursor_->integer(col); }
  bool boolean(int col) const { return cursor_->boolean(col); }
  Timestamp time(int col) const { return from_micros(integer(col)); }
  std::optional<Timestamp> optional_time(int col) const {
    if (is_null(col)) return std::nullopt;
    return time(col);
  }
  std::string blob(int col) const { return cursor_->blob(col); }
  boost::json::value value(int col) const { return cursor_->value(col); }

 private:
  std::unique_ptr<Cursor> owned_;
  Cursor* cursor_;
};

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  // `sql` must be a string literal: its address keys the connection's statement cache.
  virtual Statement prepare(const char* sql) = 0;
  // SQL built at run time (the user filters), prepared for one execution.
  virtual Statement prepare_once(const std::string& sql) = 0;
  // Runs SQL without parameters or results (may hold several statements).
  virtual void exec(const std::string& sql) = 0;
  // Rows changed by the last INSERT, UPDATE or DELETE.
  virtual int64_t changes() const = 0;
};

}  // namespace tessera::store::sql
