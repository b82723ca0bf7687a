// /v1/api-keys: API keys for back-end servers (apikeys:manage).
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

HandlerResult create_key(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "apikeys:manage"));
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  session::NewApiKey in;
  in.name = f.string("name").value_or("");
  auto permissions = f.string_array("permissions");
  f.require("permissions", permissions.has_value());
  auto expires_at = f.string("expires_at");
  if (auto ok = f.finish(); !ok) co_return fail(ok.error());
  CO_TRY(expiry, optional_time_field(expires_at, "expires_at"));
  in.permissions = *permissions;
  in.expires_at = expiry;
  CO_TRY(issued, app.api_keys().create(caller.project->id, in, &caller.grantor()));
  auto json = api_key_json(issued.key);
  json["secret"] = issued.secret;
  co_return http::json_response(beast_http::status::created, json);
}

HandlerResult list_keys(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "apikeys:manage"));
  CO_TRY(page, parse_page(ctx));
  auto rows = app.api_keys().list(caller.project->id, page.limit + 1, page.after);
  co_return page_response(std::move(rows), page.limit, api_key_json, [](const session::ApiKey& k) { return k.id; });
}

HandlerResult get_key(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "apikeys:manage"));
  CO_TRY(key, app.api_keys().get(caller.project->id, std::string(ctx.param("id"))));
  co_return http::json_response(beast_http::status::ok, api_key_json(key));
}

HandlerResult delete_key(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, "apikeys:manage"));
  if (auto ok = app.api_keys().revoke(caller.project->id, std::string(ctx.param("id"))); !ok) co_return fail(ok.error());
  co_return http::empty_response(beast_http::status::no_content);
}

}  // namespace

void register_api_key_routes(http::Router& router, App& app) {
  using beast_http::verb;
  router.add(verb::post, "/v1/api-keys", [&app](RequestContext& ctx) { return create_key(app, ctx); });
  router.add(verb::get, "/v1/api-keys", [&app](RequestContext& ctx) { return list_keys(app, ctx); });
  router.add(verb::get, "/v1/api-keys/{id}", [&app](RequestContext& ctx) { return get_key(app, ctx); });
  router.add(verb::delete_, "/v1/api-keys/{id}", [&app](RequestContext& ctx) { return delete_key(app, ctx); });
}

}  // namespace tessera::api
