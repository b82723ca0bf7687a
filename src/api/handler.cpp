#include "api/handler.hpp"

#include <boost/url/parse.hpp>
#include <charconv>

#include "crypto/random.hpp"

namespace tessera::api {

Result<PageRequest> parse_page(const http::RequestContext& ctx) {
  PageRequest page;
  auto url = boost::urls::parse_origin_form(ctx.request.target());
  if (!url) return fail(Error::bad_request("malformed_request", "The request target is not a valid URL."));
  for (auto param : url->params()) {
    if (param.key == "limit") {
      size_t n = 0;
      auto [end, ec] = std::from_chars(param.value.data(), param.value.data() + param.value.size(), n);
      if (ec != std::errc() || end != param.value.data() + param.value.size() || n < 1 || n > 1000)
        return fail(Error::validation({{"limit", "range", "must be a whole number from 1 to 1000"}}));
      page.limit = n;
    } else if (param.key == "cursor") {
      std::string decoded;
      if (!crypto::base64url_decode(param.value, decoded) || decoded.empty())
        return fail(Error::bad_request("invalid_cursor", "The cursor is not one this server returned."));
      page.after = std::move(decoded);
    }
  }
  return page;
}

std::string encode_cursor(std::string_view position) { return crypto::base64url_encode(position); }

std::optional<std::string> query_param(const http::RequestContext& ctx, std::string_view name) {
  auto url = boost::urls::parse_origin_form(ctx.request.target());
  if (!url) return std::nullopt;
  for (auto param : url->params())
    if (param.key == name) return std::string(param.value);
  return std::nullopt;
}

Result<std::optional<Timestamp>> optional_time_field(const std::optional<std::string>& text, const std::string& field) {
  if (!text) return std::optional<Timestamp>();
  Timestamp t;
  if (!parse_rfc3339(*text, t))
    return fail(Error::validation({{field, "format", "must be an RFC 3339 time such as 2027-01-01T00:00:00Z"}}));
  return std::optional<Timestamp>(t);
}

}  // namespace tessera::api
