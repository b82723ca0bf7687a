// POST /v1/auth/signup, /login, /guest, /logout
#include "api/app.hpp"
#include "api/caller.hpp"
#include "api/handler.hpp"
#include "api/json_body.hpp"
#include "api/representations.hpp"
#include "api/routes.hpp"
#include "api/user_commands.hpp"
#include "events/outbox.hpp"

namespace tessera::api {

namespace beast_http = http::beast_http;
using http::HandlerResult;
using http::RequestContext;

namespace {

HandlerResult sign_up(App& app, RequestContext& ctx) {
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  f.allow("project");
  identity::SignUp in = read_sign_up(f);
  // The domain's rules run here too, so one answer names every offending field and a malformed
  // request never waits for (or occupies) the hashing pool.
  if (auto ok = f.finish(identity::validate_sign_up(in)); !ok) co_return fail(ok.error());
  CO_TRY(project, resolve_project(app, ctx, body));
  auto user = co_await app.hashing([&] { return app.users().sign_up(*project, in); });
  if (!user) co_return fail(user.error());
  auto issued = app.sessions().issue(*project, user->id, client_info(ctx));
  co_return signed_in_response(beast_http::status::created, *user, issued, app.secure_cookies());
}

HandlerResult log_in(App& app, RequestContext& ctx) {
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  f.allow("project");
  auto email = f.string("email");
  auto login = f.string("login");
  auto phone = f.string("phone");
  auto password = f.string("password");
  f.require("password", password.has_value());
  std::vector<FieldError> rule_errors;
  int given = email.has_value() + login.has_value() + phone.has_value();
  if (given != 1)
    rule_errors.push_back({"email", given ? "ambiguous" : "required", "give exactly one of email, login or phone"});
  if (auto ok = f.finish(std::move(rule_errors)); !ok) co_return fail(ok.error());
  CO_TRY(project, resolve_project(app, ctx, body));
  identity::PasswordLogin in;
  in.kind = email ? identity::IdentifierKind::email : login ? identity::IdentifierKind::login : identity::IdentifierKind::phone;
  in.identifier = email ? *email : login ? *login : *phone;
  in.password = *password;
  auto user = co_await app.hashing([&] { return app.users().log_in(*project, in, ctx.client_ip); });
  if (!user) {
    if (user.error().status != 503) app.logins_failed->fetch_add(1, std::memory_order_relaxed);
    co_return fail(user.error());
  }
  app.logins_ok->fetch_add(1, std::memory_order_relaxed);
  auto issued = app.sessions().issue(*project, user->id, client_info(ctx), [&](store::Repositories& r, const session::Session& s) {
    events::record(r, app.clock().now(), {"user.login", project->id, {{"user", identity::to_json(*user)}, {"session_id", s.id}, {"ip", s.ip}}});
  });
  co_return signed_in_response(beast_http::status::ok, *user, issued, app.secure_cookies());
}

HandlerResult guest(App& app, RequestContext& ctx) {
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  f.allow("project");
  if (auto ok = f.finish(); !ok) co_return fail(ok.error());
  CO_TRY(project, resolve_project(app, ctx, body));
  CO_TRY(user, app.users().create_guest(*project));
  auto issued = app.sessions().issue(*project, user.id, client_info(ctx));
  co_return signed_in_response(beast_http::status::created, user, issued, app.secure_cookies());
}

HandlerResult log_out(App& app, RequestContext& ctx) {
  CO_TRY(caller, authenticate_session(app, ctx));
  const auto& s = caller.session->row;
  if (auto ok = app.sessions().revoke(s.project_id, s.user_id, s.id, "logout"); !ok) co_return fail(ok.error());
  auto res = http::empty_response(beast_http::status::no_content);
  clear_session_cookies(res, app.secure_cookies());
  co_return res;
}

}  // namespace

void register_auth_routes(http::Router& router, App& app) {
  router.add(beast_http::verb::post, "/v1/auth/signup", [&app](RequestContext& ctx) { return sign_up(app, ctx); });
  router.add(beast_http::verb::post, "/v1/auth/login", [&app](RequestContext& ctx) { return log_in(app, ctx); });
  router.add(beast_http::verb::post, "/v1/auth/guest", [&app](RequestContext& ctx) { return guest(app, ctx); });
  router.add(beast_http::verb::post, "/v1/auth/logout", [&app](RequestContext& ctx) { return log_out(app, ctx); });
}

}  // namespace tessera::api
