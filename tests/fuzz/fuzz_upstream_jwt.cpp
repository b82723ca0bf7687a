// Upstream ID tokens: compact JWS splitting, header parsing, key choice and signature checks against a
// fixed key set, and JWKS parsing. The input is a token; when it holds a newline, the text before it is the
// token and the text after it a JWKS document, which is parsed and then used to verify that token.
#include <boost/json/parse.hpp>

#include <cstdint>
#include <string_view>

#include "crypto/upstream_jwt.hpp"

namespace {

// The public keys of RFC 7515 A.2 (RSA), A.3 (P-256) and RFC 8037 A.4 (Ed25519): the seed tokens verify.
constexpr std::string_view kJwks = R"({"keys":[
  {"kty":"RSA","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"},
  {"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
   "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
  {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]})";

const tessera::crypto::UpstreamKeySet& fixed_keys() {
  static const auto keys = *tessera::crypto::UpstreamKeySet::parse(boost::json::parse(kJwks));
  return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera::crypto;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)fixed_keys().verify(input);
  (void)jws_kid(input);

  size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  std::string_view token = input.substr(0, newline);
  boost::system::error_code ec;
  boost::json::value jwks = boost::json::parse(input.substr(newline + 1), ec);
  if (ec) return 0;
  auto keys = UpstreamKeySet::parse(jwks);
  if (!keys) return 0;
  (void)keys->verify(token);
  if (auto kid = jws_kid(token)) (void)keys->has_kid(*kid);
  return 0;
}
