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
  CO_TRY(caller, authenticate(app, ctx));
  co_return http::json_response(beast_http::status::ok, user_json(*caller.user));
}

HandlerResult patch_me(App& app, RequestContext& ctx) {
  CO_TRY(caller, authenticate(app, ctx));
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
  CO_TRY(caller, authenticate(app, ctx));
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
  CO_TRY(caller, authenticate(app, ctx));
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
  CO_TRY(caller, authenticate(app, ctx));
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
  CO_TRY(caller, authenticate(app, ctx));
  std::string id(ctx.param("id"));
  if (auto ok = app.sessions().revoke(caller.session->row.user_id, id); !ok) co_return fail(ok.error());
  auto res = http::empty_response(beast_http::status::no_content);
  if (id == caller.session->row.id) clear_session_cookies(res, app.secure_cookies());  // revoking oneself is a logout
  co_return res;
}

}  // namespace

void register_me_routes(http::Router& router, App& app) {
  using beast_http::verb;
  router.add(verb::get, "/v1/me", [&app](RequestContext& ctx) { return get_me(app, ctx); });
  router.add(verb::patch, "/v1/me", [&app](RequestContext& ctx) { return patch_me(app, ctx); });
  router.add(verb::delete_, "/v1/me", [&app](RequestContext& ctx) { return delete_me(app, ctx); });
  router.add(verb::post, "/v1/me/password", [&app](RequestContext& ctx) { return change_password(app, ctx); });
  router.add(verb::get, "/v1/sessions", [&app](RequestContext& ctx) { return list_sessions(app, ctx); });
  router.add(verb::delete_, "/v1/sessions/{id}", [&app](RequestContext& ctx) { return revoke_session(app, ctx); });
}

}  // namespace tessera::api
