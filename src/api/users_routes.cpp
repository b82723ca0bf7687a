// /v1/users: administration of a project's users (users:read, users:write, users:delete).
#include <boost/url/parse.hpp>

#include "api/app.hpp"
#include "api/caller.hpp"
#include "api/handler.hpp"
#include "api/json_body.hpp"
#include "api/representations.hpp"
#include "api/routes.hpp"
#include "api/user_commands.hpp"

namespace tessera::api {

namespace beast_http = http::beast_http;
using http::HandlerResult;
using http::RequestContext;

namespace {

HandlerResult create_user(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "users:write"));
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  std::vector<FieldError> errors;
  identity::NewUser in = read_new_user(f, errors);
  auto rules = app.user_admin().validate(in);
  errors.insert(errors.end(), rules.begin(), rules.end());
  if (auto ok = f.finish(std::move(errors)); !ok) co_return fail(ok.error());
  CO_TRY(user, co_await create_user_as(app, caller, in));
  co_return http::json_response(beast_http::status::created, user_json(user));
}

HandlerResult list_users(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "users:read"));
  std::string_view target = ctx.request.target();
  auto q = target.find('?');
  CO_TRY(query, identity::parse_user_query(q == std::string_view::npos ? std::string_view() : target.substr(q + 1)));
  const std::string& project_id = caller.project->id;
  CO_TRY(page, co_await app.querying([&] { return Result<identity::UserPage>(app.user_admin().list(project_id, query)); }));
  boost::json::array items;
  for (const auto& u : page.items) items.push_back(user_json(u));
  boost::json::value next = nullptr;
  if (page.next) next = identity::encode_cursor(*page.next);
  co_return http::json_response(beast_http::status::ok, boost::json::object{{"items", std::move(items)}, {"next_cursor", next}});
}

HandlerResult lookup_user(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "users:read"));
  auto url = boost::urls::parse_origin_form(ctx.request.target());
  std::vector<std::pair<std::string, std::string>> given;
  if (url)
    for (auto p : url->params())
      if (p.key == "email" || p.key == "login" || p.key == "phone" || p.key == "external_id") given.emplace_back(p.key, p.value);
  if (given.size() != 1)
    co_return fail(Error::validation({{"email", given.empty() ? "required" : "ambiguous",
                                       "give exactly one of email, login, phone or external_id"}}));
  CO_TRY(user, app.user_admin().lookup(caller.project->id, given[0].first, given[0].second));
  co_return http::json_response(beast_http::status::ok, user_json(user));
}

HandlerResult get_user(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "users:read"));
  CO_TRY(user, app.user_admin().get(caller.project->id, std::string(ctx.param("id"))));
  co_return http::json_response(beast_http::status::ok, user_json(user));
}

HandlerResult patch_user(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "users:write"));
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  std::vector<FieldError> errors;
  UserUpdate update = read_user_update(f, errors);
  if (auto ok = f.finish(std::move(errors)); !ok) co_return fail(ok.error());
  CO_TRY(user, update_user_as(app, caller, std::string(ctx.param("id")), update));
  co_return http::json_response(beast_http::status::ok, user_json(user));
}

HandlerResult delete_user(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "users:delete"));
  std::string id(ctx.param("id"));
  if (auto ok = app.user_admin().remove(caller.project->id, id); !ok) co_return fail(ok.error());
  co_return http::empty_response(beast_http::status::no_content);
}

Result<std::vector<identity::Condition>> read_where(JsonFields& f) {
  auto where = f.object("where");
  f.require("where", where.has_value());
  if (!where) return std::vector<identity::Condition>{};
  return identity::parse_user_filter(*where);
}

HandlerResult bulk_update(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "users:write"));
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  CO_TRY(where, read_where(f));
  auto set = f.object("set");
  f.require("set", set.has_value());
  if (auto ok = f.finish(); !ok) co_return fail(ok.error());
  JsonFields s(*set);
  identity::UserChanges changes;
  std::vector<FieldError> errors;
  changes.active = read_boolean(s, "active", errors);
  changes.email_verified = read_boolean(s, "email_verified", errors);
  changes.full_name = s.nullable_string("full_name");
  changes.external_id = s.nullable_string("external_id");
  changes.tags = s.string_array("tags");
  changes.data_patch = s.object("data");
  for (auto& e : errors) e.field = "set." + e.field;
  if (auto ok = s.finish(std::move(errors)); !ok) co_return fail(ok.error());
  const std::string& project_id = caller.project->id;
  CO_TRY(matched, co_await app.querying([&] { return app.user_admin().bulk_update(project_id, where, changes); }));
  co_return http::json_response(beast_http::status::ok, boost::json::object{{"matched", matched}});
}

HandlerResult bulk_delete(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "users:delete"));
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  CO_TRY(where, read_where(f));
  if (auto ok = f.finish(); !ok) co_return fail(ok.error());
  const std::string& project_id = caller.project->id;
  CO_TRY(matched, co_await app.querying([&] { return app.user_admin().bulk_delete(project_id, where); }));
  co_return http::json_response(beast_http::status::ok, boost::json::object{{"matched", matched}});
}

}  // namespace

void register_users_routes(http::Router& router, App& app) {
  using beast_http::verb;
  router.add(verb::post, "/v1/users", [&app](RequestContext& ctx) { return create_user(app, ctx); });
  router.add(verb::get, "/v1/users", [&app](RequestContext& ctx) { return list_users(app, ctx); });
  router.add(verb::get, "/v1/users/lookup", [&app](RequestContext& ctx) { return lookup_user(app, ctx); });
  router.add(verb::post, "/v1/users/bulk-update", [&app](RequestContext& ctx) { return bulk_update(app, ctx); });
  router.add(verb::post, "/v1/users/bulk-delete", [&app](RequestContext& ctx) { return bulk_delete(app, ctx); });
  router.add(verb::get, "/v1/users/{id}", [&app](RequestContext& ctx) { return get_user(app, ctx); });
  router.add(verb::patch, "/v1/users/{id}", [&app](RequestContext& ctx) { return patch_user(app, ctx); });
  router.add(verb::delete_, "/v1/users/{id}", [&app](RequestContext& ctx) { return delete_user(app, ctx); });
}

}  // namespace tessera::api
