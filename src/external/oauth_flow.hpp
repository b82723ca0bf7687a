// The authorization code flow with PKCE, state and nonce (docs/external.md, "The authorization code
// flow"): the URL that sends the browser to the provider, then the code turned into a verified profile.
// Nothing secret about a flow is stored: its PKCE verifier and nonce are derived from the state under
// the server key, and only the state's hash is kept.
#pragma once

#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "crypto/server_key.hpp"
#include "external/flow_store.hpp"
#include "external/provider.hpp"
#include "external/provider_client.hpp"
#include "external/provider_service.hpp"
#include "projects/project.hpp"

namespace tessera::store {
class Store;
}

namespace tessera::external {

struct FlowStart {
  FlowAction action = FlowAction::signup;
  std::optional<std::string> redirect_to;     // checked against the project's allow-list by start()
  std::optional<std::string> code_challenge;  // the application's own PKCE (S256)
};

struct FlowSettings {
  Micros flow_ttl;
  Micros clock_skew;
  std::string server_public_url;  // for the default redirect_uri
};


class OAuthFlows {
 public:
  OAuthFlows(store::Store& store, const Clock& clock, const crypto::ServerKey& key, ProviderClient& client,
             const ProviderService& providers, FlowSettings settings);

  // The provider's authorization URL for a new flow (blocking: may fetch the discovery document).
  Result<std::string> start(const projects::Project& project, const Provider& provider, const FlowStart& start);

  // Consumes the flow of `state`: 400 invalid_state when unknown, used, expired or another provider's.
  Result<OAuthFlow> take(const std::string& provider, const std::string& state);

  // Exchanges `code` at the token endpoint and returns the verified profile (blocking).
  Result<ExternalProfile> complete(const Provider& provider, const std::string& state, const std::string& code);

 private:
  std::string redirect_uri(const Provider& provider) const;
  // Derived from the state under the server key: the flow stores neither.
  std::string pkce_verifier(const std::string& state) const;
  std::string nonce_for(const std::string& state) const;
  Result<boost::json::object> exchange_code(const Provider& provider, const std::string& token_endpoint,
                                            bool secret_in_body, const std::string& state, const std::string& code);
  Result<ExternalProfile> oidc_profile(const Provider& provider, const OidcMetadata& metadata,
                                       const boost::json::object& tokens, const std::string& state);
  Result<ExternalProfile> github_profile(const Provider& provider, const boost::json::object& tokens);

  store::Store& store_;
  const Clock& clock_;
  const crypto::ServerKey& key_;
  ProviderClient& client_;
  const ProviderService& providers_;
  FlowSettings settings_;
};

}  // namespace tessera::external
