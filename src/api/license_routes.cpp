// /v1/licenses (licenses:write / licenses:read), /v1/me/licenses, and activation by key
// (docs/licenses.md).
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

constexpr std::string_view kRead = "licenses:read";
constexpr std::string_view kWrite = "licenses:write";

Result<licenses::LicenseInput> read_license(const boost::json::object& body, bool create) {
  JsonFields f(body);
  licenses::LicenseInput in;
  std::vector<FieldError> errors;
  in.product = f.string("product");
  if (create) f.require("product", in.product.has_value());
  in.user_id = f.nullable_string("user_id");
  auto expires_at = f.nullable_string("expires_at");
  if (expires_at && *expires_at) {
    Timestamp t;
    if (!parse_rfc3339(**expires_at, t)) errors.push_back({"expires_at", "format", "must be an RFC 3339 time or null"});
    else in.expires_at = std::optional<Timestamp>(t);
  } else if (expires_at) {
    in.expires_at = std::optional<Timestamp>();
  }
  if (auto max = f.any("max_activations")) {
    if (!max->is_int64()) errors.push_back({"max_activations", "type", "must be a whole number"});
    else in.max_activations = max->as_int64();
  }
  in.suspended = read_boolean(f, "suspended", errors);
  in.metadata = f.object("metadata");
  for (auto& e : licenses::check_license_input(in)) errors.push_back(std::move(e));
  if (auto ok = f.finish(std::move(errors)); !ok) return fail(ok.error());
  return in;
}

HandlerResult create_license(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kWrite));
  CO_TRY(body, parse_json_object(ctx.request));
  CO_TRY(in, read_license(body, true));
  CO_TRY(license, app.licenses().create(caller.project->id, in));
  co_return http::json_response(beast_http::status::created, license_json(license));
}

HandlerResult list_licenses(App& app, RequestContext& ctx, std::string_view permission) {
  CO_TRY(caller, permission.empty() ? authenticate_user(app, ctx) : authorize(app, ctx, permission));
  CO_TRY(page, parse_page(ctx));
  licenses::LicenseFilter filter;
  if (permission.empty()) {
    filter.user_id = caller.user->id;  // GET /v1/me/licenses
  } else {
    filter.user_id = query_param(ctx, "user_id");
    filter.product = query_param(ctx, "product");
    if (auto suspended = query_param(ctx, "suspended")) {
      if (*suspended != "true" && *suspended != "false")
        co_return fail(Error::validation({{"suspended", "type", "must be true or false"}}));
      filter.suspended = *suspended == "true";
    }
  }
  auto rows = app.licenses().list(caller.project->id, filter, page.limit + 1, page.after);
  co_return page_response(std::move(rows), page.limit, license_json, [](const licenses::License& l) { return l.id; });
}

HandlerResult get_license(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kRead));
  CO_TRY(license, app.licenses().get(caller.project->id, std::string(ctx.param("id"))));
  co_return http::json_response(beast_http::status::ok, license_json(license));
}

HandlerResult patch_license(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kWrite));
  CO_TRY(body, parse_json_object(ctx.request));
  CO_TRY(in, read_license(body, false));
  CO_TRY(license, app.licenses().update(caller.project->id, std::string(ctx.param("id")), in));
  co_return http::json_response(beast_http::status::ok, license_json(license));
}

HandlerResult delete_license(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kWrite));
  if (auto ok = app.licenses().remove(caller.project->id, std::string(ctx.param("id"))); !ok) co_return fail(ok.error());
  co_return http::empty_response(beast_http::status::no_content);
}

HandlerResult list_activations(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kRead));
  CO_TRY(rows, app.licenses().activations(caller.project->id, std::string(ctx.param("id"))));
  boost::json::array items;
  for (auto& a : rows) items.push_back(activation_json(a));
  co_return http::json_response(beast_http::status::ok, boost::json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
}

// {key, fingerprint, hostname?} of an activation or a deactivation.
Result<licenses::ActivationRequest> read_activation(const boost::json::object& body, bool with_hostname) {
  JsonFields f(body);
  f.allow("project");
  licenses::ActivationRequest in;
  auto key = f.string("key");
  auto fingerprint = f.string("fingerprint");
  if (with_hostname) in.hostname = f.string("hostname");
  f.require("key", key.has_value());
  f.require("fingerprint", fingerprint.has_value());
  std::vector<FieldError> errors;
  auto printable = [](const std::string& s) { return std::ranges::all_of(s, [](unsigned char c) { return c >= 0x20 && c != 0x7f; }); };
  if (fingerprint && (fingerprint->empty() || fingerprint->size() > 256 || !printable(*fingerprint)))
    errors.push_back({"fingerprint", "format", "must be 1 to 256 printable characters"});
  if (in.hostname && (in.hostname->size() > 256 || !printable(*in.hostname)))
    errors.push_back({"hostname", "format", "must be at most 256 printable characters"});
  if (key && key->size() > 128) errors.push_back({"key", "too_long", "must be at most 128 characters"});
  if (auto ok = f.finish(std::move(errors)); !ok) return fail(ok.error());
  in.key = *key;
  in.fingerprint = *fingerprint;
  return in;
}

HandlerResult activate(App& app, RequestContext& ctx) {
  CO_TRY(body, parse_json_object(ctx.request));
  CO_TRY(in, read_activation(body, true));
  CO_TRY(project, resolve_project(app, ctx, body));
  CO_TRY(issued, app.licenses().activate(project->id, in));
  auto license = licenses::to_json(issued.license);
  co_return http::json_response(beast_http::status::ok, boost::json::object{{"activation_id", issued.activation.id},
                                                                            {"token", issued.token},
                                                                            {"expires_at", format_rfc3339(issued.expires_at)},
                                                                            {"license", std::move(license)}});
}

HandlerResult deactivate(App& app, RequestContext& ctx) {
  CO_TRY(body, parse_json_object(ctx.request));
  CO_TRY(in, read_activation(body, false));
  CO_TRY(project, resolve_project(app, ctx, body));
  if (auto ok = app.licenses().deactivate(project->id, in.key, in.fingerprint); !ok) co_return fail(ok.error());
  co_return http::empty_response(beast_http::status::no_content);
}

}  // namespace

void register_license_routes(http::Router& router, App& app) {
  using beast_http::verb;
  router.add(verb::post, "/v1/licenses", [&app](RequestContext& ctx) { return create_license(app, ctx); });
  router.add(verb::get, "/v1/licenses", [&app](RequestContext& ctx) { return list_licenses(app, ctx, kRead); });
  router.add(verb::get, "/v1/licenses/{id}", [&app](RequestContext& ctx) { return get_license(app, ctx); });
  router.add(verb::patch, "/v1/licenses/{id}", [&app](RequestContext& ctx) { return patch_license(app, ctx); });
  router.add(verb::delete_, "/v1/licenses/{id}", [&app](RequestContext& ctx) { return delete_license(app, ctx); });
  router.add(verb::get, "/v1/licenses/{id}/activations", [&app](RequestContext& ctx) { return list_activations(app, ctx); });
  router.add(verb::get, "/v1/me/licenses", [&app](RequestContext& ctx) { return list_licenses(app, ctx, ""); });
  router.add(verb::post, "/v1/licenses/activate", [&app](RequestContext& ctx) { return activate(app, ctx); });
  router.add(verb::post, "/v1/licenses/deactivate", [&app](RequestContext& ctx) { return deactivate(app, ctx); });
}

}  // namespace tessera::api
