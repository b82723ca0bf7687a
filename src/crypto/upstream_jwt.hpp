// Verification of ID tokens signed by upstream identity providers (Google, Firebase, any OIDC issuer)
// with the public keys of their JSON Web Key Set.
//
// Unlike jwt.hpp (our own tokens, pinned to ES256) the algorithm here is the issuer's choice, so it is
// bound to the key instead: a token's "alg" must suit the key's type and curve, and equal the JWK's own
// "alg" when it names one. "none", HMAC and anything else are refused before a key is touched, which
// closes the "HS256 signed with the RSA public key" and "alg: none" confusions.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace tessera::crypto {

// Public keys of an upstream issuer, parsed from its JSON Web Key Set (RFC 7517/7518/8037).
// Immutable after parse; copies share the keys; verify() may run on many threads at once.
class UpstreamKeySet {
 public:
  // {"keys": [...]}. Usable keys: RSA (n, e; modulus 2048..8192 bits), EC P-256 and P-384 (x, y), OKP
  // Ed25519 (x). Skipped silently: keys with "use" other than "sig", other kty/crv, keys whose "alg" cannot
  // go with their type, malformed members; private members are ignored (never required). Error
  // (invalid_jwks, 502) only when the document is not an object with a "keys" array.
  static Result<UpstreamKeySet> parse(const boost::json::value& jwks);

  size_t size() const { return keys_.size(); }
  bool has_kid(std::string_view kid) const;

  // The claims (a JSON object) of a compact JWS signed with RS256, PS256, ES256, ES384 or EdDSA by a key
  // of this set. Key choice: the key whose kid equals the header's; without a kid, the one key of the
  // set that can verify the alg (none or several: refused). Says nothing about exp, iss or aud: see
  // check_registered_claims in jwt.hpp. Every failure: 401 invalid_external_token, the precise reason
  // in Error::internal.
  Result<boost::json::object> verify(std::string_view token) const;

  struct Key;  // one usable public key: the OpenSSL key, its type, kid and "alg" (upstream_jwt.cpp)

 private:
  std::vector<std::shared_ptr<const Key>> keys_;
};

// The "kid" of a compact JWS's header without verifying anything (nullopt when absent or malformed): lets a
// caller refetch a JWKS when an unknown key id appears.
std::optional<std::string> jws_kid(std::string_view token);

}  // namespace tessera::crypto
