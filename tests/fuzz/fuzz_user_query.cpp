// The user filter language: query strings and the JSON `where` of bulk operations.
#include <boost/json/parse.hpp>
#include <cstdint>
#include <string>

#include "identity/user_query.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera;
  std::string text(reinterpret_cast<const char*>(data), size);
  if (auto query = identity::parse_user_query(text); query && query->after) (void)identity::encode_cursor(*query->after);
  boost::system::error_code ec;
  auto json = boost::json::parse(text, ec);
  if (!ec && json.is_object()) (void)identity::parse_user_filter(json.as_object());
  return 0;
}
