#include "external/id_token.hpp"

#include <boost/json.hpp>

namespace tessera::external {

namespace {

std::optional<int64_t> seconds(const boost::json::object& claims, std::string_view name) {
  auto* v = claims.if_contains(name);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() < (1ull << 62)) return static_cast<int64_t>(v->as_uint64());
  if (v->is_double() && v->as_double() > -1e18 && v->as_double() < 1e18) return static_cast<int64_t>(v->as_double());
  return INT64_MIN;  // present but not a number
}

std::optional<std::string> text(const boost::json::object& claims, std::string_view name) {
  auto* v = claims.if_contains(name);
  if (!v || !v->is_string() || v->as_string().empty()) return std::nullopt;
  return std::string(v->as_string());
}

}  // namespace

Error invalid_external_token(std::string internal) {
  Error e = Error::make(401, "invalid_external_token", "The identity provider's token was not accepted.");
  e.internal = std::move(internal);
  return e;
}

Status check_id_token(const boost::json::object& claims, const IdTokenExpectations& x) {
  std::string issuer = x.issuer;
  if (x.issuer_per_tenant) {
    auto tid = text(claims, "tid");
    auto at = issuer.find("/common/") != std::string::npos ? issuer.find("/common/")
              : issuer.find("/organizations/") != std::string::npos ? issuer.find("/organizations/")
                                                                       : issuer.find("/consumers/");
    if (tid && at != std::string::npos) {
      auto end = issuer.find('/', at + 1);
      issuer = issuer.substr(0, at + 1) + *tid + issuer.substr(end);
    }
  }
  if (text(claims, "iss") != issuer) return fail(invalid_external_token("iss is not " + issuer));

  auto* aud = claims.if_contains("aud");
  bool audience_ok = false;
  if (aud && aud->is_string()) {
    audience_ok = aud->as_string() == x.audience;
  } else if (aud && aud->is_array()) {
    for (auto& a : aud->as_array()) audience_ok = audience_ok || a == x.audience.c_str();
    // With several audiences, the party the token was issued to must be us (OIDC Core 3.1.3.7).
    if (audience_ok && aud->as_array().size() > 1 && text(claims, "azp") != x.audience)
      return fail(invalid_external_token("azp is not " + x.audience));
  }
  if (!audience_ok) return fail(invalid_external_token("aud does not contain " + x.audience));

  auto exp = seconds(claims, "exp");
  if (!exp || *exp == INT64_MIN) return fail(invalid_external_token("exp missing"));
  // Compared against now +- leeway: the token's numbers may be anywhere in int64 and must not overflow.
  if (*exp <= x.now - x.leeway) return fail(invalid_external_token("expired"));
  if (auto nbf = seconds(claims, "nbf"); nbf && (*nbf == INT64_MIN || *nbf > x.now + x.leeway))
    return fail(invalid_external_token("not valid yet (nbf)"));
  if (auto iat = seconds(claims, "iat"); iat && (*iat == INT64_MIN || *iat > x.now + x.leeway))
    return fail(invalid_external_token("issued in the future (iat)"));
  if (x.nonce && text(claims, "nonce") != *x.nonce) return fail(invalid_external_token("nonce does not match"));
  return {};
}

Result<ExternalProfile> profile_from_claims(const boost::json::object& claims) {
  ExternalProfile p;
  auto sub = text(claims, "sub");
  if (!sub || sub->size() > 255) return fail(invalid_external_token("sub missing or longer than 255 characters"));
  p.subject = *sub;
  p.email = text(claims, "email");
  if (auto* v = claims.if_contains("email_verified")) p.email_verified = *v == true || *v == "true";
  p.full_name = text(claims, "name");
  p.phone = text(claims, "phone_number");
  return p;
}

}  // namespace tessera::external
