// /v1/providers: the project's identity providers (projects:manage). docs/external.md, "Admin API".
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

constexpr std::string_view kPermission = "projects:manage";

HandlerResult create_provider(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kPermission));
  CO_TRY(body, parse_json_object(ctx.request));
  CO_TRY(provider, app.providers().create(caller.project->id, body));
  co_return http::json_response(beast_http::status::created, provider_json(provider));
}

HandlerResult list_providers(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kPermission));
  boost::json::array items;
  for (auto& p : app.providers().list(caller.project->id)) items.push_back(provider_json(p));
  co_return http::json_response(beast_http::status::ok, boost::json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
}

HandlerResult get_provider(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kPermission));
  CO_TRY(provider, app.providers().get(caller.project->id, std::string(ctx.param("name"))));
  co_return http::json_response(beast_http::status::ok, provider_json(provider));
}

HandlerResult patch_provider(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kPermission));
  CO_TRY(body, parse_json_object(ctx.request));
  CO_TRY(provider, app.providers().update(caller.project->id, std::string(ctx.param("name")), body));
  co_return http::json_response(beast_http::status::ok, provider_json(provider));
}

HandlerResult delete_provider(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kPermission));
  if (auto ok = app.providers().remove(caller.project->id, std::string(ctx.param("name"))); !ok) co_return fail(ok.error());
  co_return http::empty_response(beast_http::status::no_content);
}

}  // namespace

void register_provider_routes(http::Router& router, App& app) {
  using beast_http::verb;
  router.add(verb::post, "/v1/providers", [&app](RequestContext& ctx) { return create_provider(app, ctx); });
  router.add(verb::get, "/v1/providers", [&app](RequestContext& ctx) { return list_providers(app, ctx); });
  router.add(verb::get, "/v1/providers/{name}", [&app](RequestContext& ctx) { return get_provider(app, ctx); });
  router.add(verb::patch, "/v1/providers/{name}", [&app](RequestContext& ctx) { return patch_provider(app, ctx); });
  router.add(verb::delete_, "/v1/providers/{name}", [&app](RequestContext& ctx) { return delete_provider(app, ctx); });
}

}  // namespace tessera::api
