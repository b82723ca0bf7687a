// ES256 JSON Web Tokens (RFC 7515/7519/7518) with OpenSSL 3: our signing keys, the verifier that
// accepts only ES256 from known key ids, and the registered-claim checks that callers apply after it.
//
// The verifier trusts nothing in the token's header but its key id: the algorithm is pinned to ES256,
// so "none", HS256 signed with our public key as the HMAC secret, or any other algorithm is refused
// before a key is touched.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace tessera::crypto {

// An EC P-256 key pair and its key id. Copies share the key; sign() may run on many threads at once.
class SigningKey {
 public:
  static SigningKey generate(std::string kid);
  // Unencrypted PEM (PKCS#8 or the older "EC PRIVATE KEY"); nullopt unless it is a P-256 private key.
  static std::optional<SigningKey> from_pem(std::string kid, std::string_view private_key_pem);

  const std::string& kid() const;
  std::string private_key_pem() const;  // PKCS#8
  // {"kty":"EC","crv":"P-256","x","y","kid","use":"sig","alg":"ES256"}: what the JWKS publishes.
  boost::json::object public_jwk() const;
  // A compact JWS: base64url(header).base64url(claims).base64url(R||S), header {"alg":"ES256","typ","kid"}
  // (typ "JWT" for access tokens; explicit types such as "license+jwt" keep token kinds apart, RFC 8725 3.11).
  std::string sign(const boost::json::object& claims, std::string_view typ = "JWT") const;

  struct State;  // the key, its prepared signing context and encoded header (jwt.cpp)

 private:
  explicit SigningKey(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
  friend class JwtVerifier;
};

// ES256 public keys by key id. Fill it, then share it read-only: verify() may run on many threads at
// once, add()/add_jwk() may not run concurrently with anything else.
class JwtVerifier {
 public:
  // A later key with the same kid replaces the earlier one.
  void add(const SigningKey& key);
  // Only {"kty":"EC","crv":"P-256"} keys with a kid; "alg", when present, must be "ES256" and "use" "sig".
  Result<void> add_jwk(const boost::json::object& jwk);

  // The claims of a well-formed ES256 token whose signature verifies under the key its "kid" names.
  // Says nothing about expiry, issuer or audience: see check_registered_claims.
  Result<boost::json::object> verify(std::string_view token) const;

  bool empty() const { return keys_.empty(); }

  struct PublicKey;  // the key and its prepared verification context (jwt.cpp)

 private:
  std::map<std::string, std::shared_ptr<const PublicKey>, std::less<>> keys_;
};

// exp is required and must be after now - leeway; nbf, when present, not after now + leeway; iss must
// equal `issuer`; aud must equal `audience` or, as an array, contain it. All failures: invalid_token.
Result<void> check_registered_claims(const boost::json::object& claims, int64_t now_unix_seconds,
                                     std::string_view issuer, std::string_view audience,
                                     int64_t leeway_seconds = 0);

// A JWS ECDSA signature (fixed-width big-endian R || S, RFC 7518 3.4) as the DER SEQUENCE OpenSSL verifies.
std::optional<std::string> ecdsa_raw_to_der(std::string_view raw);

}  // namespace tessera::crypto
