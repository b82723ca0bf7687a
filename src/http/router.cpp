#include "http/router.hpp"

namespace tessera::http {

namespace {
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}
bool is_param(std::string_view seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }
}  // namespace

void Router::add(beast_http::verb method, std::string pattern, Handler handler, RouteOptions options) {
  Route r{method, pattern, std::move(handler), routes_.size(), {}, std::move(options)};
  bool has_param = false;
  for (auto part : split_path(pattern)) {
    r.segments.emplace_back(part);
    has_param |= is_param(part);
  }
  if (!has_param) static_paths_[pattern].push_back(r.index);
  routes_.push_back(std::move(r));
}

bool Router::matches(const Route& r, const std::vector<std::string_view>& parts, RequestContext* ctx) const {
  if (r.segments.size() != parts.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& seg = r.segments[i];
    if (is_param(seg)) {
      if (parts[i].empty()) return false;
    } else if (seg != parts[i]) {
      return false;
    }
  }
  if (ctx) {
    for (size_t i = 0; i < parts.size(); ++i)
      if (is_param(r.segments[i]))
        ctx->params.emplace_back(std::string_view(r.segments[i]).substr(1, r.segments[i].size() - 2),
                                 std::string(parts[i]));
  }
  return true;
}

Router::Match Router::match(beast_http::verb method, std::string_view path, RequestContext& ctx) const {
  auto accepts = [method](const Route& r) {
    return r.method == method || (method == beast_http::verb::head && r.method == beast_http::verb::get);
  };
  std::vector<const Route*> candidates;
  if (auto it = static_paths_.find(std::string(path)); it != static_paths_.end()) {
    for (size_t i : it->second) {
      if (accepts(routes_[i])) return {&routes_[i], {}};
      candidates.push_back(&routes_[i]);
    }
  }
  if (!path.empty() && path.front() == '/') {
    auto parts = split_path(path);
    for (auto& r : routes_) {
      if (static_paths_.contains(r.pattern) || !matches(r, parts, nullptr)) continue;
      if (accepts(r)) {
        matches(r, parts, &ctx);
        return {&r, {}};
      }
      candidates.push_back(&r);
    }
  }
  if (candidates.empty()) return {nullptr, Error::not_found("not_found", "No route matches this path.")};
  std::string allow;
  for (const Route* r : candidates) {
    std::string name(beast_http::to_string(r->method));
    if (allow.find(name) == std::string::npos) allow += (allow.empty() ? "" : ", ") + name;
  }
  Error e = Error::make(405, "method_not_allowed", "This path does not accept " +
                                                       std::string(beast_http::to_string(method)) + "; allowed: " + allow);
  e.internal = allow;  // carried to the Allow header by the server
  return {nullptr, e};
}

}  // namespace tessera::http
