// The OAuth 2.0 surface: POST /v1/token, /v1/token/introspect, /v1/token/revoke, and the discovery
// documents /.well-known/jwks.json and /.well-known/openid-configuration.
#include <cctype>

#include "api/app.hpp"
#include "api/caller.hpp"
#include "api/handler.hpp"
#include "api/json_body.hpp"
#include "api/routes.hpp"
#include "api/token_grants.hpp"
#include "crypto/random.hpp"
#include "crypto/token.hpp"

namespace tessera::api {

namespace beast_http = http::beast_http;
using http::HandlerResult;
using http::RequestContext;

namespace {

constexpr std::string_view kTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange";
constexpr std::string_view kAccessTokenType = "urn:ietf:params:oauth:token-type:access_token";

Error oauth(int status, std::string code, std::string message) {
  Error e = Error::make(status, std::move(code), std::move(message));
  e.oauth = true;
  return e;
}

using Params = FormParams;

// Token requests come as application/x-www-form-urlencoded (RFC 6749) or as JSON objects of strings.
Result<Params> read_params(const http::Request& req) {
  Params params;
  std::string_view type = req[beast_http::field::content_type];
  if (type.starts_with("application/x-www-form-urlencoded")) {
    auto form = parse_form(req.body());
    if (!form) return fail(oauth(400, "invalid_request", "The form body is malformed or repeats a parameter."));
    return std::move(*form);
  }
  auto object = parse_json_object(req);
  if (!object) return fail(object.error());
  for (auto& [key, value] : *object) {
    if (!value.is_string()) return fail(oauth(400, "invalid_request", "The parameter " + std::string(key) + " must be a string."));
    params.emplace(std::string(key), std::string(value.as_string()));
  }
  return params;
}

std::optional<std::string> param(const Params& p, std::string_view name) {
  auto it = p.find(name);
  if (it == p.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

// Client credentials from HTTP Basic (RFC 6749 2.3.1: each part form-url-encoded) or the body.
std::pair<std::string, std::string> client_credentials(const RequestContext& ctx, const Params& p) {
  std::string_view authorization = ctx.header(beast_http::field::authorization);
  if (authorization.size() > 6 && boost::beast::iequals(authorization.substr(0, 6), "Basic ")) {
    if (auto decoded = crypto::base64_decode_lenient(authorization.substr(6))) {
      auto colon = decoded->find(':');
      if (colon != std::string::npos) {
        auto id = form_decode(std::string_view(*decoded).substr(0, colon));
        auto secret = form_decode(std::string_view(*decoded).substr(colon + 1));
        if (id && secret) return {*id, *secret};
      }
    }
    return {"", ""};
  }
  return {param(p, "client_id").value_or(""), param(p, "client_secret").value_or("")};
}

http::Response token_response(const session::TokenResponse& t, bool exchanged) {
  boost::json::object body{{"access_token", t.access_token},
                           {"token_type", "Bearer"},
                           {"expires_in", t.expires_in},
                           {"refresh_token", t.refresh_token},
                           {"refresh_token_expires_in", t.refresh_expires_in},
                           {"scope", t.scope}};
  if (exchanged) body["issued_token_type"] = kAccessTokenType;
  auto res = http::json_response(beast_http::status::ok, body);
  res.set(beast_http::field::cache_control, "no-store");
  res.set(beast_http::field::pragma, "no-cache");
  return res;
}

HandlerResult token(App& app, RequestContext& ctx) {
  CO_TRY(params, read_params(ctx.request));
  auto grant_type = param(params, "grant_type");
  auto scope = param(params, "scope");
  if (!grant_type) co_return fail(oauth(400, "invalid_request", "grant_type is required."));
  if (*grant_type == "client_credentials" || *grant_type == "api_key_credentials") {
    auto [id, secret] = client_credentials(ctx, params);
    CO_TRY(issued, grant_api_key_credentials(app, id, secret, scope));
    co_return token_response(issued, false);
  }
  if (*grant_type == "refresh_token") {
    auto refresh = param(params, "refresh_token");
    if (!refresh) co_return fail(oauth(400, "invalid_request", "refresh_token is required."));
    auto [id, secret] = client_credentials(ctx, params);
    CO_TRY(issued, grant_refresh_token(app, *refresh, scope, id, secret));
    co_return token_response(issued, false);
  }
  if (*grant_type == kTokenExchange) {
    auto subject_token = param(params, "subject_token");
    if (!subject_token) co_return fail(oauth(400, "invalid_request", "subject_token is required."));
    auto type = param(params, "subject_token_type");
    if (type && *type != kAccessTokenType && *type != "urn:tessera:token-type:session")
      co_return fail(oauth(400, "invalid_request", "subject_token_type must be a Tessera session token."));
    auto live = app.sessions().authenticate(*subject_token);
    if (!live) co_return fail(oauth(400, "invalid_grant", "The subject token is not a valid session."));
    const auto& s = (*live)->row;
    auto user = app.users().get(s.project_id, s.user_id);
    if (!user || !user->active) co_return fail(oauth(400, "invalid_grant", "The session's user cannot act."));
    session::GrantSubject subject{session::SubjectKind::user, user->id, user->project_id,
                                  app.roles().permissions_of(user->project_id, user->id)};
    CO_TRY(issued, app.tokens().grant(subject, scope));
    co_return token_response(issued, true);
  }
  co_return fail(oauth(400, "unsupported_grant_type", "grant_type must be client_credentials, refresh_token or " +
                                                         std::string(kTokenExchange) + "."));
}

// Introspection and revocation are for back-end servers: an API key, by HTTP Basic or its access token.
Result<std::shared_ptr<const session::ApiKey>> api_key_caller(App& app, const RequestContext& ctx, const Params& params) {
  std::string_view authorization = ctx.header(beast_http::field::authorization);
  if (authorization.size() > 7 && boost::beast::iequals(authorization.substr(0, 7), "Bearer ")) {
    auto caller = authenticate(app, ctx);
    if (!caller) return fail(caller.error());
    if (!caller->api_key) return fail(Error::forbidden("api_key_required", "Only API keys may introspect or revoke tokens."));
    return caller->api_key;
  }
  auto [id, secret] = client_credentials(ctx, params);
  return app.api_keys().authenticate(id, secret);
}

// RFC 7662. A token is active when a request presenting it would be served now: its subject (user or
// key) must still be able to act, and it must belong to the introspecting key's project.
boost::json::object introspection(App& app, const std::string& project_id, std::string_view token) {
  auto seconds = [](Timestamp t) { return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count(); };
  if (token.starts_with(crypto::kRefreshTokenPrefix)) {
    auto rt = app.tokens().find_refresh(token);
    if (!rt || rt->project_id != project_id || !current_subject(app, *rt)) return {{"active", false}};
    return {{"active", true}, {"token_type", "refresh_token"}, {"scope", rt->scope.scope()}, {"sub", rt->subject_id},
            {"exp", seconds(rt->expires_at)}, {"iat", seconds(rt->created_at)}, {"project", rt->project_id}};
  }
  auto caller = resolve_token(app, token);
  if (!caller || caller->project->id != project_id) return {{"active", false}};
  boost::json::object out{{"active", true}, {"scope", caller->permissions.scope()}, {"project", project_id}};
  if (caller->session) {
    out["token_type"] = "session";
    out["sub"] = caller->user->id;
    out["exp"] = seconds(from_micros(caller->session->idle_expires_at_us.load()));
    out["iat"] = seconds(caller->session->row.created_at);
  } else if (caller->personal_token) {
    out["token_type"] = "personal_access_token";
    out["sub"] = caller->user->id;
    out["exp"] = seconds(caller->personal_token->expires_at);
    out["iat"] = seconds(caller->personal_token->created_at);
  } else {
    const auto& t = *caller->access_token;
    out["token_type"] = "access_token";
    out["sub"] = t.subject;
    out["exp"] = seconds(t.expires_at);
    out["iat"] = seconds(t.issued_at);
    out["jti"] = t.jti;
    out["iss"] = app.tokens().issuer();
    out["aud"] = app.tokens().audience();
    if (t.kind == session::SubjectKind::api_key) out["client_id"] = t.subject;
  }
  return out;
}

HandlerResult introspect(App& app, RequestContext& ctx) {
  CO_TRY(params, read_params(ctx.request));
  CO_TRY(key, api_key_caller(app, ctx, params));
  auto res = http::json_response(beast_http::status::ok, introspection(app, key->project_id, param(params, "token").value_or("")));
  res.set(beast_http::field::cache_control, "no-store");
  co_return res;
}

HandlerResult revoke(App& app, RequestContext& ctx) {
  CO_TRY(params, read_params(ctx.request));
  CO_TRY(key, api_key_caller(app, ctx, params));
  auto token = param(params, "token");
  if (!token) co_return fail(oauth(400, "invalid_request", "token is required."));
  app.tokens().revoke(key->project_id, *token);  // RFC 7009: the same answer whatever the token was
  co_return http::empty_response(beast_http::status::ok);
}

std::string base_url(App& app, const RequestContext& ctx) {
  if (!app.config().server.public_url.empty()) return app.config().server.public_url;
  return "http://" + std::string(ctx.header(beast_http::field::host));
}

HandlerResult jwks(App& app, RequestContext&) {
  auto res = http::json_response(beast_http::status::ok, app.key_ring().jwks());
  res.set(beast_http::field::cache_control, "public, max-age=300");
  co_return res;
}

HandlerResult openid_configuration(App& app, RequestContext& ctx) {
  std::string base = base_url(app, ctx);
  boost::json::object doc{
      {"issuer", app.tokens().issuer()},
      {"jwks_uri", base + "/.well-known/jwks.json"},
      {"token_endpoint", base + "/v1/token"},
      {"introspection_endpoint", base + "/v1/token/introspect"},
      {"revocation_endpoint", base + "/v1/token/revoke"},
      {"grant_types_supported", boost::json::array{"client_credentials", "refresh_token", kTokenExchange}},
      {"token_endpoint_auth_methods_supported", boost::json::array{"client_secret_basic", "client_secret_post"}},
      {"id_token_signing_alg_values_supported", boost::json::array{"ES256"}},
      {"response_types_supported", boost::json::array{"token"}},
      {"subject_types_supported", boost::json::array{"public"}},
      {"scopes_supported", boost::json::array{"users:read", "users:write", "users:delete", "apikeys:manage", "roles:manage",
                                              "contexts:read", "contexts:write", "licenses:read", "licenses:write",
                                              "webhooks:manage", "projects:manage", "*"}},
  };
  co_return http::json_response(beast_http::status::ok, doc);
}

}  // namespace

void register_token_routes(http::Router& router, App& app) {
  using beast_http::verb;
  // A client_credentials grant needs no store call once the key is cached (RouteOptions::inline_first).
  router.add(verb::post, "/v1/token", [&app](RequestContext& ctx) { return token(app, ctx); }, {.inline_first = true});
  router.add(verb::post, "/v1/token/introspect", [&app](RequestContext& ctx) { return introspect(app, ctx); });
  router.add(verb::post, "/v1/token/revoke", [&app](RequestContext& ctx) { return revoke(app, ctx); });
  router.add(verb::get, "/.well-known/jwks.json", [&app](RequestContext& ctx) { return jwks(app, ctx); },
             {.inline_first = true});
  router.add(verb::get, "/.well-known/openid-configuration",
             [&app](RequestContext& ctx) { return openid_configuration(app, ctx); }, {.inline_first = true});
}

}  // namespace tessera::api
