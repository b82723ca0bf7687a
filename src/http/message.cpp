#include "http/message.hpp"

#include <boost/json/serialize.hpp>

namespace tessera::http {

Response json_response(beast_http::status status, const boost::json::value& body) {
  return text_response(status, boost::json::serialize(body), "application/json");
}

Response text_response(beast_http::status status, std::string body, std::string_view content_type) {
  Response res{status, 11};
  res.set(beast_http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response empty_response(beast_http::status status) {
  Response res{status, 11};
  res.prepare_payload();
  return res;
}

}  // namespace tessera::http
