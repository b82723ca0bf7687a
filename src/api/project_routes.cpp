// GET /v1/project, PATCH /v1/project: the caller's project and its settings (projects:manage).
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

constexpr std::string_view kPermission = "projects:manage";

// {"password_reset": {subject, text, html} | null, ...}
void read_templates(const boost::json::value& value, projects::ProjectSettings& out, std::vector<FieldError>& errors) {
  if (!value.is_object()) return errors.push_back({"mail_templates", "type", "must be an object"});
  for (auto& [name, t] : value.as_object()) {
    std::string field = "mail_templates." + std::string(name);
    if (t.is_null()) {
      out.mail_templates[name] = std::nullopt;
      continue;
    }
    const auto* o = t.if_object();
    projects::MailTemplate parsed;
    bool ok = o != nullptr;
    for (auto& [key, part] : ok ? *o : boost::json::object()) {
      std::string* target = key == "subject" ? &parsed.subject : key == "text" ? &parsed.text : key == "html" ? &parsed.html : nullptr;
      if (!target || !part.is_string()) ok = false;
      else *target = part.as_string();
    }
    if (!ok) errors.push_back({field, "type", "must be null or an object of strings subject, text and html"});
    else out.mail_templates[name] = parsed;
  }
}

HandlerResult get_project(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kPermission));
  co_return http::json_response(beast_http::status::ok, project_json(*caller.project));
}

HandlerResult patch_project(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kPermission));
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  projects::ProjectSettings in;
  in.name = f.string("name");
  in.public_url = f.nullable_string("public_url");
  in.mail_from = f.nullable_string("mail_from");
  in.redirect_allow_list = f.string_array("redirect_allow_list");
  std::vector<FieldError> errors;
  in.link_by_email = read_boolean(f, "link_by_email", errors);
  if (auto templates = f.any("mail_templates")) read_templates(*templates, in, errors);
  if (auto ok = f.finish(std::move(errors)); !ok) co_return fail(ok.error());
  CO_TRY(project, app.projects().update(caller.project->id, in));
  co_return http::json_response(beast_http::status::ok, project_json(project));
}

}  // namespace

void register_project_routes(http::Router& router, App& app) {
  using beast_http::verb;
  router.add(verb::get, "/v1/project", [&app](RequestContext& ctx) { return get_project(app, ctx); });
  router.add(verb::patch, "/v1/project", [&app](RequestContext& ctx) { return patch_project(app, ctx); });
}

}  // namespace tessera::api
