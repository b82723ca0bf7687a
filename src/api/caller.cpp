#include "api/caller.hpp"

#include <boost/beast/core/string.hpp>

#include "api/app.hpp"
#include "crypto/token.hpp"

#include <algorithm>

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

Status Caller::require(std::string_view permission) const {
  if (permissions.allows(permission)) return {};
  Error e = Error::forbidden("forbidden", "This credential lacks the permission " + std::string(permission) + ".");
  e.missing_permission = std::string(permission);
  return fail(std::move(e));
}

namespace {

Error invalid_token() { return Error::unauthorized("invalid_token", "The access token is not valid."); }

// The user behind a credential, and what the user holds now through its roles.
Status attach_user(App& app, Caller& caller, const std::string& project_id, const std::string& user_id) {
  caller.project = app.projects().find(project_id);
  caller.user = app.users().get(project_id, user_id);
  if (!caller.project || !caller.user) return fail(invalid_token());
  if (!caller.user->active) return fail(Error::forbidden("user_inactive", "This account is suspended."));
  caller.permissions = app.roles().permissions_of(project_id, user_id);
  return {};
}

Result<Caller> from_session(App& app, std::string_view token) {
  auto live = app.sessions().authenticate(token);
  if (!live) return fail(live.error());
  Caller caller;
  caller.kind = Caller::Kind::session;
  caller.session = *live;
  if (auto ok = attach_user(app, caller, caller.session->row.project_id, caller.session->row.user_id); !ok)
    return fail(ok.error());
  return caller;
}

Result<Caller> from_personal_token(App& app, std::string_view token) {
  auto pat = app.personal_tokens().authenticate(token);
  if (!pat) return fail(pat.error());
  Caller caller;
  caller.kind = Caller::Kind::personal_token;
  caller.personal_token = *pat;
  if (auto ok = attach_user(app, caller, (*pat)->project_id, (*pat)->user_id); !ok) return fail(ok.error());
  caller.permissions = (*pat)->permissions.intersect(caller.permissions);  // never more than the owner now holds
  return caller;
}

Result<Caller> from_access_token(App& app, std::string_view jwt) {
  auto token = app.tokens().verify(jwt);
  if (!token) return fail(token.error());
  const auto& t = **token;
  Caller caller;
  caller.kind = Caller::Kind::access_token;
  caller.access_token = *token;
  if (t.kind == session::SubjectKind::user) {
    if (auto ok = attach_user(app, caller, t.project_id, t.subject); !ok) return fail(ok.error());
  } else {
    caller.api_key = app.api_keys().active(t.subject);
    caller.project = app.projects().find(t.project_id);
    if (!caller.api_key || !caller.project || caller.api_key->project_id != t.project_id) return fail(invalid_token());
    caller.permissions = caller.api_key->permissions;
  }
  caller.permissions = t.scope.intersect(caller.permissions);
  return caller;
}

}  // namespace

Result<Caller> resolve_token(App& app, std::string_view token) {
  if (token.starts_with(crypto::kSessionTokenPrefix)) return from_session(app, token);
  if (token.starts_with(crypto::kPersonalTokenPrefix)) return from_personal_token(app, token);
  if (std::count(token.begin(), token.end(), '.') == 2) return from_access_token(app, token);
  return fail(invalid_token());
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
  auto caller = resolve_token(app, token);
  if (!caller) return caller;
  std::string_view named = ctx.header("X-Tessera-Project");
  if (!named.empty() && named != caller->project->id && named != caller->project->alias)
    return fail(Error::bad_request("project_mismatch", "X-Tessera-Project names another project than the credential's."));
  return caller;
}

Result<Caller> authorize(App& app, const http::RequestContext& ctx, std::string_view permission) {
  auto caller = authenticate(app, ctx);
  if (caller)
    if (auto ok = caller->require(permission); !ok) return fail(ok.error());
  return caller;
}

Result<Caller> authenticate_user(App& app, const http::RequestContext& ctx) {
  auto caller = authenticate(app, ctx);
  if (caller && !caller->user)
    return fail(Error::forbidden("user_required", "This route acts for a user; API keys use the administration routes."));
  return caller;
}

Result<Caller> authenticate_session(App& app, const http::RequestContext& ctx) {
  auto caller = authenticate(app, ctx);
  if (caller && caller->kind != Caller::Kind::session)
    return fail(Error::forbidden("session_required", "This self-service route needs the user's session token or cookie."));
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
