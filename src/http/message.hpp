// HTTP message types and the request context that handlers receive.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace tessera::http {

namespace beast_http = boost::beast::http;
using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;

struct RequestContext {
  const Request& request;
  std::string request_id;
  std::string client_ip;
  std::vector<std::pair<std::string_view, std::string>> params;  // from the route pattern, e.g. {id}

  std::string_view param(std::string_view name) const {
    for (auto& [k, v] : params)
      if (k == name) return v;
    return {};
  }
  std::string_view header(beast_http::field f) const {
    auto it = request.find(f);
    return it == request.end() ? std::string_view() : std::string_view(it->value());
  }
  std::string_view header(std::string_view name) const {
    auto it = request.find(name);
    return it == request.end() ? std::string_view() : std::string_view(it->value());
  }
};

using HandlerResult = boost::asio::awaitable<Result<Response>>;

Response json_response(beast_http::status status, const boost::json::value& body);
Response text_response(beast_http::status status, std::string body, std::string_view content_type);
Response empty_response(beast_http::status status);

}  // namespace tessera::http
