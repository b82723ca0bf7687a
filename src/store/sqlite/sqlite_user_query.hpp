// Compiles the user filter language (identity/user_query.hpp) to SQLite SQL. User text only ever
// travels as bound parameters: the SQL text is built from fixed fragments and column names chosen here.
//
// Shapes:
//   WHERE  project_id = ? AND <condition> AND ...
//   list   SELECT <columns>, <sort values> FROM users WHERE ... [AND <after cursor>]
//          ORDER BY <sort keys>, id LIMIT ?        (the caller asks for limit + 1 rows)
//   update UPDATE users SET <given columns>, updated_at = ? WHERE ... RETURNING id
//   delete DELETE FROM users WHERE ... RETURNING id
#pragma once

#include <sqlite3.h>

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clock.hpp"
#include "identity/user_query.hpp"
#include "store/sqlite/sqlite_connection.hpp"

namespace tessera::store::sqlite {

using SqlParam = std::variant<std::nullptr_t, int64_t, double, std::string>;

// SQL with positional `?` parameters, bound in order.
struct SqlQuery {
  std::string sql;
  std::vector<SqlParam> params;
};

// `project_id = ? AND ...`: every condition, always scoped to the project.
SqlQuery compile_user_where(std::string_view project_id, const std::vector<identity::Condition>& where);

// One page of users plus one row (the caller asks for limit + 1 to learn whether a next page exists).
// The result columns are `columns`, then one sort value per query.sort key (what Cursor::keys holds).
SqlQuery compile_user_list(std::string_view project_id, const identity::UserQuery& query, std::string_view columns);

// Returns the ids of the changed users.
SqlQuery compile_user_update(std::string_view project_id, const std::vector<identity::Condition>& where,
                             const identity::UserChanges& changes, Timestamp now);
// Returns the ids of the deleted users.
SqlQuery compile_user_delete(std::string_view project_id, const std::vector<identity::Condition>& where);

// A statement compiled for one run: Connection::prepare caches by literal, which dynamic SQL is not.
// Throws StoreFailure when SQLite refuses the SQL or a step fails.
class OneShotStatement {
 public:
  OneShotStatement(Connection& conn, const SqlQuery& query);
  OneShotStatement(const OneShotStatement&) = delete;
  OneShotStatement& operator=(const OneShotStatement&) = delete;
  ~OneShotStatement();

  bool step() { return statement_->step(); }
  const Statement& row() const { return *statement_; }
  // A column as a JSON scalar: null, int64, double or string.
  boost::json::value value(int col) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
  std::optional<Statement> statement_;
};

}  // namespace tessera::store::sqlite
