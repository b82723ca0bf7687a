// /v1/roles (roles:manage) and a user's roles, /v1/users/{id}/roles.
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

Result<access::RoleInput> read_role(const http::Request& req, bool creating) {
  auto body = parse_json_object(req);
  if (!body) return fail(body.error());
  JsonFields f(*body);
  access::RoleInput in;
  in.name = f.string("name");
  in.description = f.string("description");
  in.permissions = f.string_array("permissions");
  if (creating) f.require("name", in.name.has_value());
  if (auto ok = f.finish(); !ok) return fail(ok.error());
  return in;
}

http::Response roles_response(const std::vector<access::Role>& roles) {
  boost::json::array items;
  for (const auto& r : roles) items.push_back(role_json(r));
  return http::json_response(beast_http::status::ok, boost::json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
}

HandlerResult create_role(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "roles:manage"));
  CO_TRY(in, read_role(ctx.request, true));
  CO_TRY(role, app.roles().create(caller.project->id, in, caller.grantor()));
  co_return http::json_response(beast_http::status::created, role_json(role));
}

HandlerResult list_roles(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "roles:manage"));
  co_return roles_response(app.roles().list(caller.project->id));
}

HandlerResult get_role(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "roles:manage"));
  CO_TRY(role, app.roles().get(caller.project->id, ctx.param("id")));
  co_return http::json_response(beast_http::status::ok, role_json(role));
}

HandlerResult update_role(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "roles:manage"));
  CO_TRY(in, read_role(ctx.request, false));
  CO_TRY(role, app.roles().update(caller.project->id, ctx.param("id"), in, caller.grantor()));
  co_return http::json_response(beast_http::status::ok, role_json(role));
}

HandlerResult delete_role(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "roles:manage"));
  if (auto ok = app.roles().remove(caller.project->id, ctx.param("id")); !ok) co_return fail(ok.error());
  co_return http::empty_response(beast_http::status::no_content);
}

Status user_exists(App& app, const Caller& caller, std::string_view user_id) {
  if (!app.users().get(caller.project->id, std::string(user_id)))
    return fail(Error::not_found("user_not_found", "No user has this id in the project."));
  return {};
}

HandlerResult get_user_roles(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "users:read"));
  std::string user_id(ctx.param("id"));
  if (auto ok = user_exists(app, caller, user_id); !ok) co_return fail(ok.error());
  co_return roles_response(app.roles().roles_of(caller.project->id, user_id));
}

HandlerResult set_user_roles(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "roles:manage"));
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  auto roles = f.string_array("roles");
  f.require("roles", roles.has_value());
  if (auto ok = f.finish(); !ok) co_return fail(ok.error());
  std::string user_id(ctx.param("id"));
  if (auto ok = user_exists(app, caller, user_id); !ok) co_return fail(ok.error());
  CO_TRY(result, app.roles().set_roles_of(caller.project->id, user_id, *roles, caller.grantor()));
  co_return roles_response(result);
}

}  // namespace

void register_role_routes(http::Router& router, App& app) {
  using beast_http::verb;
  router.add(verb::post, "/v1/roles", [&app](RequestContext& ctx) { return create_role(app, ctx); });
  router.add(verb::get, "/v1/roles", [&app](RequestContext& ctx) { return list_roles(app, ctx); });
  router.add(verb::get, "/v1/roles/{id}", [&app](RequestContext& ctx) { return get_role(app, ctx); });
  router.add(verb::patch, "/v1/roles/{id}", [&app](RequestContext& ctx) { return update_role(app, ctx); });
  router.add(verb::delete_, "/v1/roles/{id}", [&app](RequestContext& ctx) { return delete_role(app, ctx); });
  router.add(verb::get, "/v1/users/{id}/roles", [&app](RequestContext& ctx) { return get_user_roles(app, ctx); });
  router.add(verb::put, "/v1/users/{id}/roles", [&app](RequestContext& ctx) { return set_user_roles(app, ctx); });
}

}  // namespace tessera::api
