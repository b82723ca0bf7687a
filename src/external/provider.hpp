// An identity provider of a project (docs/external.md): where users prove who they are when they sign
// in with an account elsewhere.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"

namespace tessera::external {

enum class ProviderKind {
  oidc,        // authorization code flow + ID token (OpenID Connect)
  github,      // authorization code flow + GitHub's user API (OAuth 2.0, not OIDC)
  jwt,         // an ID token posted to POST /v1/auth/external, verified against a JWKS
  verify_url,  // a token posted to POST /v1/auth/external, checked by the project's own service
};

std::string_view kind_name(ProviderKind kind);
std::optional<ProviderKind> kind_from(std::string_view name);
// The kinds whose sign-in goes through the browser redirect flow.
inline bool uses_redirect_flow(ProviderKind kind) { return kind == ProviderKind::oidc || kind == ProviderKind::github; }

// The fields of a provider that are not secret; which apply depends on the kind.
struct ProviderSettings {
  std::optional<std::string> issuer, tenant, client_id, redirect_uri;
  std::optional<std::string> authorization_endpoint, token_endpoint, api_url;  // github
  std::optional<std::string> jwks_uri, audience;                                // jwt
  std::optional<std::string> url;                                               // verify_url
  std::optional<std::string> response_mode;                                     // "form_post" (apple)
  std::vector<std::string> scopes;
  std::optional<boost::json::object> mapping;  // verify_url: field -> dotted path of the answer
  bool operator==(const ProviderSettings&) const = default;
};

struct Provider {
  std::string id;  // empty for providers of the config file
  std::string project_id;
  std::string name;
  ProviderKind kind = ProviderKind::oidc;
  std::optional<std::string> preset;
  bool enabled = true;
  bool from_config = false;
  ProviderSettings settings;
  // The client secret: sealed under the server key (API), or named by an environment variable or a
  // file (config). Never returned.
  std::optional<std::string> sealed_secret;
  std::optional<std::string> client_secret_env;
  std::optional<std::string> client_secret_file;
  Timestamp created_at;
  Timestamp updated_at;

  bool has_client_secret() const { return sealed_secret || client_secret_env || client_secret_file; }
};

// An account at a provider, linked to a user.
struct Identity {
  std::string project_id;
  std::string provider;
  std::string subject;
  std::string user_id;
  std::optional<std::string> email;
  Timestamp created_at;
};

// What a provider says about the person signing in.
struct ExternalProfile {
  std::string subject;
  std::optional<std::string> email;
  bool email_verified = false;
  std::optional<std::string> login, full_name, phone;
};

}  // namespace tessera::external

namespace tessera::external {
// The settings as a JSON object of their present fields (what the store keeps and the API shows).
boost::json::object settings_json(const ProviderSettings& settings);
ProviderSettings settings_from_json(const boost::json::object& json);
}  // namespace tessera::external
