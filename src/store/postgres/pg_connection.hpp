// One libpq connection behind the shared SQL interface. Statements are prepared once per connection
// (named server-side), parameters travel as text (blobs as binary), results come back as text.
// The shared SQL's `?1` / `?` placeholders are rewritten to PostgreSQL's `$1` when a statement is prepared.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/sql/sql_connection.hpp"
#include "store/store.hpp"

namespace tessera::store::postgres {

// SQLSTATE 40001 or 40P01: the transaction lost a conflict with another and may simply be run again.
struct SerializationFailure : StoreFailure {
  using StoreFailure::StoreFailure;
};
// The server went away or the connection broke: the connection is unusable.
struct ConnectionLost : StoreFailure {
  using StoreFailure::StoreFailure;
};

// `?NNN` becomes `$NNN` and a bare `?` the next number, outside quoted strings and identifiers.
// Returns the rewritten SQL and the number of parameters.
std::pair<std::string, int> to_postgres_placeholders(std::string_view sql);

// "postgres://user:secret@host/db" without the password, for logs and errors.
std::string redact_url(std::string_view url);

class PgConnection;

class PgCursor final : public sql::Cursor {
 public:
  // `name` empty: an unnamed one-shot statement with its SQL in `sql`.
  PgCursor(PgConnection& conn, std::string name, std::string sql, int params);
  PgCursor(const PgCursor&) = delete;
  PgCursor& operator=(const PgCursor&) = delete;
  ~PgCursor() override;

  void bind_text(int index, std::string_view text) override { set(index, std::string(text), false); }
  void bind_int(int index, int64_t value) override { set(index, std::to_string(value), false); }
  void bind_double(int index, double value) override;
  void bind_bool(int index, bool value) override { set(index, value ? "true" : "false", false); }
  void bind_blob(int index, std::string_view bytes) override { set(index, std::string(bytes), true); }
  void bind_null(int index) override;
  bool step() override;
  std::optional<std::string> run_unique() override;
  bool is_null(int col) const override { return PQgetisnull(result_, row_, col) != 0; }
  std::string text(int col) const override;
  int64_t integer(int col) const override;
  bool boolean(int col) const override;
  std::string blob(int col) const override;
  boost::json::value value(int col) const override;
  void reset() override;

 private:
  void set(int index, std::string value, bool binary);
  // Runs the statement; returns the error result (not thrown) when `keep_error`.
  PGresult* execute();

  PgConnection& conn_;
  std::string name_;
  std::string sql_;
  std::vector<std::optional<std::string>> values_;
  std::vector<int> binary_;
  PGresult* result_ = nullptr;
  bool executed_ = false;
  int row_ = -1;
  int rows_ = 0;
};

class PgConnection final : public sql::Connection {
 public:
  explicit PgConnection(const std::string& url);
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection() override;

  sql::Dialect dialect() const override { return sql::Dialect::postgres; }
  sql::Statement prepare(const char* sql) override;
  sql::Statement prepare_once(const std::string& sql) override;
  void exec(const std::string& sql) override;
  int64_t changes() const override { return changes_; }

  PGconn* handle() { return conn_; }
  bool in_transaction() const { return PQtransactionStatus(conn_) != PQTRANS_IDLE; }
  bool broken() const { return PQstatus(conn_) != CONNECTION_OK; }
  // Checks a result: records the rows changed, or throws the failure it reports (and clears it).
  void check(PGresult* result, std::string_view what);
  void record_changes(PGresult* result);

 private:
  PGconn* conn_ = nullptr;
  int64_t changes_ = 0;
  int next_statement_ = 0;
  std::unordered_map<const char*, std::unique_ptr<PgCursor>> statements_;
};

}  // namespace tessera::store::postgres
