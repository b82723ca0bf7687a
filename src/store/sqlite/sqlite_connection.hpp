// A thin RAII layer over one SQLite connection: cached prepared statements and typed binding.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.hpp"

namespace tessera::store::sqlite {

class Connection;

// One execution of a cached prepared statement; resets it when it goes out of scope.
class Statement {
 public:
  Statement(Connection& conn, sqlite3_stmt* stmt) : conn_(conn), stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::optional<std::string>& text);
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, bool value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, Timestamp t) { return bind(index, to_micros(t)); }
  Statement& bind(int index, const std::optional<Timestamp>& t);
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_null(int index);

  // True while a row is available.
  bool step();
  // Runs a statement that returns no rows.
  void run();
  // Like run(), but a UNIQUE violation is an expected outcome: returns SQLite's message naming the
  // columns ("UNIQUE constraint failed: users.project_id, users.email_key"), or nullopt on success.
  std::optional<std::string> run_unique();

  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const;
  std::optional<std::string> optional_text(int col) const;
  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool boolean(int col) const { return integer(col) != 0; }
  Timestamp time(int col) const { return from_micros(integer(col)); }
  std::optional<Timestamp> optional_time(int col) const;
  std::string blob(int col) const;

 private:
  Connection& conn_;
  sqlite3_stmt* stmt_;
};

class Connection {
 public:
  // Opens (creating if asked) and sets the pragmas every connection needs.
  Connection(const std::string& path, bool create, std::string_view synchronous);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // `sql` must be a string literal: its address keys the statement cache.
  Statement prepare(const char* sql);
  void exec(const std::string& sql);
  int changes() const { return sqlite3_changes(db_); }
  sqlite3* handle() { return db_; }
  [[noreturn]] void throw_error(std::string_view what) const;

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, sqlite3_stmt*> statements_;
};

}  // namespace tessera::store::sqlite
