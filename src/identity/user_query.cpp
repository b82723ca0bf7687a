#include "identity/user_query.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse_query.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <expected>
#include <initializer_list>
#include <limits>

#include "core/clock.hpp"
#include "crypto/random.hpp"

namespace tessera::identity {

namespace {

namespace json = boost::json;

// Joins without operator+ chains (g++ 12 warns falsely on those, -Wrestrict).
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out += p;
  return out;
}

struct NamedField {
  std::string_view name;
  FieldInfo info;
};

// Every user field but `data` itself (filtered through data.<path>) and the password.
constexpr NamedField kFields[] = {
    {"id", {FieldKind::text, false, true}},
    {"email", {FieldKind::folded_text, true, true}},
    {"login", {FieldKind::folded_text, true, true}},
    {"phone", {FieldKind::text, true, true}},
    {"full_name", {FieldKind::text, true, true}},
    {"external_id", {FieldKind::text, true, true}},
    {"avatar_url", {FieldKind::text, true, false}},
    {"tags", {FieldKind::tags, true, false}},
    {"active", {FieldKind::boolean, false, true}},
    {"email_verified", {FieldKind::boolean, false, false}},
    {"is_guest", {FieldKind::boolean, false, false}},
    {"created_at", {FieldKind::time, false, true}},
    {"updated_at", {FieldKind::time, false, true}},
    {"last_request_at", {FieldKind::time, true, true}},
};

constexpr std::string_view kDataPrefix = "data.";
constexpr size_t kMaxPathSegments = 16;
constexpr size_t kMaxSegmentLength = 64;

constexpr FilterOp kAllOps[] = {FilterOp::eq,  FilterOp::ne,  FilterOp::gt,     FilterOp::gte,
                                FilterOp::lt,  FilterOp::lte, FilterOp::in,     FilterOp::nin,
                                FilterOp::prefix, FilterOp::contains, FilterOp::exists};

std::optional<FilterOp> filter_op(std::string_view name) {
  for (FilterOp op : kAllOps)
    if (filter_op_name(op) == name) return op;
  return std::nullopt;
}

bool op_allowed(const FieldInfo& f, FilterOp op) {
  if (op == FilterOp::exists) return f.nullable;
  switch (f.kind) {
    case FieldKind::text:
    case FieldKind::folded_text:
    case FieldKind::data:
      return op != FilterOp::contains;
    case FieldKind::time:
      return op != FilterOp::contains && op != FilterOp::prefix;
    case FieldKind::boolean:
      return op == FilterOp::eq || op == FilterOp::ne;
    case FieldKind::tags:
      return op == FilterOp::contains;
  }
  return false;
}

std::string allowed_ops(const FieldInfo& f) {
  std::string out;
  for (FilterOp op : kAllOps) {
    if (!op_allowed(f, op)) continue;
    if (!out.empty()) out += ", ";
    out += filter_op_name(op);
  }
  return out;
}

// Why a value does not fit: becomes a FieldError once the field name is known.
struct Problem {
  std::string code;
  std::string detail;
};
using Typed = std::expected<json::value, Problem>;

std::unexpected<Problem> problem(std::string code, std::string detail) {
  return std::unexpected(Problem{std::move(code), std::move(detail)});
}

const char* expected_text(FieldKind kind) {
  switch (kind) {
    case FieldKind::boolean: return "must be true or false";
    case FieldKind::time: return "must be an RFC 3339 time such as 2026-11-01T00:00:00Z";
    case FieldKind::data: return "must be a string, a number, true, false or null";
    default: return "must be a string";
  }
}

// A JSON number literal exactly (no whitespace, no leading zeros, no NaN/Infinity).
bool is_json_number(std::string_view s) {
  size_t i = 0, n = s.size();
  auto digits = [&] {
    size_t start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < n && s[i] == '-') ++i;
  if (i < n && s[i] == '0') ++i;
  else if (!digits()) return false;
  if (i < n && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == n;
}

// Numbers become int64 or a finite double; anything else fails.
std::optional<json::value> normalized_number(const json::value& v) {
  if (v.is_int64()) return v;
  if (v.is_uint64()) return json::value(static_cast<double>(v.get_uint64()));
  if (v.is_double() && std::isfinite(v.get_double())) return v;
  return std::nullopt;
}

// A data value from the query string: a JSON number, true, false, null or a JSON string literal
// ("\"18\"" is the string 18) takes that type; any other text is a string.
json::value data_literal(std::string_view text) {
  if (text == "true") return json::value(true);
  if (text == "false") return json::value(false);
  if (text == "null") return json::value(nullptr);
  bool quoted = text.size() >= 2 && text.front() == '"' && text.back() == '"';
  if (quoted || is_json_number(text)) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (!ec) {
      if (v.is_string()) return v;
      if (auto n = normalized_number(v)) return *n;
    }
  }
  return json::value(json::string(text));
}

Typed check_data_value(FilterOp op, json::value v) {
  bool ordered = op == FilterOp::gt || op == FilterOp::gte || op == FilterOp::lt || op == FilterOp::lte;
  if (ordered && !v.is_string() && !v.is_number())
    return problem("type", cat({filter_op_name(op), " compares with a number or a string"}));
  return v;
}

Typed scalar_from_text(FieldKind kind, FilterOp op, std::string_view text) {
  switch (kind) {
    case FieldKind::boolean:
      if (text == "true") return json::value(true);
      if (text == "false") return json::value(false);
      return problem("type", expected_text(kind));
    case FieldKind::time: {
      Timestamp t;
      if (!parse_rfc3339(text, t)) return problem("type", expected_text(kind));
      return json::value(to_micros(t));
    }
    case FieldKind::data:
      if (op == FilterOp::prefix) return json::value(json::string(text));
      return check_data_value(op, data_literal(text));
    default:
      return json::value(json::string(text));
  }
}

Typed scalar_from_json(FieldKind kind, FilterOp op, const json::value& v) {
  switch (kind) {
    case FieldKind::boolean:
      if (v.is_bool()) return v;
      return problem("type", expected_text(kind));
    case FieldKind::time: {
      Timestamp t;
      if (!v.is_string() || !parse_rfc3339(v.get_string(), t)) return problem("type", expected_text(kind));
      return json::value(to_micros(t));
    }
    case FieldKind::data:
      if (op == FilterOp::prefix) {
        if (v.is_string()) return v;
        return problem("type", "prefix takes a string");
      }
      if (v.is_string() || v.is_bool() || v.is_null()) return check_data_value(op, v);
      if (v.is_number()) {
        if (auto n = normalized_number(v)) return check_data_value(op, *n);
      }
      return problem("type", expected_text(kind));
    default:
      if (v.is_string()) return v;
      return problem("type", expected_text(kind));
  }
}

Typed exists_value(bool ok, bool value) {
  if (!ok) return problem("type", "exists takes true or false");
  return json::value(value);
}

Typed list_size_problem(size_t n) {
  if (n == 0) return problem("type", "takes a non-empty list");
  return problem("too_many", cat({"takes at most ", std::to_string(kMaxFilterListValues), " values"}));
}

Typed value_from_text(const FieldInfo& f, FilterOp op, std::string_view text) {
  if (op == FilterOp::exists) return exists_value(text == "true" || text == "false", text == "true");
  if (op != FilterOp::in && op != FilterOp::nin) return scalar_from_text(f.kind, op, text);
  json::array items;
  for (size_t start = 0;;) {
    size_t comma = text.find(',', start);
    if (items.size() == kMaxFilterListValues) return list_size_problem(items.size() + 1);
    auto item = scalar_from_text(f.kind, op, text.substr(start, comma - start));
    if (!item) return item;
    items.push_back(std::move(*item));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return json::value(std::move(items));
}

Typed value_from_json(const FieldInfo& f, FilterOp op, const json::value& v) {
  if (op == FilterOp::exists) return exists_value(v.is_bool(), v.is_bool() && v.get_bool());
  if (op != FilterOp::in && op != FilterOp::nin) return scalar_from_json(f.kind, op, v);
  if (!v.is_array()) return problem("type", cat({filter_op_name(op), " takes an array"}));
  const json::array& in = v.get_array();
  if (in.empty() || in.size() > kMaxFilterListValues) return list_size_problem(in.size());
  json::array items;
  for (const json::value& each : in) {
    auto item = scalar_from_json(f.kind, op, each);
    if (!item) return item;
    items.push_back(std::move(*item));
  }
  return json::value(std::move(items));
}

// Collects conditions and the errors of every offending one.
class ConditionBuilder {
 public:
  // The field's schema, or nullopt after recording why it cannot be filtered on.
  std::optional<FieldInfo> field(std::string_view name) {
    if (auto info = user_field(name)) return info;
    if (name.starts_with(kDataPrefix))
      error(name, "format", "data paths are data.<key>[.<key>...], each key 1 to 64 of A-Z a-z 0-9 _ -");
    else if (name == "data")
      error(name, "unknown_field", "filter on a key inside data: data.<path>");
    else
      error(name, "unknown_field", "is not a user field");
    return std::nullopt;
  }

  // The operator, or nullopt after recording why it is refused.
  std::optional<FilterOp> op(std::string_view name, const FieldInfo& f, std::string_view op_name) {
    auto op = filter_op(op_name);
    if (!op) {
      error(name, "unknown_operator", cat({"'", op_name, "' is not an operator (", allowed_ops(f), ")"}));
      return std::nullopt;
    }
    if (!op_allowed(f, *op)) {
      error(name, "operator_not_allowed",
            cat({op_name, " does not apply to this field (allowed: ", allowed_ops(f), ")"}));
      return std::nullopt;
    }
    return op;
  }

  void add(std::string_view name, FilterOp op, Typed value) {
    if (!value) return error(name, value.error().code, cat({filter_op_name(op), ": ", value.error().detail}));
    if (conditions_.size() == kMaxFilterConditions) {
      if (!too_many_)
        error(name, "too_many", cat({"a filter has at most ", std::to_string(kMaxFilterConditions), " conditions"}));
      too_many_ = true;
      return;
    }
    conditions_.push_back(Condition{std::string(name), op, std::move(*value)});
  }

  void error(std::string_view field, std::string code, std::string detail) {
    errors_.push_back(FieldError{std::string(field), std::move(code), std::move(detail)});
  }

  std::vector<FieldError>& errors() { return errors_; }
  std::vector<Condition> take() { return std::move(conditions_); }

 private:
  std::vector<Condition> conditions_;
  std::vector<FieldError> errors_;
  bool too_many_ = false;
};

Error invalid_filter(std::vector<FieldError> errors) {
  Error e = Error::bad_request("invalid_filter", "The filter names an unknown field or operator, or a value of the wrong type.");
  e.fields = std::move(errors);
  return e;
}

Error invalid_cursor() {
  return Error::bad_request("invalid_cursor", "The cursor is not one this server returned for this sort.");
}

// "field" or "field[op]" from the query string.
void add_query_condition(ConditionBuilder& b, std::string_view key, std::string_view value) {
  std::string_view name = key, op_name = "eq";
  if (size_t open = key.find('['); open != std::string_view::npos) {
    name = key.substr(0, open);
    if (key.back() != ']' || key.find_first_of("[]", open + 1) != key.size() - 1)
      return b.error(name, "unknown_operator", "write the operator as field[op]");
    op_name = key.substr(open + 1, key.size() - open - 2);
  }
  auto f = b.field(name);
  if (!f) return;
  auto op = b.op(name, *f, op_name);
  if (!op) return;
  b.add(name, *op, value_from_text(*f, *op, value));
}

std::vector<SortKey> parse_sort(std::string_view text, std::vector<FieldError>& errors) {
  std::vector<SortKey> sort;
  auto error = [&](std::string code, std::string detail) {
    errors.push_back(FieldError{"sort", std::move(code), std::move(detail)});
  };
  for (size_t start = 0;;) {
    size_t comma = text.find(',', start);
    std::string_view token = text.substr(start, comma - start);
    SortKey key;
    if (token.starts_with('-')) {
      key.descending = true;
      token.remove_prefix(1);
    }
    key.field = std::string(token);
    auto info = user_field(token);
    if (token.empty()) {
      error("format", "a comma-separated list of fields, each optionally preceded by - for descending order");
    } else if (!info) {
      error("unknown_field", cat({"'", key.field, "' is not a user field or a valid data.<path>"}));
    } else if (!info->sortable) {
      error("not_sortable", cat({"cannot sort on '", key.field, "'"}));
    } else if (std::ranges::any_of(sort, [&](const SortKey& k) { return k.field == key.field; })) {
      error("duplicate", cat({"'", key.field, "' appears twice"}));
    } else if (sort.size() == kMaxSortKeys) {
      error("too_many", cat({"at most ", std::to_string(kMaxSortKeys), " sort keys"}));
    } else {
      sort.push_back(std::move(key));
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return sort;
}

// Whether a cursor value can be a sort value of the field (see Cursor::keys).
bool fits_cursor(const FieldInfo& f, const json::value& v) {
  if (v.is_null()) return f.nullable;
  switch (f.kind) {
    case FieldKind::boolean:
    case FieldKind::time:
      return v.is_int64();
    case FieldKind::data:
      return v.is_int64() || v.is_double() || v.is_string();
    default:
      return v.is_string();
  }
}

}  // namespace

std::string_view filter_op_name(FilterOp op) {
  switch (op) {
    case FilterOp::eq: return "eq";
    case FilterOp::ne: return "ne";
    case FilterOp::gt: return "gt";
    case FilterOp::gte: return "gte";
    case FilterOp::lt: return "lt";
    case FilterOp::lte: return "lte";
    case FilterOp::in: return "in";
    case FilterOp::nin: return "nin";
    case FilterOp::prefix: return "prefix";
    case FilterOp::contains: return "contains";
    case FilterOp::exists: return "exists";
  }
  return "";
}

std::optional<std::vector<std::string_view>> data_path(std::string_view field) {
  if (!field.starts_with(kDataPrefix)) return std::nullopt;
  std::string_view rest = field.substr(kDataPrefix.size());
  std::vector<std::string_view> segments;
  for (size_t start = 0;;) {
    size_t dot = rest.find('.', start);
    std::string_view segment = rest.substr(start, dot - start);
    if (segment.empty() || segment.size() > kMaxSegmentLength || segments.size() == kMaxPathSegments)
      return std::nullopt;
    for (char c : segment) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      if (!ok) return std::nullopt;
    }
    segments.push_back(segment);
    if (dot == std::string_view::npos) return segments;
    start = dot + 1;
  }
}

std::optional<FieldInfo> user_field(std::string_view field) {
  for (const NamedField& f : kFields)
    if (f.name == field) return f.info;
  if (data_path(field)) return FieldInfo{FieldKind::data, true, true};
  return std::nullopt;
}

Result<UserQuery> parse_user_query(std::string_view query_string) {
  // Brackets are not allowed unencoded in a query (RFC 3986), but curl and hand-written URLs send
  // them as typed: `created_at[gt]=...` reads like `created_at%5Bgt%5D=...`.
  // Always a copy: Boost.URL 1.81's parse_query reads its argument as a NUL-terminated string (a view
  // into the request target is not, and an empty view may be null).
  std::string escaped;
  for (char c : query_string) {
    if (c == '[') escaped += "%5B";
    else if (c == ']') escaped += "%5D";
    else escaped += c;
  }
  auto params = boost::urls::parse_query(escaped);
  if (!params) return fail(Error::bad_request("malformed_request", "The query string is not valid."));
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;  // as forms encode, and as the other list endpoints read it

  UserQuery query;
  ConditionBuilder conditions;
  std::optional<std::string> sort_text, limit_text, cursor_text;
  for (auto param : *params) {
    std::string key = param.key.decode(opts);
    std::string value = param.has_value ? param.value.decode(opts) : std::string();
    if (key.empty() && value.empty()) continue;  // "a=1&&b=2", or an empty query
    std::optional<std::string>* reserved = key == "sort"     ? &sort_text
                                           : key == "limit"  ? &limit_text
                                           : key == "cursor" ? &cursor_text
                                                             : nullptr;
    if (!reserved) {
      add_query_condition(conditions, key, value);
    } else if (*reserved) {
      conditions.error(key, "duplicate", "given more than once");
    } else {
      *reserved = std::move(value);
    }
  }
  if (sort_text) query.sort = parse_sort(*sort_text, conditions.errors());
  if (!conditions.errors().empty()) return fail(invalid_filter(std::move(conditions.errors())));
  query.where = conditions.take();

  if (cursor_text && !cursor_text->empty()) {  // an empty cursor is the first page
    auto cursor = decode_cursor(*cursor_text, query.sort);
    if (!cursor) return fail(std::move(cursor.error()));
    query.after = std::move(*cursor);
  }
  query.limit = kDefaultUserListLimit;
  if (limit_text) {
    size_t n = 0;
    const char* end = limit_text->data() + limit_text->size();
    auto [ptr, ec] = std::from_chars(limit_text->data(), end, n);
    if (ec != std::errc() || ptr != end || n < 1 || n > kMaxUserListLimit)
      return fail(Error::validation({{"limit", "range", "must be a whole number from 1 to 1000"}}));
    query.limit = n;
  }
  return query;
}

Result<std::vector<Condition>> parse_user_filter(const json::object& where) {
  ConditionBuilder b;
  for (const auto& [key, value] : where) {
    std::string_view name = key;
    auto f = b.field(name);
    if (!f) continue;
    if (!value.is_object()) {
      auto op = b.op(name, *f, "eq");
      if (op) b.add(name, *op, value_from_json(*f, *op, value));
      continue;
    }
    if (value.get_object().empty()) b.error(name, "type", "give a value, or an object of operators and values");
    for (const auto& [op_name, operand] : value.get_object()) {
      auto op = b.op(name, *f, op_name);
      if (op) b.add(name, *op, value_from_json(*f, *op, operand));
    }
  }
  if (!b.errors().empty()) return fail(invalid_filter(std::move(b.errors())));
  return b.take();
}

Result<std::vector<SortKey>> parse_user_sort(std::string_view text) {
  std::vector<FieldError> errors;
  std::vector<SortKey> sort = parse_sort(text, errors);
  if (!errors.empty()) return fail(invalid_filter(std::move(errors)));
  return sort;
}

std::string sort_spec(const std::vector<SortKey>& sort) {
  std::string out;
  for (const SortKey& k : sort) {
    if (!out.empty()) out += ',';
    if (k.descending) out += '-';
    out += k.field;
  }
  return out;
}

std::string encode_cursor(const Cursor& cursor) {
  json::object o;
  o["s"] = cursor.sort;
  json::array keys;
  for (const json::value& k : cursor.keys) keys.push_back(k);
  o["k"] = std::move(keys);
  o["i"] = cursor.id;
  return crypto::base64url_encode(json::serialize(o));
}

Result<Cursor> decode_cursor(std::string_view text, const std::vector<SortKey>& sort) {
  std::string decoded;
  if (!crypto::base64url_decode(text, decoded)) return fail(invalid_cursor());
  boost::system::error_code ec;
  json::value v = json::parse(decoded, ec);
  if (ec || !v.is_object()) return fail(invalid_cursor());
  const json::object& o = v.get_object();
  const json::value* s = o.if_contains("s");
  const json::value* k = o.if_contains("k");
  const json::value* i = o.if_contains("i");
  if (o.size() != 3 || !s || !k || !i || !s->is_string() || !k->is_array() || !i->is_string()) return fail(invalid_cursor());
  if (s->get_string() != sort_spec(sort) || k->get_array().size() != sort.size() || i->get_string().empty())
    return fail(invalid_cursor());
  Cursor cursor;
  for (size_t n = 0; n < sort.size(); ++n) {
    const json::value& key = k->get_array()[n];
    auto info = user_field(sort[n].field);
    if (!info || !fits_cursor(*info, key)) return fail(invalid_cursor());
    cursor.keys.push_back(key);
  }
  cursor.id = std::string(i->get_string());
  cursor.sort = std::string(s->get_string());
  return cursor;
}

}  // namespace tessera::identity
