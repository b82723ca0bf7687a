// Calls to identity providers: JSON documents fetched and checked, discovery documents and JWKS cached
// (docs/external.md, "Outgoing calls"). Every call blocks: run them off the I/O threads.
#pragma once

#include <boost/json/value.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/http_client.hpp"
#include "crypto/upstream_jwt.hpp"

namespace tessera::external {

// What an OpenID provider's discovery document says (only what Tessera uses).
struct OidcMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::optional<std::string> userinfo_endpoint;
  std::string jwks_uri;
  bool client_secret_post_only = false;  // token_endpoint_auth_methods_supported lacks client_secret_basic
};

// 502 provider_unavailable; `internal` says what failed (logged, never sent).
Error provider_unavailable(std::string internal);

class ProviderClient {
 public:
  ProviderClient(const HttpClient& http, const Clock& clock, Micros cache_ttl, Micros refresh_interval);

  // The JSON answer of a 2xx; other statuses come back in `status` for the caller to judge. Transport
  // failures and answers that are not JSON: 502 provider_unavailable.
  struct JsonAnswer {
    long status = 0;
    boost::json::value body;
  };
  Result<JsonAnswer> call(const HttpRequest& request, std::string_view what) const;

  // `{issuer}/.well-known/openid-configuration`, cached; its issuer must equal `issuer`.
  Result<OidcMetadata> metadata(const std::string& issuer);
  // The key set of `jwks_uri`, cached; fetched again when stale, or when `token` names a key id the set
  // lacks (at most once per refresh interval per URL, so junk tokens cannot make Tessera hammer a provider).
  Result<std::shared_ptr<const crypto::UpstreamKeySet>> keys_for(const std::string& jwks_uri, std::string_view token);

  const HttpClient& http() const { return http_; }

 private:
  struct CachedKeys {
    std::shared_ptr<const crypto::UpstreamKeySet> keys;
    Timestamp fetched_at;
    Timestamp last_attempt;
  };
  struct CachedMetadata {
    OidcMetadata metadata;
    Timestamp fetched_at;
  };

  const HttpClient& http_;
  const Clock& clock_;
  Micros cache_ttl_;
  Micros refresh_interval_;
  std::mutex mutex_;
  std::map<std::string, CachedKeys> keys_;         // by jwks_uri; bounded by kMaxCached
  std::map<std::string, CachedMetadata> metadata_;  // by issuer
};

}  // namespace tessera::external
