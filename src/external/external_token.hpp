// Tokens posted to POST /v1/auth/external: an ID token verified against the provider's JWKS (kind
// jwt), or any token checked by the project's own identity service (kind verify_url).
#pragma once

#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "external/provider.hpp"
#include "external/provider_client.hpp"
#include "external/provider_service.hpp"

namespace tessera::external {

class ExternalTokens {
 public:
  ExternalTokens(ProviderClient& client, const ProviderService& providers, const Clock& clock, Micros clock_skew);

  // Blocking. 401 invalid_external_token when refused; 502 provider_unavailable when the provider
  // cannot answer; 422 naming `provider` for a provider of the redirect flow.
  Result<ExternalProfile> verify(const std::string& project_id, const Provider& provider, const std::string& token);

 private:
  Result<ExternalProfile> verify_jwt(const Provider& provider, const std::string& token);
  Result<ExternalProfile> verify_with_url(const std::string& project_id, const Provider& provider, const std::string& token);

  ProviderClient& client_;
  const ProviderService& providers_;
  const Clock& clock_;
  Micros clock_skew_;
};

// The profile in a verify_url answer; `mapping` renames fields to dotted paths ({"id": "user.uid"}).
Result<ExternalProfile> profile_from_answer(const boost::json::object& answer, const std::optional<boost::json::object>& mapping);

}  // namespace tessera::external
