#include "store/sqlite/sqlite_connection.hpp"

#include "store/store.hpp"

namespace tessera::store::sqlite {

Statement::~Statement() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind(int index, const std::optional<std::string>& text) {
  return text ? bind(index, std::string_view(*text)) : bind_null(index);
}
Statement& Statement::bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Statement& Statement::bind(int index, const std::optional<Timestamp>& t) {
  return t ? bind(index, *t) : bind_null(index);
}
Statement& Statement::bind_blob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  conn_.throw_error(sqlite3_sql(stmt_));
}

void Statement::run() {
  while (step()) {
  }
}

std::optional<std::string> Statement::run_unique() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return std::nullopt;
  if (rc == SQLITE_CONSTRAINT_UNIQUE) return std::string(sqlite3_errmsg(conn_.handle()));
  conn_.throw_error(sqlite3_sql(stmt_));
}

std::string Statement::text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}
std::optional<std::string> Statement::optional_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}
std::optional<Timestamp> Statement::optional_time(int col) const {
  if (is_null(col)) return std::nullopt;
  return time(col);
}
std::string Statement::blob(int col) const {
  auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
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
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Statement Connection::prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
      throw_error(sql);
    it = statements_.emplace(sql, stmt).first;
  }
  return Statement(*this, it->second);
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
