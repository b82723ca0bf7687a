// Helpers shared by the route files.
#pragma once

#include <optional>
#include <string>

#include "core/error.hpp"
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

}  // namespace tessera::api
