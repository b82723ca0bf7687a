// Compiles the user filter language (identity/user_query.hpp) to SQL, in either dialect, with the same
// results in both: the same rows, in the same order, with the same cursors. User text only ever travels
// as bound parameters: the SQL text is built from fixed fragments, column names chosen here and (on
// PostgreSQL) data path segments, which data_path() restricts to [A-Za-z0-9_-].
//
// Shapes:
//   WHERE  project_id = ? AND <condition> AND ...
//   list   SELECT <columns>, <sort values>[, <PostgreSQL: each data sort key as rank, number, text>]
//          FROM users WHERE ... [AND <after cursor>]
//          ORDER BY <sort keys>, id LIMIT ?        (the caller asks for limit + 1 rows)
//   update UPDATE users SET <given columns>, updated_at = ? WHERE ... RETURNING id
//   delete DELETE FROM users WHERE ... RETURNING id
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clock.hpp"
#include "identity/user_query.hpp"
#include "store/sql/sql_connection.hpp"

namespace tessera::store::sql {

using SqlParam = std::variant<std::nullptr_t, int64_t, double, std::string, bool>;

// SQL with positional `?` parameters, bound in order.
struct SqlQuery {
  std::string sql;
  std::vector<SqlParam> params;
};

// `project_id = ? AND ...`: every condition, always scoped to the project.
SqlQuery compile_user_where(Dialect dialect, std::string_view project_id, const std::vector<identity::Condition>& where);

// One page of users plus one row (the caller asks for limit + 1 to learn whether a next page exists).
// The result columns are `columns`, then one sort value per query.sort key (what Cursor::keys holds:
// null, an integer, a double or a string, read with Cursor::value), then possibly more to ignore.
SqlQuery compile_user_list(Dialect dialect, std::string_view project_id, const identity::UserQuery& query, std::string_view columns);

// Returns the ids of the changed users.
SqlQuery compile_user_update(Dialect dialect, std::string_view project_id, const std::vector<identity::Condition>& where,
                             const identity::UserChanges& changes, Timestamp now);
// Returns the ids of the deleted users.
SqlQuery compile_user_delete(Dialect dialect, std::string_view project_id, const std::vector<identity::Condition>& where);

// Prepares a compiled query for one run and binds its parameters.
Statement prepare_query(Connection& conn, const SqlQuery& query);

}  // namespace tessera::store::sql
