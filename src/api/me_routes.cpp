// /v1/me, /v1/me/password, /v1/sessions
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

HandlerResult get_me(App& app, RequestContext& ctx) {
  CO_TRY(caller, authenticate_user(app, ctx));
  auto me = user_json(*caller.user);
  boost::json::array identities;
  for (auto& i : *app.external_login().identities(caller.user->id)) identities.push_back(identity_json(i));
  me["identities"] = std::move(identities);
  co_return http::json_response(beast_http::status::ok, me);
}

HandlerResult unlink_identity(App& app, RequestContext& ctx) {
  CO_TRY(caller, authenticate_session(app, ctx));
  if (auto ok = app.external_login().unlink(*caller.user, std::string(ctx.param("provider"))); !ok) co_return fail(ok.error());
  co_return http::empty_response(beast_http::status::no_content);
}

HandlerResult patch_me(App& app, RequestContext& ctx) {
  CO_TRY(caller, authenticate_session(app, ctx));
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  identity::ProfilePatch patch;
  patch.email = f.nullable_string("email");
  patch.login = f.nullable_string("login");
  patch.phone = f.nullable_string("phone");
  patch.full_name = f.nullable_string("full_name");
  patch.data = f.any("data");
  patch.password = f.string("password");
  patch.current_password = f.string("current_password");
  // Trusted attributes: set at sign-up or by administrators, not by the user afterwards.
  std::vector<FieldError> errors;
  for (const char* name : {"tags", "external_id", "active", "email_verified", "is_guest"})
    if (f.any(name)) errors.push_back({name, "read_only", "cannot be changed through /v1/me"});
  const identity::User& me = *caller.user;
  if (auto next = identity::apply_profile_patch(me, patch); !next)
    errors.insert(errors.end(), next.error().fields.begin(), next.error().fields.end());
  if (auto ok = f.finish(std::move(errors)); !ok) co_return fail(ok.error());
  auto updated = co_await app.hashing([&] { return app.users().update_profile(me, patch); });
  if (!updated) co_return fail(updated.error());
  co_return http::json_response(beast_http::status::ok, user_json(*updated));
}

HandlerResult delete_me(App& app, RequestContext& ctx) {
  CO_TRY(caller, authenticate_session(app, ctx));
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  auto password = f.string("password");
  if (auto ok = f.finish(); !ok) co_return fail(ok.error());
  const identity::User& me = *caller.user;
  auto deleted = co_await app.hashing([&] { return app.users().delete_self(me, password); });
  if (!deleted) co_return fail(deleted.error());
  auto res = http::empty_response(beast_http::status::no_content);
  clear_session_cookies(res, app.secure_cookies());
  co_return res;
}

HandlerResult change_password(App& app, RequestContext& ctx) {
  CO_TRY(caller, authenticate_session(app, ctx));
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  auto old_password = f.string("old_password");
  auto new_password = f.string("new_password");
  f.require("old_password", old_password.has_value());
  f.require("new_password", new_password.has_value());
  if (auto ok = f.finish(); !ok) co_return fail(ok.error());
  const identity::User& me = *caller.user;
  const std::string& session_id = caller.session->row.id;
  auto changed = co_await app.hashing(
      [&] { return app.users().change_password(me, session_id, *old_password, *new_password); });
  if (!changed) co_return fail(changed.error());
  co_return http::empty_response(beast_http::status::no_content);
}

HandlerResult list_sessions(App& app, RequestContext& ctx) {
  CO_TRY(caller, authenticate_session(app, ctx));
  CO_TRY(page, parse_page(ctx));
  const auto& current = caller.session->row;
  auto page_out = app.sessions().list(current.user_id, page.limit, page.after);
  boost::json::array items;
  for (auto& s : page_out.items) items.push_back(session_json(s, s.id == current.id));
  boost::json::value next = nullptr;
  if (page_out.next_before) next = encode_cursor(*page_out.next_before);
  co_return http::json_response(beast_http::status::ok, boost::json::object{{"items", std::move(items)}, {"next_cursor", next}});
}

HandlerResult revoke_session(App& app, RequestContext& ctx) {
  CO_TRY(caller, authenticate_session(app, ctx));
  std::string id(ctx.param("id"));
  if (auto ok = app.sessions().revoke(caller.project->id, caller.session->row.user_id, id, "revoked"); !ok) co_return fail(ok.error());
  auto res = http::empty_response(beast_http::status::no_content);
  if (id == caller.session->row.id) clear_session_cookies(res, app.secure_cookies());  // revoking oneself is a logout
  co_return res;
}

HandlerResult create_token(App& app, RequestContext& ctx) {
  CO_TRY(caller, authenticate_session(app, ctx));
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  session::NewPersonalToken in;
  in.name = f.string("name").value_or("");
  auto permissions = f.string_array("permissions");
  auto expires_at = f.string("expires_at");
  if (auto ok = f.finish(); !ok) co_return fail(ok.error());
  CO_TRY(expiry, optional_time_field(expires_at, "expires_at"));
  in.permissions = permissions.value_or(std::vector<std::string>{});
  in.expires_at = expiry;
  CO_TRY(issued, app.personal_tokens().create(caller.project->id, caller.user->id, in, caller.permissions));
  auto json = personal_token_json(issued.token);
  json["token"] = issued.secret;
  co_return http::json_response(beast_http::status::created, json);
}

HandlerResult list_tokens(App& app, RequestContext& ctx) {
  CO_TRY(caller, authenticate_session(app, ctx));
  CO_TRY(page, parse_page(ctx));
  auto rows = app.personal_tokens().list(caller.user->id, page.limit + 1, page.after);
  co_return page_response(std::move(rows), page.limit, personal_token_json, [](const session::PersonalToken& t) { return t.id; });
}

HandlerResult revoke_token(App& app, RequestContext& ctx) {
  CO_TRY(caller, authenticate_session(app, ctx));
  if (auto ok = app.personal_tokens().revoke(caller.user->id, std::string(ctx.param("id"))); !ok) co_return fail(ok.error());
  co_return http::empty_response(beast_http::status::no_content);
}

}  // namespace

void register_me_routes(http::Router& router, App& app) {
  using beast_http::verb;
  // Answered from caches, as most session checks are: first tried on the I/O thread (RouteOptions).
  router.add(verb::get, "/v1/me", [&app](RequestContext& ctx) { return get_me(app, ctx); }, {.inline_first = true});
  router.add(verb::patch, "/v1/me", [&app](RequestContext& ctx) { return patch_me(app, ctx); });
  router.add(verb::delete_, "/v1/me", [&app](RequestContext& ctx) { return delete_me(app, ctx); });
  router.add(verb::delete_, "/v1/me/identities/{provider}", [&app](RequestContext& ctx) { return unlink_identity(app, ctx); });
  router.add(verb::post, "/v1/me/password", [&app](RequestContext& ctx) { return change_password(app, ctx); });
  router.add(verb::post, "/v1/me/tokens", [&app](RequestContext& ctx) { return create_token(app, ctx); });
  router.add(verb::get, "/v1/me/tokens", [&app](RequestContext& ctx) { return list_tokens(app, ctx); });
  router.add(verb::delete_, "/v1/me/tokens/{id}", [&app](RequestContext& ctx) { return revoke_token(app, ctx); });
  router.add(verb::get, "/v1/sessions", [&app](RequestContext& ctx) { return list_sessions(app, ctx); });
  router.add(verb::delete_, "/v1/sessions/{id}", [&app](RequestContext& ctx) { return revoke_session(app, ctx); });
}

}  // namespace tessera::api
