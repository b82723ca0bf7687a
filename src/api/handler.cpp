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

// application/x-www-form-urlencoded: '+' is a space, %XX a byte.
std::optional<std::string> form_decode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%') {
      if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(in[i + 2])))
        return std::nullopt;
      out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::optional<FormParams> parse_form(std::string_view body) {
  FormParams params;
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto key = form_decode(pair.substr(0, eq));
    auto value = form_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!key || !value || !params.emplace(*key, *value).second) return std::nullopt;
  }
  return params;
}

Result<std::optional<Timestamp>> optional_time_field(const std::optional<std::string>& text, const std::string& field) {
  if (!text) return std::optional<Timestamp>();
  Timestamp t;
  if (!parse_rfc3339(*text, t))
    return fail(Error::validation({{field, "format", "must be an RFC 3339 time such as 2027-01-01T00:00:00Z"}}));
  return std::optional<Timestamp>(t);
}

}  // namespace tessera::api
