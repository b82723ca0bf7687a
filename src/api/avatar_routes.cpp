// PUT and DELETE /v1/me/avatar (the user's session), GET /v1/users/{id}/avatar (anyone).
#include <memory>

#include "api/app.hpp"
#include "api/caller.hpp"
#include "api/handler.hpp"
#include "api/representations.hpp"
#include "api/routes.hpp"
#include "identity/avatar.hpp"

namespace tessera::api {

namespace beast_http = http::beast_http;
using http::HandlerResult;
using http::RequestContext;

namespace {

constexpr std::string_view kCacheControl = "public, max-age=3600";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// If-None-Match (RFC 9110 section 13.1.2): "*" or a list of entity tags, compared weakly.
bool none_match_hits(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view tag = trim(header.substr(0, comma));
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
  }
  return false;
}

HandlerResult put_avatar(App& app, RequestContext& ctx) {
  CO_TRY(caller, authenticate_session(app, ctx));
  const identity::User& me = *caller.user;
  std::string_view image = ctx.request.body();
  // Writing and syncing the file blocks: off the I/O threads.
  auto updated = co_await app.querying([&] {
    return identity::change_avatar(app.store(), app.avatars(), me, image, app.config().server.public_url, app.clock().now());
  });
  if (!updated) co_return fail(updated.error());
  app.users().forget(me.id);
  co_return http::json_response(beast_http::status::ok, user_json(*updated));
}

HandlerResult delete_avatar(App& app, RequestContext& ctx) {
  CO_TRY(caller, authenticate_session(app, ctx));
  const identity::User& me = *caller.user;
  auto updated = co_await app.querying(
      [&] { return identity::remove_avatar(app.store(), app.avatars(), me, app.clock().now()); });
  if (!updated) co_return fail(updated.error());
  app.users().forget(me.id);
  co_return http::json_response(beast_http::status::ok, user_json(*updated));
}

HandlerResult get_avatar(App& app, RequestContext& ctx) {
  // Reading the file may wait on the disk: off the I/O threads.
  auto found = co_await app.querying([&]() -> Result<std::optional<identity::Avatar>> {
    return identity::find_avatar(app.store(), app.avatars(), ctx.param("id"));
  });
  if (!found) co_return fail(found.error());
  auto& avatar = *found;
  if (!avatar) co_return fail(Error::not_found("not_found", "This user has no avatar."));
  bool unchanged = none_match_hits(ctx.header(beast_http::field::if_none_match), avatar->etag);
  http::Response res = unchanged ? http::empty_response(beast_http::status::not_modified)
                                 : http::text_response(beast_http::status::ok, std::move(avatar->bytes), avatar->type);
  res.set(beast_http::field::etag, avatar->etag);
  res.set(beast_http::field::cache_control, kCacheControl);
  res.set("X-Content-Type-Options", "nosniff");
  co_return res;
}

}  // namespace

void register_avatar_routes(http::Router& router, App& app) {
  using beast_http::verb;
  router.add(verb::put, "/v1/me/avatar",
             [&app](RequestContext& ctx) { return put_avatar(app, ctx); },
             identity::kMaxAvatarBytes);
  router.add(verb::delete_, "/v1/me/avatar",
             [&app](RequestContext& ctx) { return delete_avatar(app, ctx); });
  router.add(verb::get, "/v1/users/{id}/avatar",
             [&app](RequestContext& ctx) { return get_avatar(app, ctx); });
}

}  // namespace tessera::api
