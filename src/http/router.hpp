// Routes by method and path pattern ("/v1/sessions/{id}"). Unknown paths are 404, known paths with
// another method 405 with an Allow header.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/message.hpp"

namespace tessera::http {

using Handler = std::function<HandlerResult(RequestContext&)>;

struct RouteOptions {
  std::optional<uint64_t> body_limit = std::nullopt;  // replaces [server] body_limit for this route (uploads)
  // When the store blocks (PostgreSQL) handlers run on the handler pool; this one is first tried on
  // the I/O thread, to answer from caches without two thread hand-offs. Its first store call throws
  // WouldBlock and the handler runs again, from the start, on the pool. Only for handlers that change
  // nothing (no write, no outbound call, no hashing) before their first store call.
  bool inline_first = false;
};

struct Route {
  beast_http::verb method;
  std::string pattern;
  Handler handler;
  size_t index = 0;  // stable position, used by metrics
  std::vector<std::string> segments;
  RouteOptions options;
};

class Router {
 public:
  void add(beast_http::verb method, std::string pattern, Handler handler, RouteOptions options = {});

  struct Match {
    const Route* route = nullptr;  // null: see error
    Error error;
  };
  // Fills ctx.params on success.
  Match match(beast_http::verb method, std::string_view path, RequestContext& ctx) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  bool matches(const Route& r, const std::vector<std::string_view>& parts, RequestContext* ctx) const;
  std::vector<Route> routes_;
  std::unordered_map<std::string, std::vector<size_t>> static_paths_;  // exact paths without parameters
};

}  // namespace tessera::http
