// One SQLite connection behind the shared SQL interface: cached prepared statements, typed binding.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <unordered_map>
#include <memory>

#include "store/sql/sql_connection.hpp"

namespace tessera::store::sqlite {

class Connection;

class SqliteCursor final : public sql::Cursor {
 public:
  SqliteCursor(Connection& conn, sqlite3_stmt* stmt, bool owned) : conn_(conn), stmt_(stmt), owned_(owned) {}
  SqliteCursor(const SqliteCursor&) = delete;
  SqliteCursor& operator=(const SqliteCursor&) = delete;
  ~SqliteCursor() override;

  void bind_text(int index, std::string_view text) override;
  void bind_int(int index, int64_t value) override;
  void bind_double(int index, double value) override;
  void bind_bool(int index, bool value) override { bind_int(index, value ? 1 : 0); }
  void bind_blob(int index, std::string_view bytes) override;
  void bind_null(int index) override;
  bool step() override;
  std::optional<std::string> run_unique() override;
  bool is_null(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const override;
  int64_t integer(int col) const override { return sqlite3_column_int64(stmt_, col); }
  bool boolean(int col) const override { return integer(col) != 0; }
  std::string blob(int col) const override;
  boost::json::value value(int col) const override;
  void reset() override;

 private:
  Connection& conn_;
  sqlite3_stmt* stmt_;
  bool owned_;  // finalized with the cursor (one-shot statements)
};

class Connection final : public sql::Connection {
 public:
  // Opens (creating if asked) and sets the pragmas every connection needs.
  Connection(const std::string& path, bool create, std::string_view synchronous);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() override;

  sql::Dialect dialect() const override { return sql::Dialect::sqlite; }
  sql::Statement prepare(const char* sql) override;
  sql::Statement prepare_once(const std::string& sql) override;
  void exec(const std::string& sql) override;
  int64_t changes() const override { return sqlite3_changes64(db_); }
  sqlite3* handle() { return db_; }
  [[noreturn]] void throw_error(std::string_view what) const;

 private:
  sqlite3_stmt* compile(std::string_view sql, unsigned flags);

  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, std::unique_ptr<SqliteCursor>> statements_;
};

}  // namespace tessera::store::sqlite
