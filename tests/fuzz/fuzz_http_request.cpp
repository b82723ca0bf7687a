// Raw HTTP/1.1 requests: Beast's parser with the server's limits, then routing and query parsing.
#include <boost/beast/core/flat_buffer.hpp>
#include <cstdint>

#include "api/handler.hpp"
#include "http/router.hpp"

namespace {
tessera::http::Router& router() {
  using namespace tessera::http;
  static Router r = [] {
    Router x;
    auto none = [](RequestContext&) -> HandlerResult { co_return empty_response(beast_http::status::ok); };
    for (auto* p : {"/healthz", "/v1/me", "/v1/sessions", "/v1/auth/login"}) x.add(beast_http::verb::get, p, none);
    x.add(beast_http::verb::delete_, "/v1/sessions/{id}", none);
    x.add(beast_http::verb::put, "/v1/contexts/{id}/users/{user_id}", none);
    return x;
  }();
  return r;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera::http;
  beast_http::request_parser<beast_http::string_body> parser;
  parser.body_limit(1 << 20);
  parser.header_limit(16 << 10);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_header_done()) return 0;
  const Request& req = parser.get();
  RequestContext ctx{req, "fuzz", "127.0.0.1", {}};
  std::string_view target = req.target();
  auto match = router().match(req.method(), target.substr(0, target.find('?')), ctx);
  (void)match;
  (void)tessera::api::parse_page(ctx);
  (void)ctx.header("X-Tessera-Project");
  return 0;
}
