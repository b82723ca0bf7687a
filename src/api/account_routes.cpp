// POST /v1/auth/password-reset, /password-reset/confirm, /verify-email, /verify-email/confirm
#include "api/app.hpp"
#include "api/caller.hpp"
#include "api/handler.hpp"
#include "api/json_body.hpp"
#include "api/representations.hpp"
#include "api/routes.hpp"

namespace tessera::api {

namespace beast_http = http::beast_http;
using http::HandlerResult;
using http::RequestContext;

namespace {

HandlerResult request_password_reset(App& app, RequestContext& ctx) {
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  f.allow("project");
  auto email = f.string("email");
  f.require("email", email.has_value());
  if (auto ok = f.finish(); !ok) co_return fail(ok.error());
  CO_TRY(project, resolve_project(app, ctx, body));
  if (auto ok = app.email_tokens().request_password_reset(*project, *email, ctx.client_ip); !ok) co_return fail(ok.error());
  co_return http::empty_response(beast_http::status::accepted);
}

HandlerResult confirm_password_reset(App& app, RequestContext& ctx) {
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  auto token = f.string("token");
  auto password = f.string("new_password");
  f.require("token", token.has_value());
  f.require("new_password", password.has_value());
  if (auto ok = f.finish(); !ok) co_return fail(ok.error());
  auto done = co_await app.hashing([&] { return app.email_tokens().confirm_password_reset(*token, *password); });
  if (!done) co_return fail(done.error());
  co_return http::empty_response(beast_http::status::no_content);
}

HandlerResult request_verification(App& app, RequestContext& ctx) {
  CO_TRY(caller, authenticate_user(app, ctx));
  CO_TRY(body, parse_json_object(ctx.request));
  if (auto ok = JsonFields(body).finish(); !ok) co_return fail(ok.error());
  if (auto ok = app.email_tokens().request_email_verification(*caller.user); !ok) co_return fail(ok.error());
  co_return http::empty_response(beast_http::status::accepted);
}

HandlerResult confirm_verification(App& app, RequestContext& ctx) {
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  auto token = f.string("token");
  f.require("token", token.has_value());
  if (auto ok = f.finish(); !ok) co_return fail(ok.error());
  CO_TRY(user, app.email_tokens().confirm_email(*token));
  co_return http::json_response(beast_http::status::ok, boost::json::object{{"user", user_json(user)}});
}

}  // namespace

void register_account_routes(http::Router& router, App& app) {
  using beast_http::verb;
  router.add(verb::post, "/v1/auth/password-reset", [&app](RequestContext& ctx) { return request_password_reset(app, ctx); });
  router.add(verb::post, "/v1/auth/password-reset/confirm",
             [&app](RequestContext& ctx) { return confirm_password_reset(app, ctx); });
  router.add(verb::post, "/v1/auth/verify-email", [&app](RequestContext& ctx) { return request_verification(app, ctx); });
  router.add(verb::post, "/v1/auth/verify-email/confirm", [&app](RequestContext& ctx) { return confirm_verification(app, ctx); });
}

}  // namespace tessera::api
