// /v1/contexts: groups of users and their public keys (contexts:write / contexts:read, or a member for
// reading its own contexts), and the key login with those keys (/v1/auth/key-challenge, /key-login).
// docs/contexts.md.
#include "api/app.hpp"
#include "api/caller.hpp"
#include "api/handler.hpp"
#include "api/json_body.hpp"
#include "api/representations.hpp"
#include "api/routes.hpp"
#include "crypto/random.hpp"
#include "events/outbox.hpp"

namespace tessera::api {

namespace beast_http = http::beast_http;
using http::HandlerResult;
using http::RequestContext;

namespace {

constexpr std::string_view kRead = "contexts:read";
constexpr std::string_view kWrite = "contexts:write";

HandlerResult create_context(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kWrite));
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  auto name = f.string("name");
  auto description = f.string("description").value_or("");
  f.require("name", name.has_value());
  if (auto ok = f.finish(name ? contexts::check_context(*name, description) : std::vector<FieldError>{}); !ok)
    co_return fail(ok.error());
  CO_TRY(context, app.contexts().create(caller.project->id, *name, description));
  co_return http::json_response(beast_http::status::created, context_json(context));
}

HandlerResult list_contexts(App& app, RequestContext& ctx) {
  CO_TRY(reader, context_reader(app, ctx));
  CO_TRY(page, parse_page(ctx));
  auto rows = app.contexts().list(reader.project_id, reader.viewer, page.limit + 1, page.after);
  co_return page_response(std::move(rows), page.limit, context_json, [](const contexts::Context& c) { return c.id; });
}

HandlerResult get_context(App& app, RequestContext& ctx) {
  CO_TRY(reader, context_reader(app, ctx));
  CO_TRY(context, app.contexts().get(reader.project_id, std::string(ctx.param("id")), reader.viewer));
  co_return http::json_response(beast_http::status::ok, context_json(context));
}

HandlerResult delete_context(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kWrite));
  if (auto ok = app.contexts().remove(caller.project->id, std::string(ctx.param("id"))); !ok) co_return fail(ok.error());
  co_return http::empty_response(beast_http::status::no_content);
}

HandlerResult put_member(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kWrite));
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  auto public_key = f.string("public_key");
  auto key_type = f.string("key_type");
  f.require("public_key", public_key.has_value());
  f.require("key_type", key_type.has_value());
  contexts::MemberKey key{public_key.value_or(""), key_type.value_or("")};
  if (auto ok = f.finish(public_key && key_type ? contexts::check_member_key(key) : std::vector<FieldError>{}); !ok)
    co_return fail(ok.error());
  CO_TRY(put, app.contexts().put_member(caller.project->id, std::string(ctx.param("id")), std::string(ctx.param("user_id")), key));
  co_return http::json_response(put.second ? beast_http::status::created : beast_http::status::ok, member_json(put.first));
}

HandlerResult delete_member(App& app, RequestContext& ctx) {
  CO_TRY(caller, authorize(app, ctx, kWrite));
  if (auto ok = app.contexts().remove_member(caller.project->id, std::string(ctx.param("id")), std::string(ctx.param("user_id")));
      !ok)
    co_return fail(ok.error());
  co_return http::empty_response(beast_http::status::no_content);
}

HandlerResult list_members(App& app, RequestContext& ctx) {
  CO_TRY(reader, context_reader(app, ctx));
  CO_TRY(page, parse_page(ctx));
  CO_TRY(rows, app.contexts().members(reader.project_id, std::string(ctx.param("id")), reader.viewer, page.limit + 1, page.after));
  co_return page_response(std::move(rows), page.limit, member_json, contexts::member_position);
}

HandlerResult key_challenge(App& app, RequestContext& ctx) {
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  f.allow("project");
  contexts::ChallengeRequest in;
  in.user_id = f.string("user_id");
  in.email = f.string("email");
  in.login = f.string("login");
  in.context_id = f.string("context_id");
  std::vector<FieldError> errors;
  int given = in.user_id.has_value() + in.email.has_value() + in.login.has_value();
  if (given != 1) errors.push_back({"user_id", given ? "ambiguous" : "required", "give exactly one of user_id, email or login"});
  if (auto ok = f.finish(std::move(errors)); !ok) co_return fail(ok.error());
  CO_TRY(project, resolve_project(app, ctx, body));
  auto issued = app.key_login().challenge(*project, in);
  co_return http::json_response(beast_http::status::ok, boost::json::object{{"challenge_id", issued.id},
                                                                            {"nonce", issued.nonce},
                                                                            {"message", crypto::base64url_encode(issued.message)},
                                                                            {"expires_at", format_rfc3339(issued.expires_at)}});
}

HandlerResult key_login(App& app, RequestContext& ctx) {
  CO_TRY(body, parse_json_object(ctx.request));
  JsonFields f(body);
  f.allow("project");
  auto challenge_id = f.string("challenge_id");
  auto signature = f.string("signature");
  f.require("challenge_id", challenge_id.has_value());
  f.require("signature", signature.has_value());
  std::string signature_bytes;
  std::vector<FieldError> errors;
  if (signature && (signature->size() > 1024 || !crypto::base64url_decode(*signature, signature_bytes)))
    errors.push_back({"signature", "format", "must be the signature in unpadded base64url"});
  if (auto ok = f.finish(std::move(errors)); !ok) co_return fail(ok.error());
  CO_TRY(project, resolve_project(app, ctx, body));
  CO_TRY(user, app.key_login().log_in(*project, *challenge_id, signature_bytes));
  auto issued = app.sessions().issue(*project, user.id, client_info(ctx), [&](store::Repositories& r, const session::Session& s) {
    events::record(r, app.clock().now(), {"user.login", project->id, {{"user", identity::to_json(user)}, {"session_id", s.id},
                                                                       {"ip", s.ip}, {"method", "key"}}});
  });
  co_return signed_in_response(beast_http::status::ok, user, issued, app.secure_cookies());
}

}  // namespace

Result<ContextReader> context_reader(App& app, const http::RequestContext& ctx) {
  auto caller = authenticate(app, ctx);
  if (!caller) return fail(caller.error());
  auto allowed = caller->require(kRead);
  if (allowed) return ContextReader{caller->project->id, std::nullopt};
  if (caller->user) return ContextReader{caller->project->id, caller->user->id};  // a member reads its own contexts
  return fail(allowed.error());
}

void register_context_routes(http::Router& router, App& app) {
  using beast_http::verb;
  router.add(verb::post, "/v1/contexts", [&app](RequestContext& ctx) { return create_context(app, ctx); });
  router.add(verb::get, "/v1/contexts", [&app](RequestContext& ctx) { return list_contexts(app, ctx); });
  router.add(verb::get, "/v1/contexts/{id}", [&app](RequestContext& ctx) { return get_context(app, ctx); });
  router.add(verb::delete_, "/v1/contexts/{id}", [&app](RequestContext& ctx) { return delete_context(app, ctx); });
  router.add(verb::put, "/v1/contexts/{id}/users/{user_id}", [&app](RequestContext& ctx) { return put_member(app, ctx); });
  router.add(verb::delete_, "/v1/contexts/{id}/users/{user_id}", [&app](RequestContext& ctx) { return delete_member(app, ctx); });
  router.add(verb::get, "/v1/contexts/{id}/users", [&app](RequestContext& ctx) { return list_members(app, ctx); });
  router.add(verb::post, "/v1/auth/key-challenge", [&app](RequestContext& ctx) { return key_challenge(app, ctx); });
  router.add(verb::post, "/v1/auth/key-login", [&app](RequestContext& ctx) { return key_login(app, ctx); });
}

}  // namespace tessera::api
