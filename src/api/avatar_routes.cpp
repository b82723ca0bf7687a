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
  // Writing a row of up to 2 MiB may take a moment: off the I/O threads.
  auto updated = co_await app.querying([&] {
    return identity::change_avatar(app.store(), me, image, app.config().server.public_url, app.clock().now());
  });
  if (!updated) co_return fail(updated.error());
  co_return http::json_response(beast_http::status::ok, user_json(*updated));
}

HandlerResult delete_avatar(App& app, RequestContext& ctx) {
  CO_TRY(caller, authenticate_session(app, ctx));
  const identity::User& me = *caller.user;
  auto updated = co_await app.querying(
      [&] { return identity::remove_avatar(app.store(), me, app.clock().now()); });
  if (!updated) co_return fail(updated.error());
  co_return http::json_response(beast_http::status::ok, user_json(*updated));
}

Error no_avatar() { return Error::not_found("not_found", "This user has no avatar."); }

http::Response avatar_response(http::Response res, const std::string& etag) {
  res.set(beast_http::field::etag, etag);
  res.set(beast_http::field::cache_control, kCacheControl);
  res.set("X-Content-Type-Options", "nosniff");
  return res;
}

HandlerResult get_avatar(App& app, RequestContext& ctx) {
  std::string_view if_none_match = ctx.header(beast_http::field::if_none_match);
  if (!if_none_match.empty()) {
    // A client that holds the image usually still has the current one: the version alone tells.
    auto etag = co_await app.querying([&]() -> Result<std::optional<std::string>> {
      return identity::find_avatar_etag(app.store(), ctx.param("id"));
    });
    if (!etag) co_return fail(etag.error());
    if (!*etag) co_return fail(no_avatar());
    if (none_match_hits(if_none_match, **etag))
      co_return avatar_response(http::empty_response(beast_http::status::not_modified), **etag);
  }
  // Reading a row of up to 2 MiB may take a moment: off the I/O threads.
  auto found = co_await app.querying([&]() -> Result<std::optional<identity::Avatar>> {
    return identity::find_avatar(app.store(), ctx.param("id"));
  });
  if (!found) co_return fail(found.error());
  auto& avatar = *found;
  if (!avatar) co_return fail(no_avatar());
  // Checked again: the image may have changed since its version was read.
  if (none_match_hits(if_none_match, avatar->etag))
    co_return avatar_response(http::empty_response(beast_http::status::not_modified), avatar->etag);
  co_return avatar_response(http::text_response(beast_http::status::ok, std::move(avatar->bytes), avatar->type),
                            avatar->etag);
}

}  // namespace

void register_avatar_routes(http::Router& router, App& app) {
  using beast_http::verb;
  router.add(verb::put, "/v1/me/avatar",
             [&app](RequestContext& ctx) { return put_avatar(app, ctx); }, {.body_limit = identity::kMaxAvatarBytes});
  router.add(verb::delete_, "/v1/me/avatar",
             [&app](RequestContext& ctx) { return delete_avatar(app, ctx); });
  router.add(verb::get, "/v1/users/{id}/avatar",
             [&app](RequestContext& ctx) { return get_avatar(app, ctx); });
}

}  // namespace tessera::api
