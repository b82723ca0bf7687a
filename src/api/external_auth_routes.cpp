// Sign-in with external identities (docs/external.md): the authorization code flow
// (GET /v1/auth/oauth/{provider}/start, GET|POST .../callback, POST /v1/auth/oauth/exchange) and
// tokens from other issuers (POST /v1/auth/external).
#include <boost/url/url.hpp>

#include "api/app.hpp"
#include "api/caller.hpp"
#include "api/handler.hpp"
#include "api/json_body.hpp"
#include "api/representations.hpp"
#include "api/routes.hpp"
#include "core/log.hpp"
#include "events/outbox.hpp"
#include "external/redirect_allow_list.hpp"

namespace tessera::api {

namespace beast_http = http::beast_http;
using http::HandlerResult;
using http::RequestContext;

namespace {

// The project of a request without credentials; a browser navigation names it with ?project=.
Result<projects::ProjectPtr> project_of(App& app, const RequestContext& ctx) {
  boost::json::object named;
  if (auto project = query_param(ctx, "project")) named["project"] = *project;
  return resolve_project(app, ctx, named);
}

Result<external::FlowAction> read_action(const std::optional<std::string>& action) {
  if (!action || *action == "signup") return external::FlowAction::signup;
  if (*action == "signin") return external::FlowAction::signin;
  return fail(Error::validation({{"action", "invalid", "must be signin or signup"}}));
}

bool valid_challenge(std::string_view s) {
  return s.size() == 43 && std::ranges::all_of(s, [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; });
}

http::Response redirect(const std::string& location) {
  auto res = http::empty_response(beast_http::status::found);
  res.set(beast_http::field::location, location);
  res.set(beast_http::field::cache_control, "no-store");
  return res;
}

std::string with_params(const std::string& base, std::initializer_list<std::pair<std::string_view, std::string_view>> params) {
  boost::urls::url url(base);
  for (auto& [k, v] : params) url.params().append({k, v});
  return std::string(url.buffer());
}

// A session for an external sign-in, with its user.login event: {user, session}, 201 when the user is new.
http::Response session_response(App& app, const RequestContext& ctx, const projects::Project& project,
                                const external::SignedIn& in) {
  auto issued = app.sessions().issue(project, in.user.id, client_info(ctx), [&](store::Repositories& r, const session::Session& s) {
    events::record(r, app.clock().now(), {"user.login", project.id, {{"user", identity::to_json(in.user)}, {"session_id", s.id},
                                                                      {"ip", s.ip}, {"method", "external"}, {"provider", in.provider}}});
  });
  return signed_in_response(in.created ? beast_http::status::created : beast_http::status::ok, in.user, issued, app.secure_cookies());
}

HandlerResult start(App& app, RequestContext& ctx) {
  CO_TRY(project, project_of(app, ctx));
  external::FlowStart in;
  CO_TRY(action, read_action(query_param(ctx, "action")));
  in.action = action;
  in.redirect_to = query_param(ctx, "redirect_to");
  in.code_challenge = query_param(ctx, "code_challenge");
  auto mode = query_param(ctx, "mode");
  std::vector<FieldError> errors;
  if (in.redirect_to && !external::redirect_allowed(project->redirect_allow_list, *in.redirect_to))
    errors.push_back({"redirect_to", "not_allowed", "is not on the project's redirect_allow_list"});
  if (in.code_challenge && !valid_challenge(*in.code_challenge))
    errors.push_back({"code_challenge", "format", "must be an S256 challenge: 43 characters of base64url"});
  if (auto method = query_param(ctx, "code_challenge_method"); method && *method != "S256")
    errors.push_back({"code_challenge_method", "invalid", "must be S256"});
  if (mode && *mode != "json") errors.push_back({"mode", "invalid", "must be json when given"});
  if (!errors.empty()) co_return fail(Error::validation(std::move(errors)));
  CO_TRY(provider, app.providers().find_enabled(project->id, std::string(ctx.param("provider"))));
  auto url = co_await app.calling([&] { return app.oauth_flows().start(*project, provider, in); });
  if (!url) co_return fail(url.error());
  if (mode) co_return http::json_response(beast_http::status::ok, boost::json::object{{"url", *url}});
  co_return redirect(*url);
}

HandlerResult callback(App& app, RequestContext& ctx) {
  std::string name(ctx.param("provider"));
  FormParams params;
  if (ctx.request.method() == beast_http::verb::post) {  // response_mode=form_post
    auto form = parse_form(ctx.request.body());
    if (!form) co_return fail(Error::bad_request("malformed_form", "The form body is malformed."));
    params = std::move(*form);
  }
  auto get = [&](std::string_view key) -> std::optional<std::string> {
    if (auto it = params.find(key); it != params.end()) return it->second;
    return query_param(ctx, key);
  };
  CO_TRY(flow, app.oauth_flows().take(name, get("state").value_or("")));
  auto project = app.projects().find(flow.project_id);
  if (!project) co_return fail(Error::bad_request("invalid_state", "The sign-in's project no longer exists."));
  bool to_app = flow.redirect_to && query_param(ctx, "mode") != "json";
  // Once the state is known, failures go back to the application when it gave a redirect_to.
  auto failed = [&](const Error& e) -> Result<http::Response> {
    if (!to_app) return fail(e);
    log::warn("external sign-in failed", {{"request_id", ctx.request_id}, {"code", e.code}, {"internal", e.internal}});
    return redirect(with_params(*flow.redirect_to, {{"error", e.code}, {"error_description", e.message}}));
  };
  if (auto denied = get("error")) {
    Error e = Error::make(401, "provider_denied", "The identity provider did not grant the sign-in.");
    e.internal = *denied + " " + get("error_description").value_or("");
    co_return failed(e);
  }
  auto provider = app.providers().find_enabled(project->id, name);
  if (!provider) co_return failed(provider.error());
  auto profile = co_await app.calling([&] { return app.oauth_flows().complete(*provider, get("state").value_or(""), get("code").value_or("")); });
  if (!profile) co_return failed(profile.error());
  auto signed_in = app.external_login().sign_in(*project, *provider, *profile, flow.action);
  if (!signed_in) co_return failed(signed_in.error());
  // The application's own PKCE needs the exchange, so a challenge always gets a code.
  if (to_app || flow.code_challenge) {
    std::string code = app.external_login().issue_code(*signed_in, name, flow.code_challenge);
    if (to_app) co_return redirect(with_params(*flow.redirect_to, {{"code", code}}));
    co_return http::json_response(beast_http::status::ok, boost::json::object{{"code", code}});
  }
  co_return session_response(app, ctx, *project, *signed_in);
}

HandlerResult exchange(App& app, RequestContext& ctx) {
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  f.allow("project");
  auto code = f.string("code");
  auto verifier = f.string("code_verifier");
  f.require("code", code.has_value());
  if (auto ok = f.finish(); !ok) co_return fail(ok.error());
  // The code knows its project; one named by the request must be the same.
  std::optional<std::string> named;
  if (body.contains("project") || !ctx.header("X-Tessera-Project").empty()) {
    CO_TRY(project, resolve_project(app, ctx, body));
    named = project->id;
  }
  CO_TRY(signed_in, app.external_login().redeem_code(named, *code, verifier));
  auto project = app.projects().find(signed_in.user.project_id);
  if (!project) co_return fail(Error::bad_request("invalid_code", "The code's project no longer exists."));
  co_return session_response(app, ctx, *project, signed_in);
}

HandlerResult external_token(App& app, RequestContext& ctx) {
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  f.allow("project");
  auto name = f.string("provider");
  auto token = f.string("token");
  auto action_text = f.string("action");
  f.require("provider", name.has_value());
  f.require("token", token.has_value());
  std::vector<FieldError> errors;
  if (token && token->size() > 16384) errors.push_back({"token", "too_long", "must be at most 16384 characters"});
  auto action = read_action(action_text);
  if (!action) errors.push_back(action.error().fields.front());
  if (auto ok = f.finish(std::move(errors)); !ok) co_return fail(ok.error());
  CO_TRY(project, resolve_project(app, ctx, body));
  CO_TRY(provider, app.providers().find_enabled(project->id, *name));
  auto profile = co_await app.calling([&] { return app.external_tokens().verify(project->id, provider, *token); });
  if (!profile) co_return fail(profile.error());
  CO_TRY(signed_in, app.external_login().sign_in(*project, provider, *profile, *action));
  co_return session_response(app, ctx, *project, signed_in);
}

}  // namespace

void register_external_auth_routes(http::Router& router, App& app) {
  using beast_http::verb;
  router.add(verb::get, "/v1/auth/oauth/{provider}/start", [&app](RequestContext& ctx) { return start(app, ctx); });
  router.add(verb::get, "/v1/auth/oauth/{provider}/callback", [&app](RequestContext& ctx) { return callback(app, ctx); });
  router.add(verb::post, "/v1/auth/oauth/{provider}/callback", [&app](RequestContext& ctx) { return callback(app, ctx); });
  router.add(verb::post, "/v1/auth/oauth/exchange", [&app](RequestContext& ctx) { return exchange(app, ctx); });
  router.add(verb::post, "/v1/auth/external", [&app](RequestContext& ctx) { return external_token(app, ctx); });
}

}  // namespace tessera::api
