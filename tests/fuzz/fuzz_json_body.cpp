// Request bodies: strict JSON parsing, typed field reading, sign-up and profile validation, merge-patch.
#include <cstdint>

#include "api/json_body.hpp"
#include "identity/user_service.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera;
  http::Request req{http::beast_http::verb::post, "/v1/auth/signup", 11};
  req.set(http::beast_http::field::content_type, "application/json");
  req.body().assign(reinterpret_cast<const char*>(data), size);
  auto body = api::parse_json_object(req);
  if (!body) return 0;
  api::JsonFields f(*body);
  identity::SignUp in;
  in.email = f.string("email");
  in.login = f.string("login");
  in.phone = f.string("phone");
  in.password = f.string("password");
  in.full_name = f.string("full_name");
  in.tags = f.string_array("tags");
  in.data = f.object("data");
  auto patch = f.nullable_string("external_id");
  (void)patch;
  (void)f.finish();
  (void)identity::validate_sign_up(in);
  boost::json::object target = in.data.value_or(boost::json::object{});
  identity::merge_patch(target, *body);
  return 0;
}
