// The OAuth 2.0 token endpoint's grants, and the JWT access tokens they issue:
// - client_credentials: an API key's id and secret -> an access token (+ refresh token);
// - refresh_token: rotates; the spent token may be replayed only within a short grace period
//   (concurrent retries), after which a replay revokes the whole family (RFC 6819 5.2.2.3).
//   Refresh tokens are self-contained and authenticated by a server key: issuing one writes nothing;
//   the store records only uses, revoked families and revoked subjects;
// - token exchange (RFC 8693): a session token -> an access token for its user.
// A requested scope may only narrow what the subject holds. Access tokens are ES256 JWTs with
// iss, sub, aud, exp, iat, jti, scope, project (and kind, client_id), verifiable offline with the JWKS.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "access/permission.hpp"
#include "core/bounded_cache.hpp"
#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "session/credentials.hpp"
#include "session/key_ring.hpp"

namespace tessera::store {
class Store;
struct Repositories;
}

namespace tessera::session {

struct TokenResponse {
  std::string access_token;
  int64_t expires_in = 0;  // seconds
  std::string refresh_token;
  int64_t refresh_expires_in = 0;
  std::string scope;
};

// A verified access token.
struct AccessToken {
  std::string jti;
  std::string project_id;
  SubjectKind kind = SubjectKind::api_key;
  std::string subject;  // the API key id or the user id
  access::PermissionSet scope;
  Timestamp issued_at;
  Timestamp expires_at;
};

// Who a grant is for, as the caller resolved it: the subject, the project and what it holds now.
struct GrantSubject {
  SubjectKind kind;
  std::string id;
  std::string project_id;
  access::PermissionSet holds;
};

class TokenService {
 public:
  TokenService(store::Store& store, const Clock& clock, const TokenConfig& config, std::string issuer, KeyRing& keys,
               size_t cache_size);

  const std::string& issuer() const { return issuer_; }
  const std::string& audience() const { return config_.audience; }

  // An access and a refresh token for a subject; `scope` (space-separated) may only narrow `holds`.
  Result<TokenResponse> grant(const GrantSubject& subject, const std::optional<std::string>& scope);
  // Rotation. `current` says what the token's subject holds now (nullopt: it is gone or suspended);
  // `client`, when the request authenticated an API key, must be the key the token was issued to.
  Result<TokenResponse> refresh(std::string_view refresh_token, const std::optional<std::string>& scope,
                                const std::optional<std::string>& client,
                                const std::function<std::optional<GrantSubject>(const RefreshToken&)>& current);

  // Signature, alg, iss, aud, exp and revocation. 401 invalid_token.
  Result<std::shared_ptr<const AccessToken>> verify(std::string_view jwt);
  // The refresh token's row if it is live (introspection).
  std::optional<RefreshToken> find_refresh(std::string_view token);

  // RFC 7009: an access token's jti is denied until it expires; a refresh token's family is revoked.
  // Tokens of other projects are left alone (and the answer is the same).
  void revoke(const std::string& project_id, std::string_view token);
  void sweep();

 private:
  Result<access::PermissionSet> narrow(const access::PermissionSet& holds, const std::optional<std::string>& scope);
  TokenResponse prepare(const GrantSubject& subject, const access::PermissionSet& scope, const std::string& family_id);
  std::string encode_refresh(const RefreshToken& token) const;
  std::optional<RefreshToken> decode_refresh(std::string_view token) const;

  store::Store& store_;
  const Clock& clock_;
  TokenConfig config_;
  std::string issuer_;
  KeyRing& keys_;
  std::string mac_key_;  // authenticates refresh tokens
  BoundedCache<AccessToken> verified_;  // by token hash: a token's signature is checked once
};

}  // namespace tessera::session
