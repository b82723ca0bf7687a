#include "store/sqlite/sqlite_user_query.hpp"

#include <boost/json/serialize.hpp>
#include <algorithm>
#include <stdexcept>

#include "identity/identifiers.hpp"
#include "store/store.hpp"

namespace tessera::store::sqlite {

namespace {

namespace json = boost::json;
using identity::Condition;
using identity::FieldInfo;
using identity::FieldKind;
using identity::FilterOp;

// What a condition or sort key reads: a column, or a path inside `data`.
struct Target {
  FieldInfo info;
  std::string_view column;  // empty for a data path
  std::string json_path;    // $."a"."b"
};

// Email and login are compared on their folded keys, like the unique indexes and logins do.
std::string_view column_of(std::string_view field) {
  static constexpr std::pair<std::string_view, std::string_view> kColumns[] = {
      {"id", "id"},
      {"email", "email_key"},
      {"login", "login_key"},
      {"phone", "phone"},
      {"full_name", "full_name"},
      {"external_id", "external_id"},
      {"avatar_url", "avatar_url"},
      {"tags", "tags"},
      {"active", "active"},
      {"email_verified", "email_verified"},
      {"is_guest", "is_guest"},
      {"created_at", "created_at"},
      {"updated_at", "updated_at"},
      {"last_request_at", "last_request_at"},
  };
  for (auto& [name, column] : kColumns)
    if (name == field) return column;
  return {};
}

// The parser only produces known fields; anything else is a bug in the caller.
Target target_of(std::string_view field) {
  auto info = identity::user_field(field);
  if (!info) throw std::invalid_argument("user filter: unknown field " + std::string(field));
  Target t{*info, {}, {}};
  if (info->kind != FieldKind::data) {
    t.column = column_of(field);
    return t;
  }
  // Segments are [A-Za-z0-9_-] only (data_path checked), so quoting needs no escapes; the path is
  // bound as a parameter anyway.
  auto segments = identity::data_path(field);  // named: a temporary would die before the loop
  t.json_path.push_back('$');
  for (std::string_view segment : *segments) {
    t.json_path.append(".\"").append(segment).push_back('"');
  }
  return t;
}

SqlParam to_param(const json::value& v, bool folded) {
  switch (v.kind()) {
    case json::kind::null: return nullptr;
    case json::kind::bool_: return int64_t{v.get_bool()};
    case json::kind::int64: return v.get_int64();
    case json::kind::uint64: return static_cast<double>(v.get_uint64());
    case json::kind::double_: return v.get_double();
    case json::kind::string: {
      std::string_view s = v.get_string();
      if (folded) return identity::identifier_key(identity::IdentifierKind::email, s);
      return std::string(s);
    }
    default: throw std::invalid_argument("user filter: a value is not a scalar");
  }
}

// The smallest string greater than every string that starts with `prefix` (byte-wise, as SQLite's
// BINARY collation compares), or nullopt when there is none.
std::optional<std::string> prefix_upper_bound(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

const char* comparison(FilterOp op) {
  switch (op) {
    case FilterOp::gt: return " > ";
    case FilterOp::gte: return " >= ";
    case FilterOp::lt: return " < ";
    case FilterOp::lte: return " <= ";
    default: return " = ";
  }
}

class SqlBuilder {
 public:
  SqlBuilder& sql(std::string_view s) {
    query_.sql += s;
    return *this;
  }
  SqlBuilder& param(SqlParam p) {
    query_.sql += '?';
    query_.params.push_back(std::move(p));
    return *this;
  }
  SqlQuery take() { return std::move(query_); }

  void where(std::string_view project_id, const std::vector<Condition>& conditions) {
    sql("project_id = ").param(std::string(project_id));
    for (const Condition& c : conditions) {
      sql(" AND ");
      condition(c);
    }
  }

  // The value a target compares and sorts on.
  void value_of(const Target& t) {
    if (t.column.empty()) sql("json_extract(data, ").param(t.json_path).sql(")");
    else sql(t.column);
  }

  void condition(const Condition& c) {
    Target t = target_of(c.field);
    if (t.info.kind == FieldKind::data) return data_condition(t, c);
    if (t.info.kind == FieldKind::tags) return tags_condition(c);
    bool folded = t.info.kind == FieldKind::folded_text;
    std::string_view col = t.column;
    switch (c.op) {
      case FilterOp::eq:
      case FilterOp::gt:
      case FilterOp::gte:
      case FilterOp::lt:
      case FilterOp::lte:
        sql(col).sql(comparison(c.op)).param(to_param(c.value, folded));
        return;
      case FilterOp::ne:  // the negation of eq: a null column differs from every value
        sql(col).sql(" IS NOT ").param(to_param(c.value, folded));
        return;
      case FilterOp::in:
        sql(col).sql(" IN ");
        list(c.value, folded);
        return;
      case FilterOp::nin:
        sql("(").sql(col).sql(" IS NULL OR ").sql(col).sql(" NOT IN ");
        list(c.value, folded);
        sql(")");
        return;
      case FilterOp::prefix: {
        auto low = std::get<std::string>(to_param(c.value, folded));
        auto high = prefix_upper_bound(low);
        // A range, not LIKE: it uses the indexes and has no wildcards to escape.
        sql("(").sql(col).sql(" >= ").param(std::move(low));
        if (high) sql(" AND ").sql(col).sql(" < ").param(std::move(*high));
        sql(")");
        return;
      }
      case FilterOp::exists:
        sql(col).sql(c.value.as_bool() ? " IS NOT NULL" : " IS NULL");
        return;
      case FilterOp::contains:
        break;
    }
    throw std::invalid_argument("user filter: operator not allowed on " + c.field);
  }

  void tags_condition(const Condition& c) {
    if (c.op == FilterOp::contains) {
      sql("EXISTS (SELECT 1 FROM json_each(users.tags) WHERE json_each.type = 'text' AND json_each.value = ")
          .param(to_param(c.value, false))
          .sql(")");
    } else if (c.op == FilterOp::exists) {
      sql(c.value.as_bool() ? "json_array_length(tags) > 0" : "json_array_length(tags) = 0");
    } else {
      throw std::invalid_argument("user filter: operator not allowed on tags");
    }
  }

  // Data paths compare only values of the filter value's JSON type. Every fragment below is 0 or 1,
  // never NULL, so that ne and nin can simply negate eq and in.
  void data_condition(const Target& t, const Condition& c) {
    switch (c.op) {
      case FilterOp::eq:
        return data_equals(t, c.value);
      case FilterOp::ne:
        sql("NOT (");
        data_equals(t, c.value);
        sql(")");
        return;
      case FilterOp::gt:
      case FilterOp::gte:
      case FilterOp::lt:
      case FilterOp::lte:
        sql("(");
        type_is(t, c.value);
        sql(" AND ");
        value_of(t);
        sql(comparison(c.op)).param(to_param(c.value, false)).sql(")");
        return;
      case FilterOp::in:
        return data_in(t, c.value.as_array());
      case FilterOp::nin:
        sql("NOT ");
        return data_in(t, c.value.as_array());
      case FilterOp::prefix: {
        std::string low(c.value.as_string());
        auto high = prefix_upper_bound(low);
        sql("(json_type(data, ").param(t.json_path).sql(") IS 'text' AND ");
        value_of(t);
        sql(" >= ").param(std::move(low));
        if (high) {
          sql(" AND ");
          value_of(t);
          sql(" < ").param(std::move(*high));
        }
        sql(")");
        return;
      }
      case FilterOp::exists:
        sql("json_type(data, ").param(t.json_path).sql(c.value.as_bool() ? ") IS NOT NULL" : ") IS NULL");
        return;
      case FilterOp::contains:
        break;
    }
    throw std::invalid_argument("user filter: operator not allowed on " + c.field);
  }

  // json_type names: null, true, false, integer, real, text, array, object.
  void type_is(const Target& t, const json::value& v) {
    if (v.is_number()) {
      sql("IFNULL(json_type(data, ").param(t.json_path).sql("), '') IN ('integer', 'real')");
    } else {
      sql("json_type(data, ").param(t.json_path).sql(") IS ");
      sql(v.is_string() ? "'text'" : v.is_null() ? "'null'" : v.get_bool() ? "'true'" : "'false'");
    }
  }

  void data_equals(const Target& t, const json::value& v) {
    if (!v.is_string() && !v.is_number()) return type_is(t, v);  // true, false, null
    sql("(");
    type_is(t, v);
    sql(" AND ");
    value_of(t);
    sql(" = ").param(to_param(v, false)).sql(")");
  }

  // Grouped by type, so a long list costs one JSON lookup per type, not per value.
  void data_in(const Target& t, const json::array& values) {
    json::array strings, numbers, others;
    for (const json::value& v : values) {
      if (v.is_string()) strings.push_back(v);
      else if (v.is_number()) numbers.push_back(v);
      else others.push_back(v);
    }
    sql("(");
    bool first = true;
    auto next = [&] {
      if (!first) sql(" OR ");
      first = false;
    };
    for (const json::array* group : {&strings, &numbers}) {
      if (group->empty()) continue;
      next();
      sql("(");
      type_is(t, group->front());
      sql(" AND ");
      value_of(t);
      sql(" IN ");
      list(*group, false);
      sql(")");
    }
    for (const json::value& v : others) {
      next();
      type_is(t, v);
    }
    if (first) sql("0");
    sql(")");
  }

  void list(const json::value& values, bool folded) {
    sql("(");
    bool first = true;
    for (const json::value& v : values.as_array()) {
      if (!first) sql(", ");
      first = false;
      param(to_param(v, folded));
    }
    sql(")");
  }

 private:
  SqlQuery query_;
};

// One key of the ORDER BY.
struct OrderKey {
  Target target;
  bool descending = false;
  bool nullable = false;  // NULL can occur in this query's rows
};

// Whether every row matching `c` has a non-null value in its field.
bool excludes_null(const Condition& c) {
  // A JSON null inside data passes exists/eq-null/in-null filters and still reads back as SQL NULL.
  if (c.field.starts_with("data.")) return false;
  switch (c.op) {
    case FilterOp::ne:
    case FilterOp::nin:
      return false;
    case FilterOp::exists:
      return c.value.is_bool() && c.value.get_bool();
    default:
      return true;
  }
}

std::vector<OrderKey> order_keys(const std::vector<identity::SortKey>& sort, const std::vector<Condition>& where) {
  std::vector<OrderKey> keys;
  bool has_id = false;
  for (const identity::SortKey& k : sort) {
    Target t = target_of(k.field);
    if (!t.info.sortable) throw std::invalid_argument("user sort: not sortable: " + k.field);
    has_id = has_id || k.field == "id";
    // A filter such as last_request_at[gt] leaves no NULL: the cursor predicate can then be a plain range.
    bool nullable = t.info.nullable &&
                    std::ranges::none_of(where, [&](const Condition& c) { return c.field == k.field && excludes_null(c); });
    keys.push_back(OrderKey{std::move(t), k.descending, nullable});
  }
  if (!has_id) keys.push_back(OrderKey{target_of("id"), false, false});  // the tie-breaker: ids are unique
  return keys;
}

bool is_null(const SqlParam& p) { return std::holds_alternative<std::nullptr_t>(p); }

// The first key's half of the cursor predicate alone, as a range SQLite can seek to in an index on it.
// It goes before the filter's conditions: of two bounds on one column, SQLite seeks with the first.
void cursor_bound(SqlBuilder& b, const OrderKey& first, const SqlParam& c) {
  if (!is_null(c) && (!first.descending || !first.nullable)) {
    b.sql(" AND ");
    b.value_of(first.target);
    b.sql(first.descending ? " <= " : " >= ").param(c);
  } else if (is_null(c) && first.descending) {
    b.sql(" AND ");
    b.value_of(first.target);
    b.sql(" IS NULL");
  }
}

// Rows strictly after the cursor in the order of `keys`, where NULL sorts lowest (SQLite's order:
// first ascending, last descending):
//   (k1 after c1) OR (k1 = c1 AND k2 after c2) OR ... with `after` per direction and NULL.
void after_cursor(SqlBuilder& b, const std::vector<OrderKey>& keys, const std::vector<SqlParam>& values) {
  auto after = [&](const OrderKey& k, const SqlParam& c) {
    if (!k.descending) {
      b.value_of(k.target);
      if (is_null(c)) b.sql(" IS NOT NULL");
      else b.sql(" > ").param(c);
    } else if (is_null(c)) {
      b.sql("0");  // nothing sorts below NULL
    } else {
      b.sql("(");
      b.value_of(k.target);
      b.sql(" < ").param(c);
      if (k.nullable) {
        b.sql(" OR ");
        b.value_of(k.target);
        b.sql(" IS NULL");
      }
      b.sql(")");
    }
  };
  auto same = [&](const OrderKey& k, const SqlParam& c) {
    b.value_of(k.target);
    if (is_null(c)) b.sql(" IS NULL");
    else b.sql(" = ").param(c);
  };
  b.sql(" AND (");
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) b.sql(" OR ");
    b.sql("(");
    for (size_t j = 0; j < i; ++j) {
      same(keys[j], values[j]);
      b.sql(" AND ");
    }
    after(keys[i], values[i]);
    b.sql(")");
  }
  b.sql(")");
}

}  // namespace

SqlQuery compile_user_where(std::string_view project_id, const std::vector<Condition>& where) {
  SqlBuilder b;
  b.where(project_id, where);
  return b.take();
}

SqlQuery compile_user_list(std::string_view project_id, const identity::UserQuery& query, std::string_view columns) {
  std::vector<OrderKey> keys = order_keys(query.sort, query.where);
  std::vector<SqlParam> cursor;
  if (query.after) {
    const identity::Cursor& c = *query.after;
    if (c.keys.size() != query.sort.size()) throw std::invalid_argument("user list: the cursor does not fit the sort");
    for (const json::value& v : c.keys) cursor.push_back(to_param(v, false));  // email/login: already folded
    if (keys.size() > query.sort.size()) cursor.push_back(c.id);
  }

  SqlBuilder b;
  b.sql("SELECT ").sql(columns);
  for (size_t i = 0; i < query.sort.size(); ++i) {
    b.sql(", ");
    b.value_of(keys[i].target);
    b.sql(" AS sort_").sql(std::to_string(i));
  }
  b.sql(" FROM users WHERE project_id = ").param(std::string(project_id));
  if (!cursor.empty()) cursor_bound(b, keys.front(), cursor.front());
  for (const Condition& c : query.where) {
    b.sql(" AND ");
    b.condition(c);
  }
  if (!cursor.empty()) after_cursor(b, keys, cursor);
  b.sql(" ORDER BY ");
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) b.sql(", ");
    // Sort values are named by their alias, so a data path is extracted once per row.
    if (i < query.sort.size() && keys[i].target.column.empty()) b.sql("sort_").sql(std::to_string(i));
    else b.value_of(keys[i].target);
    if (keys[i].descending) b.sql(" DESC");
  }
  size_t limit = std::clamp<size_t>(query.limit, 1, identity::kMaxUserListLimit);
  b.sql(" LIMIT ").param(static_cast<int64_t>(limit + 1));
  return b.take();
}

SqlQuery compile_user_update(std::string_view project_id, const std::vector<Condition>& where,
                             const identity::UserChanges& changes, Timestamp now) {
  SqlBuilder b;
  b.sql("UPDATE users SET ");
  if (changes.active) b.sql("active = ").param(int64_t{*changes.active}).sql(", ");
  if (changes.email_verified) b.sql("email_verified = ").param(int64_t{*changes.email_verified}).sql(", ");
  auto nullable_text = [](const std::optional<std::string>& v) -> SqlParam {
    if (v) return *v;
    return nullptr;
  };
  if (changes.full_name) b.sql("full_name = ").param(nullable_text(*changes.full_name)).sql(", ");
  if (changes.external_id) b.sql("external_id = ").param(nullable_text(*changes.external_id)).sql(", ");
  if (changes.tags) {
    json::array tags;
    for (const std::string& t : *changes.tags) tags.emplace_back(t);
    b.sql("tags = ").param(json::serialize(tags)).sql(", ");
  }
  if (changes.data_patch)  // SQLite's json_patch is RFC 7386 merge-patch
    b.sql("data = json_patch(data, ").param(json::serialize(*changes.data_patch)).sql("), ");
  b.sql("updated_at = ").param(to_micros(now));
  b.sql(" WHERE ");
  b.where(project_id, where);
  b.sql(" RETURNING id");
  return b.take();
}

SqlQuery compile_user_delete(std::string_view project_id, const std::vector<Condition>& where) {
  SqlBuilder b;
  b.sql("DELETE FROM users WHERE ");
  b.where(project_id, where);
  b.sql(" RETURNING id");
  return b.take();
}

OneShotStatement::OneShotStatement(Connection& conn, const SqlQuery& query) {
  const char* tail = nullptr;
  if (sqlite3_prepare_v3(conn.handle(), query.sql.data(), static_cast<int>(query.sql.size()), 0, &stmt_, &tail) !=
          SQLITE_OK ||
      stmt_ == nullptr) {
    sqlite3_finalize(stmt_);
    conn.throw_error(query.sql);
  }
  statement_.emplace(conn, stmt_);
  for (size_t i = 0; i < query.params.size(); ++i) {
    int index = static_cast<int>(i + 1);
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) statement_->bind_null(index);
          else if constexpr (std::is_same_v<T, int64_t>) statement_->bind(index, v);
          else if constexpr (std::is_same_v<T, double>) sqlite3_bind_double(stmt_, index, v);
          else statement_->bind(index, std::string_view(v));
        },
        query.params[i]);
  }
}

OneShotStatement::~OneShotStatement() {
  statement_.reset();  // resets the statement before it is finalized
  sqlite3_finalize(stmt_);
}

json::value OneShotStatement::value(int col) const {
  switch (sqlite3_column_type(stmt_, col)) {
    case SQLITE_NULL: return nullptr;
    case SQLITE_INTEGER: return sqlite3_column_int64(stmt_, col);
    case SQLITE_FLOAT: return sqlite3_column_double(stmt_, col);
    default: return json::string(row().text(col));
  }
}

}  // namespace tessera::store::sqlite
