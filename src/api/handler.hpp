// Helpers shared by the route files.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include <boost/json.hpp>
#include <vector>
#include "http/message.hpp"

// Inside a handler coroutine: unwraps a Result into `var`, or returns its error.
#define CO_TRY(var, expr)                                     \
  auto var##_result = (expr);                                 \
  if (!var##_result) co_return ::tessera::fail(var##_result.error()); \
  auto& var = *var##_result

namespace tessera::api {

struct PageRequest {
  size_t limit = 50;
  std::optional<std::string> after;  // decoded cursor
};

// ?limit= (1-1000, default 50) and ?cursor= (opaque, from a previous page's next_cursor).
Result<PageRequest> parse_page(const http::RequestContext& ctx);
std::string encode_cursor(std::string_view position);
// A query parameter's decoded value, if present.
std::optional<std::string> query_param(const http::RequestContext& ctx, std::string_view name);

// application/x-www-form-urlencoded: '+' is a space, %XX a byte; nullopt when malformed.
std::optional<std::string> form_decode(std::string_view in);
using FormParams = std::map<std::string, std::string, std::less<>>;
// An application/x-www-form-urlencoded body ('+' is a space, %XX a byte); nullopt when malformed or
// when a parameter is repeated.
std::optional<FormParams> parse_form(std::string_view body);

// An optional RFC 3339 field: nullopt when absent, a 422 naming the field when malformed.
Result<std::optional<Timestamp>> optional_time_field(const std::optional<std::string>& text, const std::string& field);

// {"items": [...], "next_cursor": ...} from a page fetched with limit + 1 rows.
template <class Item, class ToJson, class IdOf>
http::Response page_response(std::vector<Item> rows, size_t limit, ToJson to_json, IdOf id_of) {
  boost::json::array items;
  boost::json::value next = nullptr;
  if (rows.size() > limit) {
    rows.resize(limit);
    next = encode_cursor(id_of(rows.back()));
  }
  for (const auto& row : rows) items.push_back(to_json(row));
  return http::json_response(http::beast_http::status::ok, boost::json::object{{"items", std::move(items)}, {"next_cursor", next}});
}

}  // namespace tessera::api
