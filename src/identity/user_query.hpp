// The user filter language of API.md: `field[op]=value` query parameters (GET /v1/users) and the same
// conditions as JSON (`{"where": {"active": {"eq": false}}}` in bulk operations), multi-key sort and
// cursor pagination. Parsing validates fields, operators and value types against the user schema;
// the store compiles the result to parameterized SQL only.
//
// Semantics every backend implements (docs/behaviour.md should carry the same list for clients):
// - conditions are ANDed; `ne` and `nin` are the negation of `eq` and `in`, so they also match users
//   where the field is null or (for data paths) missing or of another JSON type;
// - email and login compare case-insensitively (ASCII), on their folded keys;
// - a data.<path> condition only matches values of the same JSON type as the filter value
//   (numbers match numbers, strings strings, ...); `eq null` matches an explicit JSON null only;
// - the order is the sort keys (NULL, or a missing data path, lowest: first ascending, last descending),
//   then id ascending.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "identity/user.hpp"

namespace tessera::identity {

enum class FilterOp { eq, ne, gt, gte, lt, lte, in, nin, prefix, contains, exists };

std::string_view filter_op_name(FilterOp op);

// What a field holds: decides its operators, how a value is typed, and how the store compares it.
enum class FieldKind {
  text,         // id, phone, full_name, external_id, avatar_url
  folded_text,  // email, login: compared on the ASCII-lower-cased key
  boolean,      // active, email_verified, is_guest
  time,         // created_at, updated_at, last_request_at: values are int64 microseconds
  tags,         // a JSON array of strings
  data,         // data.<path>: any JSON value inside `data`
};

struct FieldInfo {
  FieldKind kind = FieldKind::text;
  bool nullable = false;  // takes `exists` (a data path may be missing; tags may be empty)
  bool sortable = false;
};

// The schema of a filterable field ("email", "data.profile.age", ...), or nullopt when there is none.
std::optional<FieldInfo> user_field(std::string_view field);
// The segments of "data.<path>" ("data.profile.age" -> {"profile", "age"}), or nullopt when `field` is
// not a data path or a segment is not 1 to 64 of [A-Za-z0-9_-] (at most 16 segments). Backends may
// therefore quote the segments without escaping.
std::optional<std::vector<std::string_view>> data_path(std::string_view field);

struct Condition {
  std::string field;         // "email", "created_at", "tags", "data.profile.age", ...
  FilterOp op = FilterOp::eq;
  boost::json::value value;  // already typed for the field: string, int64 (times: microseconds), double,
                             // bool, null; an array for in/nin; a bool for exists
};

struct SortKey {
  std::string field;  // a sortable field or data.<path>
  bool descending = false;
};

// Where a page ends: the sort values of its last user, then its id (the tie-breaker).
struct Cursor {
  std::vector<boost::json::value> keys;  // one per sort key, as the store compares them (null, int64,
                                         // double or string; email/login: the folded key)
  std::string id;
  std::string sort;  // sort_spec() of the query that made it: a cursor only continues the same order
};

struct UserQuery {
  std::vector<Condition> where;  // all must hold
  std::vector<SortKey> sort;     // empty: by id (creation order)
  size_t limit = 50;
  std::optional<Cursor> after;
};

inline constexpr size_t kDefaultUserListLimit = 50;
inline constexpr size_t kMaxUserListLimit = 1000;
inline constexpr size_t kMaxFilterListValues = 100;  // in / nin
inline constexpr size_t kMaxFilterConditions = 64;
inline constexpr size_t kMaxSortKeys = 8;

// GET /v1/users?active=true&data.age[gte]=18&sort=-created_at&limit=100&cursor=...
// `query_string` is the URL-encoded query without '?' ('+' decodes to a space, so send %2B).
// Errors, in this order: 400 invalid_filter (errors[] names each field as given, or "sort", with
// codes unknown_field, unknown_operator, operator_not_allowed, type, format, too_many, not_sortable,
// duplicate), 400 invalid_cursor, 422 validation_failed for limit (code range).
Result<UserQuery> parse_user_query(std::string_view query_string);
// {"active": {"eq": false}, "data.age": {"gte": 18}, "email": "a@b.c"} (a bare value means eq).
// Data values keep their JSON type; times are RFC 3339 strings; in/nin take arrays.
Result<std::vector<Condition>> parse_user_filter(const boost::json::object& where);
// "-created_at,email" (the `sort` parameter, e.g. for JSON-RPC user/list); errors as parse_user_query.
Result<std::vector<SortKey>> parse_user_sort(std::string_view text);

// "-created_at,email": the canonical text of a sort (also what Cursor::sort holds).
std::string sort_spec(const std::vector<SortKey>& sort);
// Opaque: base64url of compact JSON.
std::string encode_cursor(const Cursor& cursor);
// 400 invalid_cursor unless `text` came from encode_cursor for this same sort.
Result<Cursor> decode_cursor(std::string_view text, const std::vector<SortKey>& sort);

// What a bulk update sets on every matched user.
struct UserChanges {
  std::optional<bool> active;
  std::optional<bool> email_verified;
  PatchField<std::string> full_name;
  PatchField<std::string> external_id;
  std::optional<std::vector<std::string>> tags;
  std::optional<boost::json::object> data_patch;  // RFC 7386 merge-patch of `data`
};

struct UserPage {
  std::vector<User> items;
  std::optional<Cursor> next;  // null on the last page
};

}  // namespace tessera::identity
