#include "store/sql/sql_user_query.hpp"

#include <boost/json/serialize.hpp>
#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "identity/identifiers.hpp"
#include "store/store.hpp"

namespace tessera::store::sql {

namespace {

namespace json = boost::json;
using identity::Condition;
using identity::FieldInfo;
using identity::FieldKind;
using identity::FilterOp;

// What a condition or sort key reads: a column, or a path inside `data`.
struct Target {
  FieldInfo info;
  std::string_view column;            // empty for a data path
  std::string json_path;              // SQLite: $."a"."b"
  std::vector<std::string> segments;  // PostgreSQL: {"a", "b"}
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
  Target t{*info, {}, {}, {}};
  if (info->kind != FieldKind::data) {
    t.column = column_of(field);
    return t;
  }
  // Segments are [A-Za-z0-9_-] only (data_path checked), so quoting needs no escapes: SQLite gets the
  // path as a parameter anyway, PostgreSQL as string literals (checked once more here, as they are SQL).
  auto segments = identity::data_path(field);  // named: a temporary would die before the loop
  t.json_path.push_back('$');
  for (std::string_view segment : *segments) {
    t.json_path.append(".\"").append(segment).push_back('"');
    bool plain = std::ranges::all_of(segment, [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
    if (!plain) throw std::invalid_argument("user filter: a data path segment is not plain");
    t.segments.emplace_back(segment);
  }
  return t;
}

// The smallest string greater than every string that starts with `prefix` (byte-wise, as SQLite's
// BINARY collation compares), or nullopt when there is none.
std::optional<std::string> prefix_upper_bound(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

// PostgreSQL text is valid UTF-8 without NUL (a parameter that is not fails the statement, or libpq cuts
// it at the NUL), while SQLite compares any bytes. Stored text is always valid, and byte order is code
// point order, so a filter or cursor string `s` that is not valid can be replaced by ceiling(s), the
// smallest valid string >= s: for every valid x, x > s <=> x >= ceiling(s) and x < s <=> x < ceiling(s).
namespace utf8 {

// Where a walk through UTF-8 stands: how many continuation bytes are still due, and the range of the next.
struct State {
  int pending = 0;
  unsigned char lo = 0x80, hi = 0xBF;
};

// The state after byte `b`, or nullopt when `b` cannot come next (Unicode's table 3-7; no NUL).
std::optional<State> step(const State& s, unsigned char b) {
  if (s.pending > 0) {
    if (b < s.lo || b > s.hi) return std::nullopt;
    return State{s.pending - 1};
  }
  if (b >= 0x01 && b <= 0x7F) return State{};
  if (b >= 0xC2 && b <= 0xDF) return State{1};
  if (b == 0xE0) return State{2, 0xA0, 0xBF};
  if (b == 0xED) return State{2, 0x80, 0x9F};  // no surrogates
  if (b >= 0xE1 && b <= 0xEF) return State{2};
  if (b == 0xF0) return State{3, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return State{3};
  if (b == 0xF4) return State{3, 0x80, 0x8F};  // nothing above U+10FFFF
  return std::nullopt;
}

// The smallest byte above `b` that can come next, or nullopt.
std::optional<unsigned char> next_above(const State& s, unsigned char b) {
  int n = b + 1;
  if (s.pending > 0) {
    n = std::max<int>(n, s.lo);
    if (n <= s.hi) return static_cast<unsigned char>(n);
    return std::nullopt;
  }
  if (n <= 0x7F) return static_cast<unsigned char>(n);
  n = std::max(n, 0xC2);
  if (n <= 0xF4) return static_cast<unsigned char>(n);
  return std::nullopt;
}

// The states before each byte of the longest prefix of `s` that valid text can start with, and after it.
std::vector<State> walk(std::string_view s) {
  std::vector<State> states{State{}};
  for (char c : s) {
    auto next = step(states.back(), static_cast<unsigned char>(c));
    if (!next) break;
    states.push_back(*next);
  }
  return states;
}

// `head` with the smallest bytes that end its last character.
std::string completed(std::string head, State s) {
  for (; s.pending > 0; s = State{s.pending - 1}) head.push_back(static_cast<char>(s.lo));
  return head;
}

// The smallest valid string that is, at a position <= `last`, greater than `s` and equal before it.
std::optional<std::string> raised(std::string_view s, const std::vector<State>& states, size_t last) {
  for (size_t j = last + 1; j-- > 0;) {
    if (auto b = next_above(states[j], static_cast<unsigned char>(s[j]))) {
      std::string head(s.substr(0, j));
      head.push_back(static_cast<char>(*b));
      return completed(std::move(head), *step(states[j], *b));
    }
  }
  return std::nullopt;
}

bool valid(std::string_view s) {
  auto states = walk(s);
  return states.size() == s.size() + 1 && states.back().pending == 0;
}

// The smallest valid string >= s, or nullopt when every valid string is below s.
std::optional<std::string> ceiling(std::string_view s) {
  auto states = walk(s);
  size_t valid_bytes = states.size() - 1;
  if (valid_bytes == s.size()) return completed(std::string(s), states.back());
  return raised(s, states, valid_bytes);
}

// The valid strings that start with `prefix` are [low, high) (no high: up to the end); nullopt when no
// valid string starts with it.
struct Range {
  std::string low;
  std::optional<std::string> high;
};
std::optional<Range> prefix_range(std::string_view prefix) {
  auto states = walk(prefix);
  if (states.size() != prefix.size() + 1) return std::nullopt;
  Range r{completed(std::string(prefix), states.back()), std::nullopt};
  if (!prefix.empty()) r.high = raised(prefix, states, prefix.size() - 1);
  return r;
}

}  // namespace utf8

// A double as the shortest decimal that reads back as it: what SQLite compares is the double, what
// PostgreSQL compares is a numeric, and between doubles the two orders agree. (Scientific: the plain
// form writes all the digits of a large integer, 12345678901234567168 for 1.2345678901234567e+19.)
std::string shortest_decimal(double d) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, d, std::chars_format::scientific);
  if (ec != std::errc()) throw std::invalid_argument("user filter: a number does not print");
  return std::string(buffer, end);
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

bool is_null(const SqlParam& p) { return std::holds_alternative<std::nullptr_t>(p); }

// One key of the ORDER BY.
struct OrderKey {
  Target target;
  bool descending = false;
  bool nullable = false;  // NULL can occur in this query's rows
};

// On PostgreSQL, a data path sort key is three values that SQLite's order of json_extract() results
// comes down to (NULL < numbers < text; booleans are the numbers 0 and 1, objects and arrays their
// JSON text): a rank (0 null or missing, 1 number or boolean, 2 string, object or array), a number and
// a text, the last two 0 and '' unless the rank is theirs. None is ever NULL.
constexpr std::string_view kRankSuffix = "_rank", kNumberSuffix = "_num", kTextSuffix = "_text";

class SqlBuilder {
 public:
  explicit SqlBuilder(Dialect dialect) : dialect_(dialect) {}
  Dialect dialect() const { return dialect_; }
  bool pg() const { return dialect_ == Dialect::postgres; }

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

  SqlBuilder& false_literal() { return sql(pg() ? "FALSE" : "0"); }

  SqlParam to_param(const json::value& v, bool folded) const {
    switch (v.kind()) {
      case json::kind::null: return nullptr;
      case json::kind::bool_:
        if (pg()) return v.get_bool();
        return int64_t{v.get_bool()};
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

  void where(std::string_view project_id, const std::vector<Condition>& conditions) {
    sql("project_id = ").param(std::string(project_id));
    for (const Condition& c : conditions) {
      sql(" AND ");
      condition(c);
    }
  }

  // The value a target compares and sorts on (on PostgreSQL, columns only: see pg_number, pg_text).
  void value_of(const Target& t) {
    if (!t.column.empty()) sql(t.column);
    else if (!pg()) sql("json_extract(data, ").param(t.json_path).sql(")");
    else throw std::logic_error("user filter: a data path has no single value on PostgreSQL");
  }

  // `<value of t> <op> p` for eq, gt, gte, lt and lte. On PostgreSQL, text that cannot be stored
  // compares through its ceiling; a flag compares as a boolean when p is 0 or 1 (the index), else as
  // an integer.
  void compare(const Target& t, FilterOp op, const SqlParam& p) {
    if (!pg()) {
      value_of(t);
      sql(comparison(op)).param(p);
    } else if (const auto* s = std::get_if<std::string>(&p)) {
      text_compare([&] { t.column.empty() ? pg_text(t) : value_of(t); }, op, *s);
    } else if (t.column.empty()) {
      pg_number(t);
      sql(comparison(op));
      numeric_param(p);
    } else if (const auto* i = std::get_if<int64_t>(&p); i && t.info.kind == FieldKind::boolean) {
      if (*i == 0 || *i == 1) sql(t.column).sql(comparison(op)).param(*i == 1);
      else sql("CAST(").sql(t.column).sql(" AS integer)").sql(comparison(op)).param(*i);
    } else {
      sql(t.column).sql(comparison(op)).param(p);
    }
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
        compare(t, c.op, to_param(c.value, folded));
        return;
      case FilterOp::ne: {  // the negation of eq: a null column differs from every value
        SqlParam p = to_param(c.value, folded);
        if (!pg()) {
          sql(col).sql(" IS NOT ").param(std::move(p));
        } else if (auto* s = std::get_if<std::string>(&p); s && !utf8::valid(*s)) {
          sql("TRUE");  // no stored text equals it
        } else {
          sql(col).sql(" IS DISTINCT FROM ").param(std::move(p));
        }
        return;
      }
      case FilterOp::in:
        if (!list_fits(c.value, folded)) {
          false_literal();
          return;
        }
        sql(col).sql(" IN ");
        list(c.value, folded);
        return;
      case FilterOp::nin:
        if (!list_fits(c.value, folded)) {
          sql("TRUE");
          return;
        }
        sql("(").sql(col).sql(" IS NULL OR ").sql(col).sql(" NOT IN ");
        list(c.value, folded);
        sql(")");
        return;
      case FilterOp::prefix:
        // A range, not LIKE: it uses the indexes and has no wildcards to escape.
        sql("(");
        prefix_range([&] { sql(col); }, std::get<std::string>(to_param(c.value, folded)));
        sql(")");
        return;
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
      std::string tag(c.value.as_string());
      if (!pg()) {
        sql("EXISTS (SELECT 1 FROM json_each(users.tags) WHERE json_each.type = 'text' AND json_each.value = ")
            .param(std::move(tag))
            .sql(")");
      } else if (!utf8::valid(tag)) {
        sql("FALSE");
      } else {  // not the jsonb `?` operator: `?` is a parameter here
        sql("tags @> jsonb_build_array(CAST(").param(std::move(tag)).sql(" AS text))");
      }
    } else if (c.op == FilterOp::exists) {
      if (pg()) sql(c.value.as_bool() ? "jsonb_array_length(tags) > 0" : "jsonb_array_length(tags) = 0");
      else sql(c.value.as_bool() ? "json_array_length(tags) > 0" : "json_array_length(tags) = 0");
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
        typed(t, c.value, [&] { compare(t, c.op, to_param(c.value, false)); });
        return;
      case FilterOp::in:
        return data_in(t, c.value.as_array());
      case FilterOp::nin:
        sql("NOT ");
        return data_in(t, c.value.as_array());
      case FilterOp::prefix:
        typed(t, c.value, [&] {
          prefix_range([&] { pg() ? pg_text(t) : value_of(t); }, std::string(c.value.as_string()));
        });
        return;
      case FilterOp::exists:
        if (pg()) {
          pg_json(t);
          sql(c.value.as_bool() ? " IS NOT NULL" : " IS NULL");
        } else {
          sql("json_type(data, ").param(t.json_path).sql(c.value.as_bool() ? ") IS NOT NULL" : ") IS NULL");
        }
        return;
      case FilterOp::contains:
        break;
    }
    throw std::invalid_argument("user filter: operator not allowed on " + c.field);
  }

  // Whether the value at t has v's JSON type; never NULL.
  // SQLite's json_type names: null, true, false, integer, real, text, array, object.
  // PostgreSQL's jsonb_typeof names: null, boolean, number, string, array, object.
  void type_is(const Target& t, const json::value& v) {
    if (pg()) {
      if (v.is_bool()) {
        sql("COALESCE(");
        pg_json(t);
        sql(v.get_bool() ? " = CAST('true' AS jsonb), FALSE)" : " = CAST('false' AS jsonb), FALSE)");
      } else {
        sql("COALESCE(jsonb_typeof(");
        pg_json(t);
        sql(v.is_number() ? "), '') = 'number'" : v.is_string() ? "), '') = 'string'" : "), '') = 'null'");
      }
    } else if (v.is_number()) {
      sql("IFNULL(json_type(data, ").param(t.json_path).sql("), '') IN ('integer', 'real')");
    } else {
      sql("json_type(data, ").param(t.json_path).sql(") IS ");
      sql(v.is_string() ? "'text'" : v.is_null() ? "'null'" : v.get_bool() ? "'true'" : "'false'");
    }
  }

  // `body` (a comparison of the value at t, a number or a string like v) where the value has v's type,
  // else false. PostgreSQL may evaluate both sides of an AND: a CASE keeps the casts from other types.
  template <class Body>
  void typed(const Target& t, const json::value& v, Body body) {
    if (pg()) {
      sql("CASE WHEN jsonb_typeof(");
      pg_json(t);
      sql(v.is_number() ? ") = 'number' THEN " : ") = 'string' THEN ");
      body();
      sql(" ELSE FALSE END");
    } else {
      sql("(");
      type_is(t, v);
      sql(" AND ");
      body();
      sql(")");
    }
  }

  void data_equals(const Target& t, const json::value& v) {
    if (!v.is_string() && !v.is_number()) return type_is(t, v);  // true, false, null
    typed(t, v, [&] { compare(t, FilterOp::eq, to_param(v, false)); });
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
      json::value values(*group);
      if (!list_fits(values, false)) continue;  // PostgreSQL: no string of the list can be stored
      next();
      typed(t, group->front(), [&] {
        if (!pg()) value_of(t);
        else if (group == &strings) pg_text(t);
        else pg_number(t);
        sql(" IN ");
        list(values, false);
      });
    }
    for (const json::value& v : others) {
      next();
      type_is(t, v);
    }
    if (first) false_literal();
    sql(")");
  }

  // PostgreSQL: whether any value of the list can be stored (the others are left out of it).
  bool list_fits(const json::value& values, bool folded) const {
    if (!pg()) return true;
    return std::ranges::any_of(values.as_array(), [&](const json::value& v) { return fits(v, folded); });
  }
  bool fits(const json::value& v, bool folded) const {
    if (!pg() || !v.is_string()) return true;
    return utf8::valid(std::get<std::string>(to_param(v, folded)));
  }

  void list(const json::value& values, bool folded) {
    sql("(");
    bool first = true;
    for (const json::value& v : values.as_array()) {
      if (!fits(v, folded)) continue;
      if (!first) sql(", ");
      first = false;
      SqlParam p = to_param(v, folded);
      if (pg() && v.is_number()) numeric_param(p);
      else param(std::move(p));
    }
    sql(")");
  }

  // `<expr> >= low [AND <expr> < high]`: the strings that start with `prefix`.
  template <class Expr>
  void prefix_range(Expr expr, std::string prefix) {
    std::string low;
    std::optional<std::string> high;
    if (!pg()) {
      high = prefix_upper_bound(prefix);
      low = std::move(prefix);
    } else if (auto range = utf8::prefix_range(prefix)) {  // valid bounds: not bytes, characters
      low = std::move(range->low);
      high = std::move(range->high);
    } else {
      sql("FALSE");  // no stored text starts with it
      return;
    }
    expr();
    sql(" >= ").param(std::move(low));
    if (high) {
      sql(" AND ");
      expr();
      sql(" < ").param(std::move(*high));
    }
  }

  // ---- PostgreSQL fragments ----

  // PostgreSQL: the jsonb at a data path, or NULL. `->` with a text key steps into objects only, like
  // SQLite's $."0" (where `#>` would also index arrays).
  void pg_json(const Target& t) {
    sql("(data");
    for (const std::string& s : t.segments) sql(" -> '").sql(s).sql("'");
    sql(")");
  }

  // PostgreSQL: the text at a data path, compared byte-wise like SQLite's (for a string: unquoted).
  void pg_text(const Target& t) {
    sql("(data");
    for (size_t i = 0; i < t.segments.size(); ++i) sql(i + 1 < t.segments.size() ? " -> '" : " ->> '").sql(t.segments[i]).sql("'");
    sql(") COLLATE \"C\"");
  }

  // PostgreSQL: the number at a data path (only where it is one) as the numeric of SQLite's value:
  // an integer that fits int64 exactly, anything else as the double SQLite reads (its shortest decimal:
  // float8 text with the default extra_float_digits = 1). Numbers written by Boost.JSON (all of them)
  // fit in a double.
  void pg_number(const Target& t) {
    auto n = [&] {
      sql("CAST(");
      pg_json(t);
      sql(" AS numeric)");
    };
    sql("CASE WHEN scale(");
    n();
    sql(") = 0 AND ");
    n();
    sql(" BETWEEN -9223372036854775808 AND 9223372036854775807 THEN ");
    n();
    sql(" ELSE CAST(CAST(CAST(");
    pg_json(t);
    sql(" AS float8) AS text) AS numeric) END");
  }

  void numeric_param(const SqlParam& p) {
    sql("CAST(");
    if (const auto* d = std::get_if<double>(&p)) param(shortest_decimal(*d));
    else param(p);
    sql(" AS numeric)");
  }

  // PostgreSQL: `<expr> <op> s`, for text that may not be storable (see utf8). Like the comparison,
  // NULL when expr is, except where no stored text could match: FALSE (eq only ever sits under AND or
  // OR, never under NOT).
  template <class Expr>
  void text_compare(Expr expr, FilterOp op, const std::string& s) {
    if (utf8::valid(s)) {
      expr();
      sql(comparison(op)).param(s);
      return;
    }
    auto ceiling = utf8::ceiling(s);
    if (op == FilterOp::eq || ((op == FilterOp::gt || op == FilterOp::gte) && !ceiling)) {
      sql("FALSE");
    } else if (!ceiling) {  // lt, lte: every stored text is below s
      expr();
      sql(" IS NOT NULL");
    } else {
      expr();
      sql(op == FilterOp::gt || op == FilterOp::gte ? " >= " : " < ").param(std::move(*ceiling));
    }
  }

  // PostgreSQL sort keys of a data path: see kRankSuffix.
  void pg_rank(const Target& t) {
    sql("CASE jsonb_typeof(");
    pg_json(t);
    sql(") WHEN 'number' THEN 1 WHEN 'boolean' THEN 1 WHEN 'string' THEN 2 WHEN 'object' THEN 2 "
        "WHEN 'array' THEN 2 ELSE 0 END");
  }
  void pg_sort_number(const Target& t) {
    sql("CASE jsonb_typeof(");
    pg_json(t);
    sql(") WHEN 'number' THEN ");
    pg_number(t);
    sql(" WHEN 'boolean' THEN CAST(CAST(");
    pg_json(t);
    sql(" AS boolean) AS integer) ELSE 0 END");
  }
  // Objects and arrays as their compact JSON text, like SQLite's, except that jsonb has forgotten the
  // order of the keys (it keeps them shortest first, then byte-wise) and writes numbers as plain
  // decimals (see docs/behaviour.md). jsonb's text puts a space after every `,` and `:` between
  // tokens: the regular expression keeps strings whole and drops those spaces.
  void pg_compact_text(const Target& t) {
    sql("regexp_replace(CAST(");
    pg_json(t);
    sql(R"sql( AS text), '("(?:[^"\\]|\\.)*")|([,:]) ', '\1\2', 'g') COLLATE "C")sql");
  }
  void pg_sort_text(const Target& t) {
    sql("CASE jsonb_typeof(");
    pg_json(t);
    sql(") WHEN 'string' THEN ");
    pg_text(t);
    for (const char* type : {" WHEN 'object' THEN ", " WHEN 'array' THEN "}) {
      sql(type);
      pg_compact_text(t);
    }
    sql(" ELSE '' END");
  }
  // The sort value handed out in cursors, as JSON (Cursor::value parses it): what SQLite's
  // json_extract returns, a number of the same value as pg_sort_number (an int64, or a double
  // written as float8 so that it reads back as one) or the text of pg_sort_text.
  void pg_sort_value(const Target& t) {
    sql("CASE jsonb_typeof(");
    pg_json(t);
    sql(") WHEN 'number' THEN CASE WHEN scale(CAST(");
    pg_json(t);
    sql(" AS numeric)) = 0 AND CAST(");
    pg_json(t);
    sql(" AS numeric) BETWEEN -9223372036854775808 AND 9223372036854775807 THEN CAST(");
    pg_json(t);
    sql(" AS json) ELSE to_json(CAST(");
    pg_json(t);
    sql(" AS float8)) END WHEN 'boolean' THEN to_json(CAST(CAST(");
    pg_json(t);
    sql(" AS boolean) AS integer)) WHEN 'string' THEN CAST(");
    pg_json(t);
    sql(" AS json)");
    for (const char* type : {" WHEN 'object' THEN to_json(", " WHEN 'array' THEN to_json("}) {
      sql(type);
      pg_compact_text(t);
      sql(")");
    }
    sql(" END");
  }

  // ---- sorting and the cursor ----

  // The value selected as sort_<i>, which becomes the cursor key.
  void sort_value(const Target& t) {
    if (!pg()) value_of(t);
    else if (t.column.empty()) pg_sort_value(t);
    else if (t.info.kind == FieldKind::boolean) sql("CAST(").sql(t.column).sql(" AS integer)");  // keys are 0 and 1
    else value_of(t);
  }

  // Rows strictly after cursor value c for this key, where NULL sorts lowest.
  void after(const OrderKey& k, const SqlParam& c) {
    if (pg() && k.target.column.empty()) return pg_data_after(k, c);
    if (!k.descending) {
      if (is_null(c)) {
        value_of(k.target);
        sql(" IS NOT NULL");
      } else {
        compare(k.target, FilterOp::gt, c);
      }
    } else if (is_null(c)) {
      false_literal();  // nothing sorts below NULL
    } else {
      sql("(");
      compare(k.target, FilterOp::lt, c);
      if (k.nullable) {
        sql(" OR ");
        value_of(k.target);
        sql(" IS NULL");
      }
      sql(")");
    }
  }

  // Rows with cursor value c for this key.
  void same(const OrderKey& k, const SqlParam& c) {
    if (pg() && k.target.column.empty()) return pg_data_same(k.target, c);
    if (is_null(c)) {
      value_of(k.target);
      sql(" IS NULL");
    } else {
      compare(k.target, FilterOp::eq, c);
    }
  }

  void pg_data_after(const OrderKey& k, const SqlParam& c) {
    const Target& t = k.target;
    if (is_null(c)) {
      if (k.descending) {
        false_literal();
      } else {
        pg_rank(t);
        sql(" > 0");
      }
      return;
    }
    const auto* text = std::get_if<std::string>(&c);
    sql("(");
    if (!k.descending && !text) {  // strings come after every number
      pg_rank(t);
      sql(" = 2 OR ");
    } else if (k.descending) {  // and below a string, every number, below a number, NULL
      pg_rank(t);
      sql(text ? " < 2 OR " : " = 0 OR ");
    }
    sql("(");
    pg_rank(t);
    sql(text ? " = 2 AND " : " = 1 AND ");
    FilterOp op = k.descending ? FilterOp::lt : FilterOp::gt;
    if (text) {
      text_compare([&] { pg_sort_text(t); }, op, *text);
    } else {
      pg_sort_number(t);
      sql(comparison(op));
      numeric_param(c);
    }
    sql("))");
  }

  void pg_data_same(const Target& t, const SqlParam& c) {
    sql("(");
    pg_rank(t);
    if (is_null(c)) {
      sql(" = 0)");
    } else if (const auto* text = std::get_if<std::string>(&c)) {
      sql(" = 2 AND ");
      text_compare([&] { pg_sort_text(t); }, FilterOp::eq, *text);
      sql(")");
    } else {
      sql(" = 1 AND ");
      pg_sort_number(t);
      sql(" = ");
      numeric_param(c);
      sql(")");
    }
  }

 private:
  Dialect dialect_;
  SqlQuery query_;
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

// The first key's half of the cursor predicate alone, as a range SQLite can seek to in an index on it.
// It goes before the filter's conditions: of two bounds on one column, SQLite seeks with the first.
// (No data path has an index: on PostgreSQL, where it is three values, it has no bound.)
void cursor_bound(SqlBuilder& b, const OrderKey& first, const SqlParam& c) {
  if (b.pg() && first.target.column.empty()) return;
  if (!is_null(c) && (!first.descending || !first.nullable)) {
    b.sql(" AND ");
    b.compare(first.target, first.descending ? FilterOp::lte : FilterOp::gte, c);
  } else if (is_null(c) && first.descending) {
    b.sql(" AND ");
    b.value_of(first.target);
    b.sql(" IS NULL");
  }
}

// Rows strictly after the cursor in the order of `keys`, where NULL sorts lowest (SQLite's order:
// first ascending, last descending; PostgreSQL's ORDER BY says NULLS FIRST / LAST to match):
//   (k1 after c1) OR (k1 = c1 AND k2 after c2) OR ... with `after` per direction and NULL.
void after_cursor(SqlBuilder& b, const std::vector<OrderKey>& keys, const std::vector<SqlParam>& values) {
  b.sql(" AND (");
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) b.sql(" OR ");
    b.sql("(");
    for (size_t j = 0; j < i; ++j) {
      b.same(keys[j], values[j]);
      b.sql(" AND ");
    }
    b.after(keys[i], values[i]);
    b.sql(")");
  }
  b.sql(")");
}

void order_by(SqlBuilder& b, const std::vector<OrderKey>& keys, size_t sort_keys) {
  b.sql(" ORDER BY ");
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) b.sql(", ");
    const OrderKey& k = keys[i];
    const char* direction = k.descending ? " DESC" : "";
    // Sort values are named by their alias, so a data path is extracted once per row.
    if (i < sort_keys && k.target.column.empty()) {
      std::string alias = "sort_" + std::to_string(i);
      if (!b.pg()) {
        b.sql(alias).sql(direction);
      } else {
        for (std::string_view suffix : {kRankSuffix, kNumberSuffix, kTextSuffix}) {
          if (suffix != kRankSuffix) b.sql(", ");
          b.sql(alias).sql(suffix).sql(direction);
        }
      }
      continue;
    }
    b.value_of(k.target);
    b.sql(direction);
    // PostgreSQL sorts NULL highest; a key without NULL says nothing, so that it still matches the indexes.
    if (b.pg() && k.nullable) b.sql(k.descending ? " NULLS LAST" : " NULLS FIRST");
  }
}

}  // namespace

SqlQuery compile_user_where(Dialect dialect, std::string_view project_id, const std::vector<Condition>& where) {
  SqlBuilder b(dialect);
  b.where(project_id, where);
  return b.take();
}

SqlQuery compile_user_list(Dialect dialect, std::string_view project_id, const identity::UserQuery& query, std::string_view columns) {
  std::vector<OrderKey> keys = order_keys(query.sort, query.where);
  SqlBuilder b(dialect);
  std::vector<SqlParam> cursor;
  if (query.after) {
    const identity::Cursor& c = *query.after;
    if (c.keys.size() != query.sort.size()) throw std::invalid_argument("user list: the cursor does not fit the sort");
    for (const json::value& v : c.keys) cursor.push_back(b.to_param(v, false));  // email/login: already folded
    if (keys.size() > query.sort.size()) cursor.push_back(c.id);
  }

  b.sql("SELECT ").sql(columns);
  for (size_t i = 0; i < query.sort.size(); ++i) {
    b.sql(", ");
    b.sort_value(keys[i].target);
    b.sql(" AS sort_").sql(std::to_string(i));
  }
  for (size_t i = 0; b.pg() && i < query.sort.size(); ++i) {
    if (!keys[i].target.column.empty()) continue;
    std::string alias = " AS sort_" + std::to_string(i);
    b.sql(", ");
    b.pg_rank(keys[i].target);
    b.sql(alias).sql(kRankSuffix).sql(", ");
    b.pg_sort_number(keys[i].target);
    b.sql(alias).sql(kNumberSuffix).sql(", ");
    b.pg_sort_text(keys[i].target);
    b.sql(alias).sql(kTextSuffix);
  }
  b.sql(" FROM users WHERE project_id = ").param(std::string(project_id));
  if (!cursor.empty()) cursor_bound(b, keys.front(), cursor.front());
  for (const Condition& c : query.where) {
    b.sql(" AND ");
    b.condition(c);
  }
  if (!cursor.empty()) after_cursor(b, keys, cursor);
  order_by(b, keys, query.sort.size());
  size_t limit = std::clamp<size_t>(query.limit, 1, identity::kMaxUserListLimit);
  b.sql(" LIMIT ").param(static_cast<int64_t>(limit + 1));
  return b.take();
}

SqlQuery compile_user_update(Dialect dialect, std::string_view project_id, const std::vector<Condition>& where,
                             const identity::UserChanges& changes, Timestamp now) {
  SqlBuilder b(dialect);
  auto flag = [&](bool v) -> SqlParam {
    if (b.pg()) return v;
    return int64_t{v};
  };
  b.sql("UPDATE users SET ");
  if (changes.active) b.sql("active = ").param(flag(*changes.active)).sql(", ");
  if (changes.email_verified) b.sql("email_verified = ").param(flag(*changes.email_verified)).sql(", ");
  auto nullable_text = [](const std::optional<std::string>& v) -> SqlParam {
    if (v) return *v;
    return nullptr;
  };
  if (changes.full_name) b.sql("full_name = ").param(nullable_text(*changes.full_name)).sql(", ");
  if (changes.external_id) b.sql("external_id = ").param(nullable_text(*changes.external_id)).sql(", ");
  if (changes.tags) {
    json::array tags;
    for (const std::string& t : *changes.tags) tags.emplace_back(t);
    if (b.pg()) b.sql("tags = CAST(").param(json::serialize(tags)).sql(" AS jsonb), ");
    else b.sql("tags = ").param(json::serialize(tags)).sql(", ");
  }
  if (changes.data_patch) {  // RFC 7386 merge-patch: SQLite's json_patch, the migrations' function
    if (b.pg()) b.sql("data = tessera_json_merge_patch(data, CAST(").param(json::serialize(*changes.data_patch)).sql(" AS jsonb)), ");
    else b.sql("data = json_patch(data, ").param(json::serialize(*changes.data_patch)).sql("), ");
  }
  b.sql("updated_at = ").param(to_micros(now));
  b.sql(" WHERE ");
  b.where(project_id, where);
  b.sql(" RETURNING id");
  return b.take();
}

SqlQuery compile_user_delete(Dialect dialect, std::string_view project_id, const std::vector<Condition>& where) {
  SqlBuilder b(dialect);
  b.sql("DELETE FROM users WHERE ");
  b.where(project_id, where);
  b.sql(" RETURNING id");
  return b.take();
}

Statement prepare_query(Connection& conn, const SqlQuery& query) {
  Statement st = conn.prepare_once(query.sql);
  for (size_t i = 0; i < query.params.size(); ++i) {
    int index = static_cast<int>(i + 1);
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) st.bind_null(index);
          else st.bind(index, v);
        },
        query.params[i]);
  }
  return st;
}

}  // namespace tessera::store::sql
