#include "api/caller.hpp"

#include <boost/beast/core/string.hpp>

#include "api/app.hpp"
#include "crypto/token.hpp"

namespace tessera::api {

namespace beast_http = http::beast_http;

namespace {

std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=')
      return pair.substr(name.size() + 1);
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return {};
}

bool is_safe_method(beast_http::verb v) {
  return v == beast_http::verb::get || v == beast_http::verb::head || v == beast_http::verb::options;
}

Error project_not_found(std::string_view name) {
  return Error::not_found("project_not_found", "No project has the id or alias '" + std::string(name) + "'.");
}

}  // namespace

session::ClientInfo client_info(const http::RequestContext& ctx) {
  return {ctx.client_ip, std::string(ctx.header(beast_http::field::user_agent))};
}

Result<Caller> authenticate(App& app, const http::RequestContext& ctx) {
  std::string_view token;
  std::string_view authorization = ctx.header(beast_http::field::authorization);
  if (!authorization.empty()) {
    if (authorization.size() < 7 || !boost::beast::iequals(authorization.substr(0, 7), "Bearer "))
      return fail(Error::unauthorized("invalid_token", "The Authorization header must be 'Bearer <token>'."));
    token = authorization.substr(7);
  } else {
    token = cookie_value(ctx.header(beast_http::field::cookie), kSessionCookie);
    if (token.empty()) {
      Error e = Error::make(401, "unauthenticated", "This request needs a session token or access token.");
      e.www_authenticate = "Bearer";
      return fail(std::move(e));
    }
    // A cookie is sent by the browser on its own: unsafe methods must prove same-origin intent.
    if (!is_safe_method(ctx.request.method()) &&
        !crypto::constant_time_equal(ctx.header("X-CSRF-Token"), crypto::csrf_token_for(token)))
      return fail(Error::forbidden("csrf_failed", "Cookie-authenticated requests that change state need the X-CSRF-Token header."));
  }
  auto session = app.sessions().authenticate(token);
  if (!session) return fail(session.error());
  Caller caller;
  caller.session = *session;
  const auto& row = caller.session->row;
  caller.project = app.projects().find(row.project_id);
  caller.user = app.users().get(row.project_id, row.user_id);
  if (!caller.project || !caller.user) return fail(Error::unauthorized("invalid_token", "The access token is not valid."));
  if (!caller.user->active) return fail(Error::forbidden("user_inactive", "This account is suspended."));
  std::string_view named = ctx.header("X-Tessera-Project");
  if (!named.empty() && named != caller.project->id && named != caller.project->alias)
    return fail(Error::bad_request("project_mismatch", "X-Tessera-Project names another project than the credential's."));
  return caller;
}

Result<projects::ProjectPtr> resolve_project(App& app, const http::RequestContext& ctx, const boost::json::object& body) {
  std::string_view named = ctx.header("X-Tessera-Project");
  if (auto it = body.find("project"); it != body.end()) {
    if (!it->value().is_string())
      return fail(Error::validation({{"project", "type", "must be a string (a project id or alias)"}}));
    std::string_view in_body = it->value().as_string();
    if (!named.empty() && in_body != named) {
      auto a = app.projects().find(named), b = app.projects().find(in_body);
      if (!a || a != b)
        return fail(Error::bad_request("project_mismatch", "X-Tessera-Project and the \"project\" field name different projects."));
    }
    if (named.empty()) named = in_body;
  }
  if (!named.empty()) {
    auto project = app.projects().find(named);
    if (!project) return fail(project_not_found(named));
    return project;
  }
  if (auto only = app.projects().only()) return only;
  return fail(Error::bad_request(
      "project_required",
      "This request needs a project: name one with the X-Tessera-Project header or a \"project\" body field "
      "(its id or alias)."));
}

}  // namespace tessera::api
