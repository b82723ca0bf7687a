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

struct Route {
  beast_http::verb method;
  std::string pattern;
  Handler handler;
  size_t index = 0;  // stable position, used by metrics
  std::vector<std::string> segments;
  std::optional<uint64_t> body_limit;  // replaces [server] body_limit for this route (uploads)
};

class Router {
 public:
  void add(beast_http::verb method, std::string pattern, Handler handler,
           std::optional<uint64_t> body_limit = std::nullopt);

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
