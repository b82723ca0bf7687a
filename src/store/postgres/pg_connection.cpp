#include "store/postgres/pg_connection.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/string.hpp>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace tessera::store::postgres {

namespace {

// Type OIDs (pg_type.dat), for Cursor::value.
constexpr Oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kJson = 114, kFloat4 = 700, kFloat8 = 701,
              kNumeric = 1700, kJsonb = 3802;

std::string sqlstate(const PGresult* r) {
  const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  return s ? s : "";
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::pair<std::string, int> to_postgres_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 0, highest = 0;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote) {
      out.push_back(c);
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out.push_back(c);
      continue;
    }
    if (c != '?') {
      out.push_back(c);
      continue;
    }
    size_t j = i + 1;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') ++j;
    int number = 0;
    if (j > i + 1) std::from_chars(sql.data() + i + 1, sql.data() + j, number);
    else number = ++next;
    highest = std::max(highest, number);
    out.push_back('$');
    out += std::to_string(number);
    i = j - 1;
  }
  return {std::move(out), highest};
}

std::string redact_url(std::string_view url) {
  auto scheme = url.find("://");
  auto at = url.rfind('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) return std::string(url);
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

PgCursor::PgCursor(PgConnection& conn, std::string name, std::string sql, int params)
    : conn_(conn), name_(std::move(name)), sql_(std::move(sql)), values_(static_cast<size_t>(params)),
      binary_(static_cast<size_t>(params), 0) {}

PgCursor::~PgCursor() { PQclear(result_); }

void PgCursor::set(int index, std::string value, bool binary) {
  auto i = static_cast<size_t>(index - 1);
  if (index < 1 || i >= values_.size()) throw StoreFailure("postgres: no parameter $" + std::to_string(index) + " in: " + sql_.substr(0, 120));
  values_[i] = std::move(value);
  binary_[i] = binary ? 1 : 0;
}

void PgCursor::bind_double(int index, double value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  set(index, std::string(buf, end), false);
}

void PgCursor::bind_null(int index) {
  set(index, {}, false);
  values_[static_cast<size_t>(index - 1)].reset();
}

PGresult* PgCursor::execute() {
  std::vector<const char*> values(values_.size());
  std::vector<int> lengths(values_.size());
  for (size_t i = 0; i < values_.size(); ++i) {
    values[i] = values_[i] ? values_[i]->c_str() : nullptr;
    lengths[i] = values_[i] ? static_cast<int>(values_[i]->size()) : 0;
  }
  int n = static_cast<int>(values_.size());
  if (name_.empty())
    return PQexecParams(conn_.handle(), sql_.c_str(), n, nullptr, values.data(), lengths.data(), binary_.data(), 0);
  return PQexecPrepared(conn_.handle(), name_.c_str(), n, values.data(), lengths.data(), binary_.data(), 0);
}

bool PgCursor::step() {
  if (!executed_) {
    executed_ = true;
    result_ = execute();
    conn_.check(result_, sql_);
    rows_ = PQntuples(result_);
    row_ = -1;
  }
  return ++row_ < rows_;
}

std::optional<std::string> PgCursor::run_unique() {
  // A failed statement aborts a PostgreSQL transaction; the savepoint keeps it usable, as SQLite's is.
  bool guarded = conn_.in_transaction();
  if (guarded) conn_.exec("SAVEPOINT tessera_unique");
  executed_ = true;
  result_ = execute();
  if (PQresultStatus(result_) == PGRES_FATAL_ERROR && sqlstate(result_) == "23505") {
    const char* constraint = PQresultErrorField(result_, PG_DIAG_CONSTRAINT_NAME);
    std::string name = constraint ? constraint : "unique";
    if (guarded) conn_.exec("ROLLBACK TO SAVEPOINT tessera_unique");
    return "UNIQUE constraint failed: " + name;
  }
  conn_.check(result_, sql_);
  if (guarded) conn_.exec("RELEASE SAVEPOINT tessera_unique");
  return std::nullopt;
}

std::string PgCursor::text(int col) const {
  return std::string(PQgetvalue(result_, row_, col), static_cast<size_t>(PQgetlength(result_, row_, col)));
}

int64_t PgCursor::integer(int col) const {
  const char* v = PQgetvalue(result_, row_, col);
  if (*v == 't') return 1;  // a BOOLEAN read as a number
  int64_t out = 0;
  std::from_chars(v, v + PQgetlength(result_, row_, col), out);
  return out;
}

bool PgCursor::boolean(int col) const {
  const char* v = PQgetvalue(result_, row_, col);
  return *v == 't' || (*v >= '1' && *v <= '9');
}

// BYTEA arrives in the hex text format: \x0a1b...
std::string PgCursor::blob(int col) const {
  std::string_view v(PQgetvalue(result_, row_, col), static_cast<size_t>(PQgetlength(result_, row_, col)));
  if (!v.starts_with("\\x")) return std::string(v);
  std::string out;
  out.reserve((v.size() - 2) / 2);
  for (size_t i = 2; i + 1 < v.size(); i += 2) {
    int hi = hex_digit(v[i]), lo = hex_digit(v[i + 1]);
    if (hi < 0 || lo < 0) throw StoreFailure("postgres: malformed bytea");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

boost::json::value PgCursor::value(int col) const {
  if (is_null(col)) return nullptr;
  std::string v = text(col);
  switch (PQftype(result_, col)) {
    case kBool: return v == "t";
    case kInt2:
    case kInt4:
    case kInt8: return integer(col);
    case kFloat4:
    case kFloat8:
    case kNumeric: {
      int64_t whole = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), whole);
      if (ec == std::errc() && end == v.data() + v.size()) return whole;
      return std::strtod(v.c_str(), nullptr);
    }
    case kJson:
    case kJsonb: {
      boost::system::error_code ec;
      auto parsed = boost::json::parse(v, ec);
      if (ec) throw StoreFailure("postgres: unreadable JSON column");
      return parsed;
    }
    default: return boost::json::string(v);
  }
}

void PgCursor::reset() {
  PQclear(result_);
  result_ = nullptr;
  executed_ = false;
  row_ = -1;
  rows_ = 0;
  for (auto& v : values_) v.reset();
  std::fill(binary_.begin(), binary_.end(), 0);
}

PgConnection::PgConnection(const std::string& url) {
  conn_ = PQconnectdb(url.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = conn_ ? PQerrorMessage(conn_) : "out of memory";
    PQfinish(conn_);
    conn_ = nullptr;
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    throw ConnectionLost("cannot connect to " + redact_url(url) + ": " + msg);
  }
  // Our notices (e.g. "relation already exists, skipping") are not worth a line on stderr.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  exec("SET TIME ZONE 'UTC'");
}

PgConnection::~PgConnection() {
  statements_.clear();
  PQfinish(conn_);
}

void PgConnection::record_changes(PGresult* result) {
  const char* n = PQcmdTuples(result);
  changes_ = 0;
  if (n && *n) std::from_chars(n, n + std::strlen(n), changes_);
}

void PgConnection::check(PGresult* result, std::string_view what) {
  auto status = PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    record_changes(result);
    return;
  }
  std::string state = result ? sqlstate(result) : "";
  std::string msg = result ? PQresultErrorMessage(result) : PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  msg = "postgres: " + msg + " in: " + std::string(what.substr(0, 160));
  if (state == "40001" || state == "40P01") throw SerializationFailure(msg);
  if (broken() || state.starts_with("08") || state == "57P01") throw ConnectionLost(msg);
  throw StoreFailure(msg);
}

sql::Statement PgConnection::prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    auto [text, params] = to_postgres_placeholders(sql);
    std::string name = "s" + std::to_string(++next_statement_);
    PGresult* r = PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr);
    try {
      check(r, text);
    } catch (...) {
      PQclear(r);
      throw;
    }
    PQclear(r);
    it = statements_.emplace(sql, std::make_unique<PgCursor>(*this, std::move(name), std::move(text), params)).first;
  }
  return sql::Statement(*it->second);
}

sql::Statement PgConnection::prepare_once(const std::string& sql) {
  auto [text, params] = to_postgres_placeholders(sql);
  return sql::Statement(std::make_unique<PgCursor>(*this, std::string(), std::move(text), params));
}

void PgConnection::exec(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  try {
    check(r, sql);
  } catch (...) {
    PQclear(r);
    throw;
  }
  PQclear(r);
}

}  // namespace tessera::store::postgres
