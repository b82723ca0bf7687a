#include "store/sqlite/sqlite_connection.hpp"

#include <boost/json/string.hpp>

#include "store/store.hpp"

namespace tessera::store::sqlite {

SqliteCursor::~SqliteCursor() {
  if (owned_) sqlite3_finalize(stmt_);
}

void SqliteCursor::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void SqliteCursor::bind_text(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}
void SqliteCursor::bind_int(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
void SqliteCursor::bind_double(int index, double value) { sqlite3_bind_double(stmt_, index, value); }
void SqliteCursor::bind_blob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
}
void SqliteCursor::bind_null(int index) { sqlite3_bind_null(stmt_, index); }

bool SqliteCursor::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  conn_.throw_error(sqlite3_sql(stmt_));
}

std::optional<std::string> SqliteCursor::run_unique() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return std::nullopt;
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    return std::string(sqlite3_errmsg(conn_.handle()));
  conn_.throw_error(sqlite3_sql(stmt_));
}

std::string SqliteCursor::text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}

std::string SqliteCursor::blob(int col) const {
  auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}

boost::json::value SqliteCursor::value(int col) const {
  switch (sqlite3_column_type(stmt_, col)) {
    case SQLITE_NULL: return nullptr;
    case SQLITE_INTEGER: return sqlite3_column_int64(stmt_, col);
    case SQLITE_FLOAT: return sqlite3_column_double(stmt_, col);
    default: return boost::json::string(text(col));
  }
}

Connection::Connection(const std::string& path, bool create, std::string_view synchronous) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreFailure("cannot open " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
  // busy_timeout first: another process (e.g. `tessera migrate`) may hold a lock while we switch to WAL.
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL");
  exec(std::string("PRAGMA synchronous=") + (synchronous == "full" ? "FULL" : "NORMAL"));
  exec("PRAGMA foreign_keys=ON");
}

Connection::~Connection() {
  statements_.clear();  // finalizes every cached statement before closing
  sqlite3_close(db_);
}

sqlite3_stmt* Connection::compile(std::string_view sql, unsigned flags) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), flags, &stmt, nullptr) != SQLITE_OK ||
      stmt == nullptr) {
    sqlite3_finalize(stmt);
    throw_error(sql);
  }
  return stmt;
}

sql::Statement Connection::prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    auto cursor = std::make_unique<SqliteCursor>(*this, compile(sql, SQLITE_PREPARE_PERSISTENT), true);
    it = statements_.emplace(sql, std::move(cursor)).first;
  }
  return sql::Statement(*it->second);
}

sql::Statement Connection::prepare_once(const std::string& sql) {
  return sql::Statement(std::make_unique<SqliteCursor>(*this, compile(sql, 0), true));
}

void Connection::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw StoreFailure("sqlite: " + msg + " in: " + sql.substr(0, 120));
  }
}

void Connection::throw_error(std::string_view what) const {
  throw StoreFailure("sqlite: " + std::string(sqlite3_errmsg(db_)) + " in: " + std::string(what.substr(0, 120)));
}

}  // namespace tessera::store::sqlite
