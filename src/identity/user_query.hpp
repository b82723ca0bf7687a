// The user filter language of API.md: `field[op]=value` query parameters (GET /v1/users) and the same
// conditions as JSON (`{"where": {"active": {"eq": false}}}` in bulk operations), multi-key sort and
// cursor pagination. Parsing validates fields, operators and value types against the user schema;
// the store compiles the result to parameterized SQL only.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "identity/user.hpp"

namespace tessera::identity {

enum class FilterOp { eq, ne, gt, gte, lt, lte, in, nin, prefix, contains, exists };

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
  std::vector<boost::json::value> keys;
  std::string id;
};

struct UserQuery {
  std::vector<Condition> where;  // all must hold
  std::vector<SortKey> sort;     // empty: by id (creation order)
  size_t limit = 50;
  std::optional<Cursor> after;
};

// GET /v1/users?active=true&data.age[gte]=18&sort=-created_at&limit=100&cursor=...
// Errors: 400 invalid_filter (errors[] names each field and the rule), 400 invalid_cursor, 422 for limit.
Result<UserQuery> parse_user_query(std::string_view query_string);
// {"active": {"eq": false}, "data.age": {"gte": 18}, "email": "a@b.c"} (a bare value means eq).
Result<std::vector<Condition>> parse_user_filter(const boost::json::object& where);

std::string encode_cursor(const Cursor& cursor);

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
