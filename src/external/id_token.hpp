// Checks of an upstream ID token's claims once its signature is verified, and the profile they carry.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "external/provider.hpp"

namespace tessera::external {

struct IdTokenExpectations {
  std::string issuer;
  std::string audience;
  std::optional<std::string> nonce;  // required and compared when set
  int64_t now = 0;                   // Unix seconds
  int64_t leeway = 60;
  bool issuer_per_tenant = false;    // Microsoft's multi-tenant endpoints: "{tenantid}" is the token's tid
};

// iss, aud (equal or containing; azp must name the audience when there are several), exp (required),
// nbf, iat (not in the future), nonce. Every failure: 401 invalid_external_token, the check in `internal`.
Status check_id_token(const boost::json::object& claims, const IdTokenExpectations& expected);

// sub, email, email_verified (a boolean or "true"), name, phone_number. An empty sub: invalid_external_token.
Result<ExternalProfile> profile_from_claims(const boost::json::object& claims);

Error invalid_external_token(std::string internal);

}  // namespace tessera::external
