// /v1/webhooks: signed event deliveries to the project's endpoints (webhooks:manage).
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

constexpr std::string_view kPermission = "webhooks:manage";

Result<events::WebhookInput> read_webhook(const boost::json::object& body) {
  JsonFields f(body);
  events::WebhookInput in;
  in.url = f.string("url");
  in.events = f.string_array("events");
  in.description = f.string("description");
  std::vector<FieldError> errors;
  in.active = read_boolean(f, "active", errors);
  if (auto ok = f.finish(std::move(errors)); !ok) return fail(ok.error());
  return in;
}

// The only answers that show the secret.
boost::json::object issued_json(const events::IssuedWebhook& issued) {
  auto json = webhook_json(issued.webhook);
  json["secret"] = issued.secret;
  return json;
}

HandlerResult create_webhook(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kPermission));
  CO_TRY(body, parse_json_object(ctx.request));
  CO_TRY(in, read_webhook(body));
  CO_TRY(issued, app.webhooks().create(caller.project->id, in));
  co_return http::json_response(beast_http::status::created, issued_json(issued));
}

HandlerResult list_webhooks(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kPermission));
  CO_TRY(page, parse_page(ctx));
  auto rows = app.webhooks().list(caller.project->id, page.limit + 1, page.after);
  co_return page_response(std::move(rows), page.limit, webhook_json, [](const events::Webhook& w) { return w.id; });
}

HandlerResult get_webhook(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kPermission));
  CO_TRY(webhook, app.webhooks().get(caller.project->id, std::string(ctx.param("id"))));
  co_return http::json_response(beast_http::status::ok, webhook_json(webhook));
}

HandlerResult patch_webhook(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kPermission));
  CO_TRY(body, parse_json_object(ctx.request));
  CO_TRY(in, read_webhook(body));
  CO_TRY(webhook, app.webhooks().update(caller.project->id, std::string(ctx.param("id")), in));
  co_return http::json_response(beast_http::status::ok, webhook_json(webhook));
}

HandlerResult delete_webhook(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kPermission));
  if (auto ok = app.webhooks().remove(caller.project->id, std::string(ctx.param("id"))); !ok) co_return fail(ok.error());
  co_return http::empty_response(beast_http::status::no_content);
}

HandlerResult rotate_secret(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kPermission));
  CO_TRY(issued, app.webhooks().rotate_secret(caller.project->id, std::string(ctx.param("id"))));
  co_return http::json_response(beast_http::status::ok, issued_json(issued));
}

HandlerResult list_deliveries(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kPermission));
  CO_TRY(page, parse_page(ctx));
  std::optional<events::DeliveryStatus> status;
  if (auto text = query_param(ctx, "status")) {
    status = events::delivery_status_from(*text);
    if (!status) co_return fail(Error::validation({{"status", "invalid", "must be pending, delivered or failed"}}));
  }
  CO_TRY(rows, app.webhooks().deliveries(caller.project->id, std::string(ctx.param("id")), status, page.limit + 1, page.after));
  co_return page_response(std::move(rows), page.limit, delivery_json, [](const events::Delivery& d) { return d.id; });
}

}  // namespace

void register_webhook_routes(http::Router& router, App& app) {
  using beast_http::verb;
  router.add(verb::post, "/v1/webhooks", [&app](RequestContext& ctx) { return create_webhook(app, ctx); });
  router.add(verb::get, "/v1/webhooks", [&app](RequestContext& ctx) { return list_webhooks(app, ctx); });
  router.add(verb::get, "/v1/webhooks/{id}", [&app](RequestContext& ctx) { return get_webhook(app, ctx); });
  router.add(verb::patch, "/v1/webhooks/{id}", [&app](RequestContext& ctx) { return patch_webhook(app, ctx); });
  router.add(verb::delete_, "/v1/webhooks/{id}", [&app](RequestContext& ctx) { return delete_webhook(app, ctx); });
  router.add(verb::post, "/v1/webhooks/{id}/rotate-secret", [&app](RequestContext& ctx) { return rotate_secret(app, ctx); });
  router.add(verb::get, "/v1/webhooks/{id}/deliveries", [&app](RequestContext& ctx) { return list_deliveries(app, ctx); });
}

}  // namespace tessera::api
